// Validation of user-supplied text, counted in Unicode code points as the API promises.
import { badInput } from "./errors";

// C0/C1 control characters other than tab and newlines have no place in names or messages.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/u;

export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length += 1;
  return length;
}

/** Checks a text field and returns it; throws BAD_USER_INPUT naming the field otherwise. */
export function checkText(value: string, field: string, limits: { min?: number; max: number; singleLine?: boolean }): string {
  const min = limits.min ?? 1;
  const length = codePointLength(value);
  if (length === 0 || value.trim() === "") throw badInput(`${field} must not be empty`);
  if (length < min) throw badInput(`${field} is too short (at least ${min} characters)`);
  if (length > limits.max) throw badInput(`${field} is too long (at most ${limits.max} characters, got ${length})`);
  if (CONTROL.test(value) || (limits.singleLine && /[\r\n\t]/.test(value))) throw badInput(`${field} contains control characters`);
  return value;
}

// Invisible format characters: bidi overrides and isolates (which make "resu" read as "user"),
// zero-width joiners and spaces, the BOM. Names that others read must not hide anything.
const INVISIBLE = /\p{Cf}/u;

/**
 * Zero-width joiners inside an emoji sequence (the family 👨‍👩‍👧, a skin tone's variant) and the
 * tag characters of a subdivision flag (🏴 + tags + cancel tag) are format characters too, but
 * hide nothing: what they join is visible. Only those are let through in published text.
 */
const EMOJI_FORMAT_CHARACTERS =
  /(?<=\p{Extended_Pictographic}(?:[\u{1F3FB}-\u{1F3FF}]|\uFE0F)?)\u200D(?=\p{Extended_Pictographic})|(?<=\u{1F3F4}[\u{E0020}-\u{E007E}]*)[\u{E0020}-\u{E007F}]/gu;

/**
 * Text that users publish for others to read (titles, comments, messages): checked like any
 * text, and refused when it holds invisible format characters (bidi overrides that reorder what
 * is read, zero-width characters that split a listed word past the sensitive-word filter), as
 * names are; joiners inside emoji excepted.
 */
export function checkUserText(value: string, field: string, limits: { min?: number; max: number }): string {
  if (INVISIBLE.test(value.replace(EMOJI_FORMAT_CHARACTERS, ""))) {
    throw badInput(`${field} contains invisible or direction-changing characters`);
  }
  return checkText(value, field, limits);
}

/**
 * A name as it is stored and compared: NFKC-normalised (so look-alike compatibility forms such
 * as full-width "ｕｓｅｒ" are the same name as "user"), then checked like any single-line text,
 * with invisible format characters refused.
 */
export function normalizeName(value: string, field: string, limits: { max: number }): string {
  const normalized = value.normalize("NFKC");
  if (INVISIBLE.test(normalized)) throw badInput(`${field} contains invisible or direction-changing characters`);
  return checkText(normalized, field, { max: limits.max, singleLine: true });
}
