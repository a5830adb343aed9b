// Parameter schemas of the legacy routes (zod): values arrive as strings from a query string,
// an urlencoded body or multipart fields, and leave as typed values or a clear message.
import { z } from "zod";
import { parseId } from "../lib/ids";
import { SpooledFile } from "./files";

/** A required id parameter: a positive integer that fits in 53 bits. */
export const id = (name: string) =>
  z
    .unknown()
    .refine((value) => value !== undefined && value !== "", { message: `${name} is required` })
    .transform((value, context) => {
      const parsed = parseId(value);
      if (parsed === undefined) {
        context.addIssue({
          code: "custom",
          message: `${name} must be a positive integer id, got ${JSON.stringify(String(value).slice(0, 32))}`,
        });
        return z.NEVER;
      }
      return parsed;
    });

/** An optional id parameter: absent or empty means not given. */
export const optionalId = (name: string) => z.preprocess((value) => (value === "" ? undefined : value), id(name).optional());

/** A required text parameter; its length and content rules live with the data (one source). */
export const text = (name: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be text`) });

/** Turns the first problem zod found into a sentence for `status_msg`. */
export function describeProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue?.message ?? "invalid parameters";
}

/** A file field received by the multipart parser (see files.ts). */
export const file = (name: string) =>
  z.custom<SpooledFile>((value) => value instanceof SpooledFile, { message: `${name} must be a file (multipart/form-data)` });

/** A value of 10^11 or more is milliseconds, a smaller one seconds (the API's rule). */
export const MILLISECONDS_THRESHOLD = 1e11;
const LATEST_SUPPORTED_MS = Date.UTC(9999, 11, 31);

/** `latest_time`: absent or 0 means now; otherwise a non-negative integer in s or ms. */
export const latestTime = z
  .unknown()
  .optional()
  .transform((value, context): { ms: number; unit: "s" | "ms"; given: boolean } => {
    if (value === undefined || value === "" || value === "0") return { ms: Date.now(), unit: "ms", given: false };
    const text = String(value).trim();
    if (!/^\d{1,16}$/.test(text)) {
      context.addIssue({
        code: "custom",
        message: `latest_time must be a timestamp in seconds or milliseconds, got ${JSON.stringify(text.slice(0, 32))}`,
      });
      return z.NEVER;
    }
    const number = Number(text);
    const unit = number >= MILLISECONDS_THRESHOLD ? "ms" : "s";
    const ms = unit === "ms" ? number : number * 1000;
    if (ms > LATEST_SUPPORTED_MS) {
      context.addIssue({ code: "custom", message: "latest_time is too far in the future" });
      return z.NEVER;
    }
    return { ms, unit, given: true };
  });

/** `action_type`: one of the listed codes, mapped to a name. */
export const actionType = <Names extends string>(name: string, codes: Record<string, Names>) =>
  z
    .unknown()
    .optional()
    .transform((value, context): Names => {
      const action = codes[String(value ?? "")];
      if (action === undefined) {
        const allowed = Object.entries(codes)
          .map(([code, meaning]) => `${code} (${meaning})`)
          .join(" or ");
        context.addIssue({
          code: "custom",
          message: value === undefined || value === "" ? `${name} is required` : `${name} must be ${allowed}`,
        });
        return z.NEVER;
      }
      return action;
    });

/** `pre_msg_time`: absent or 0 means from the start; otherwise milliseconds since the epoch. */
export const preMessageTime = z
  .unknown()
  .optional()
  .transform((value, context): number | null => {
    if (value === undefined || value === "" || value === "0") return null;
    const text = String(value).trim();
    const ms = Number(text);
    if (!/^\d{1,16}$/.test(text) || ms > LATEST_SUPPORTED_MS) {
      context.addIssue({
        code: "custom",
        message: `pre_msg_time must be a time in milliseconds, got ${JSON.stringify(text.slice(0, 32))}`,
      });
      return z.NEVER;
    }
    return ms;
  });
