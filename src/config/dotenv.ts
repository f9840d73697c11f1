// .env files as Socket Rush (godotenv), Sockudo (dotenvy) and Soketi (dotenv) read them: NAME=value
// lines, `export ` allowed, # comments, single or double quotes (double quotes expand \n). A value
// already in the real environment wins over the file's: the file only fills gaps.

/** Parses .env text; a line that is not NAME=value is an error naming the line. */
export function parseDotenv(text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`${where}:${i + 1}: expected NAME=value, got "${line}"`);
    out[m[1]!] = unquote(m[2]!);
  }
  return out;
}

function unquote(raw: string): string {
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    const end = raw.indexOf(quote, 1);
    if (end > 0) {
      const inner = raw.slice(1, end);
      return quote === '"' ? inner.replace(/\\n/g, "\n").replace(/\\"/g, '"') : inner;
    }
  }
  // Unquoted: a # after whitespace starts a comment (`SSL_ENABLED=false # note`).
  return raw.replace(/\s+#.*$/, "").trim();
}
