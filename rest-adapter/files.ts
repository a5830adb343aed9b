// Files sent to legacy routes (publish/action's `data`): received onto local disk while the
// multipart body streams in, forwarded to the gateway as a GraphQL multipart request, and
// removed when the answer has been sent.
import fs from "node:fs";
import type { OutgoingFile } from "../framework/uploads";

export class SpooledFile {
  constructor(
    readonly file: string,
    readonly size: number,
    readonly filename: string,
    readonly mimetype: string,
  ) {}

  toOutgoing(path: string): OutgoingFile {
    return { path, filename: this.filename || "upload", mimetype: this.mimetype, stream: () => fs.createReadStream(this.file) };
  }

  remove(): Promise<void> {
    return fs.promises.rm(this.file, { force: true });
  }
}

/** Splits top-level SpooledFile variables out of the variables, as files for a multipart request. */
export function extractFiles(variables: Record<string, unknown>): { variables: Record<string, unknown>; files: OutgoingFile[] } {
  const files: OutgoingFile[] = [];
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(variables)) {
    if (value instanceof SpooledFile) {
      files.push(value.toOutgoing(`variables.${key}`));
      rest[key] = null;
    } else rest[key] = value;
  }
  return { variables: rest, files };
}
