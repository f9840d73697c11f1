// Base64url of UTF-8 text (RFC 4648 §5, unpadded): web-standard btoa/atob work on bytes as
// Latin-1 characters, so text goes through TextEncoder/TextDecoder around them.

/** Text as base64url, without padding (safe in cookies, URLs and NATS key tokens). */
export function encodeBase64Url(text: string): string {
  let binary = "";
  for (const b of new TextEncoder().encode(text)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The text encoded in `encoded`; undefined when it is not base64url of UTF-8 (forged or cut short). */
export function decodeBase64Url(encoded: string): string | undefined {
  let binary: string;
  try {
    binary = atob(encoded.replace(/-/g, "+").replace(/_/g, "/"));
  } catch {
    return undefined; // atob's only failure: not base64 at all, which the caller refuses
  }
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(binary, (ch) => ch.charCodeAt(0)));
  } catch {
    return undefined; // decodes to bytes that are not UTF-8 text
  }
}
