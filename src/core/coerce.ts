import { z } from "zod";

// Settings arrive as strings from flags and environment variables, and as strings, numbers or
// booleans from config files and app-store rows; these preprocessors fold them into the schema's
// type once, for server settings (src/config/schema.ts) and app settings (app.ts) alike.

/** A number given as a string ("42") is converted; an empty string stays invalid. */
export const num = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === "string" && v.trim() !== "" ? Number(v) : v), schema);

/**
 * true/1/yes/on and false/0/no/off in any case, and 1/0 as numbers. An empty string is false:
 * `ENABLE_X=` or an empty cell switches a setting off rather than on.
 */
export const bool = z.preprocess((v) => {
  if (typeof v === "string") {
    const s = v.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(s)) return true;
    if (["false", "0", "no", "off", ""].includes(s)) return false;
  }
  if (v === 1) return true;
  if (v === 0) return false;
  return v;
}, z.boolean());
