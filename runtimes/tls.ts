// TLS settings as every runtime needs them (docs/operating.md, TLS): the PEM files read at start and again
// on SIGHUP, with an error that names the setting when one is missing or unreadable.
import type { Config } from "../src/config/load.ts";

export interface TlsFiles {
  cert: string;
  key: string;
  ca?: string;
  passphrase?: string;
}

export function readTls(config: Config, readFile: (path: string) => string): TlsFiles {
  if (!config.sslCertPath || !config.sslKeyPath) throw new Error("SSL_ENABLED needs SSL_CERT_PATH and SSL_KEY_PATH (--ssl-cert-path, --ssl-key-path)");
  const read = (setting: string, path: string) => {
    try {
      return readFile(path);
    } catch (error) {
      throw new Error(`${setting} ${path}: ${(error as Error).message}`);
    }
  };
  const files: TlsFiles = { cert: read("SSL_CERT_PATH", config.sslCertPath), key: read("SSL_KEY_PATH", config.sslKeyPath) };
  if (config.sslCaPath) files.ca = read("SSL_CA_PATH", config.sslCaPath);
  if (config.sslPassphrase) files.passphrase = config.sslPassphrase;
  return files;
}
