// Real media for tests, made at test time with ffmpeg's lavfi sources.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { resolveMediaTool } from "../media/tools";

/** The ffmpeg the stack runs (FFMPEG_PATH, else the system's, else the bundled one). */
const FFMPEG = resolveMediaTool("ffmpeg", { ffmpegPath: process.env.FFMPEG_PATH }).path;

/** Runs ffmpeg quietly, overwriting its output. */
const ffmpeg = (...args: string[]) => execFileSync(FFMPEG, ["-loglevel", "error", "-y", ...args]);

/** An input from one of ffmpeg's generated sources (`testsrc=…`, `sine=…`). */
const generated = (source: string) => ["-f", "lavfi", "-i", source];

export const mediaDir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-media-"));

/** A short H.264/AAC MP4 with a colour test pattern. */
export function makeVideo(name: string, options: { seconds?: number; width?: number; height?: number } = {}): string {
  const file = path.join(mediaDir, name);
  const { seconds = 1, width = 320, height = 240 } = options;
  ffmpeg(
    ...generated(`testsrc=duration=${seconds}:size=${width}x${height}:rate=10`),
    ...generated(`sine=duration=${seconds}`),
    "-shortest",
    "-pix_fmt",
    "yuv420p",
    "-c:v",
    "libx264",
    "-c:a",
    "aac",
    "-movflags",
    "+faststart",
    file,
  );
  return file;
}

/** A short VP8 WebM (the Matroska family), without sound. */
export function makeWebm(name: string, options: { seconds?: number } = {}): string {
  const file = path.join(mediaDir, name);
  const { seconds = 1 } = options;
  ffmpeg(
    ...generated(`testsrc=duration=${seconds}:size=320x240:rate=10`),
    "-pix_fmt",
    "yuv420p",
    "-c:v",
    "libvpx",
    "-deadline",
    "realtime",
    "-f",
    "webm",
    file,
  );
  return file;
}

/** A PNG still image. */
export function makeImage(name: string): string {
  const file = path.join(mediaDir, name);
  // Forced to PNG whatever the name says: the test names it .mp4 on purpose.
  ffmpeg(...generated("testsrc=size=64x48"), "-frames:v", "1", "-f", "image2", "-c:v", "png", file);
  return file;
}

export function makeTextFile(name: string): string {
  const file = path.join(mediaDir, name);
  fs.writeFileSync(file, "this is not a video\n".repeat(100));
  return file;
}

export function makeEmptyFile(name: string): string {
  const file = path.join(mediaDir, name);
  fs.writeFileSync(file, "");
  return file;
}

export function removeMedia(): void {
  fs.rmSync(mediaDir, { recursive: true, force: true });
}

/** One second of a busy UHD test pattern, encoded once: the unit every keyframe-stripped file repeats. */
let uhdSecond: string | undefined;

/**
 * An H.264 MP4 of `seconds` UHD seconds with its keyframes (IDR slices) stripped: ffprobe takes it
 * for a video, and no frame of it can ever be decoded, so a decoder that is not stopped decodes
 * (and refuses) every one of its 30 frames a second. Made cheaply: the encoded second is
 * repeated without re-encoding, then filtered.
 */
export function makeKeyframeStrippedVideo(name: string, seconds: number): string {
  if (!uhdSecond) {
    uhdSecond = path.join(mediaDir, "uhd-second.mp4");
    ffmpeg(
      ...generated("testsrc=duration=1:size=3840x2160:rate=30"),
      "-pix_fmt",
      "yuv420p",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      uhdSecond,
    );
  }
  const repeated = path.join(mediaDir, `repeated-${name}`);
  ffmpeg("-stream_loop", String(seconds - 1), "-i", uhdSecond, "-c", "copy", repeated);
  const file = path.join(mediaDir, name);
  ffmpeg("-i", repeated, "-c", "copy", "-bsf:v", "filter_units=remove_types=5", "-movflags", "+faststart", file);
  fs.rmSync(repeated);
  return file;
}
