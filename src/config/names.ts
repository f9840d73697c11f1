// How one setting is spelled as a flag, an environment variable and a file key.

export const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const upperSnake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
export const camelFromKebab = (s: string) => s.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** " (did you mean enableClientMessages?)" for a near miss, else "". */
export function suggestion(name: string, candidates: readonly string[]): string {
  const distance = (a: string, b: string) => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row = next;
    }
    return row[b.length]!;
  };
  const lower = name.toLowerCase();
  const best = candidates.map((c) => ({ c, d: distance(lower, c.toLowerCase()) })).sort((x, y) => x.d - y.d)[0];
  return best && best.d <= Math.max(2, Math.floor(name.length / 5)) ? ` (did you mean ${best.c}?)` : "";
}

