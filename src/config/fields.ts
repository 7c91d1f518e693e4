import { z } from "zod";

/**
 * Field parsers for src/config.ts: each reads one environment string and
 * says, when it is wrong, what it accepts. Empty means unset.
 */

export const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const s = v.trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(s)) return true;
      if (["0", "false", "no", "off"].includes(s)) return false;
      ctx.addIssue({ code: "custom", message: "accepts true or false" });
      return z.NEVER;
    });

export const int = (fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `accepts a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

export const num = (min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return undefined;
      const n = Number(v);
      if (!Number.isFinite(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `accepts a number from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

export const str = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

export const url = (protocols: string[]) =>
  str().refine(
    (v) => {
      if (v === undefined) return true;
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `accepts a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}` },
  );

export const oneOf = <T extends string>(values: readonly T[]) =>
  str().refine((v) => v === undefined || (values as readonly string[]).includes(v.toLowerCase()), {
    message: `accepts ${values.join(" or ")}`,
  });

/** A whole number from 1 up, or "auto" (Discord's recommendation). */
export const shardCount = () =>
  str().transform((v, ctx) => {
    if (v === undefined || v.toLowerCase() === "auto") return "auto" as const;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 100_000) {
      ctx.addIssue({ code: "custom", message: "accepts auto or a whole number from 1 to 100000" });
      return z.NEVER;
    }
    return n;
  });

/** A comma-separated setting as its items; empty or unset: none. */
export function list(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}
