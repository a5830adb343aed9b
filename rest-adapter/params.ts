// Parameter schemas of the legacy routes (zod): values arrive as strings from a query string,
// an urlencoded body or multipart fields, and leave as typed values or a clear message.
import { z } from "zod";
import { parseId } from "../common/ids";

/** A required id parameter: a positive integer that fits in 53 bits. */
export const id = (name: string) =>
  z
    .unknown()
    .refine((value) => value !== undefined && value !== "", { message: `${name} is required` })
    .transform((value, context) => {
      const parsed = parseId(value);
      if (parsed === undefined) {
        context.addIssue({ code: "custom", message: `${name} must be a positive integer id, got ${JSON.stringify(String(value).slice(0, 32))}` });
        return z.NEVER;
      }
      return parsed;
    });

/** An optional id parameter: absent or empty means not given. */
export const optionalId = (name: string) =>
  z.preprocess((value) => (value === "" ? undefined : value), id(name).optional());

/** A required text parameter; its length and content rules live with the data (one source). */
export const text = (name: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `${name} is required` : `${name} must be text`) });

/** Turns the first problem zod found into a sentence for `status_msg`. */
export function describeProblem(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue?.message ?? "invalid parameters";
}
