// Receives an upload stream onto local disk, enforcing the size limit while it streams, so a
// file is never held whole in memory and an oversized one is cut off early; hashes it on the
// way (publishing recognises a file it has just been sent).
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { badInput } from "../lib/errors";

/** The refusal of a file over the upload limit, wherever the limit is hit. */
export const fileTooLarge = (maxBytes: number) => badInput(`the video file is too large (at most ${maxBytes} bytes)`);

export interface SpooledUpload {
  file: string;
  size: number;
  /** SHA-256 of the file's bytes, hex. */
  sha256: string;
}

export async function spoolToFile(source: Readable, options: { dir: string; maxBytes: number }): Promise<SpooledUpload> {
  const file = path.join(options.dir, `upload-${randomUUID()}`);
  const hash = createHash("sha256");
  let size = 0;
  // Past the limit, chunks are dropped rather than failing the stream: the rest of the request
  // is still read to its end, so the parser upstream is never left stalled mid-body.
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > options.maxBytes) return callback();
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(source, limiter, fs.createWriteStream(file));
  } catch (error) {
    await fs.promises.rm(file, { force: true });
    throw error;
  }
  if (size > options.maxBytes) {
    await fs.promises.rm(file, { force: true });
    throw fileTooLarge(options.maxBytes);
  }
  if (size === 0) {
    await fs.promises.rm(file, { force: true });
    throw badInput("the video file is empty");
  }
  return { file, size, sha256: hash.digest("hex") };
}
