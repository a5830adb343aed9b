// What happens to an uploaded video before it can be published: probe it (a video stream with
// a positive duration, within the configured limits), cut the JPEG cover from its first keyframe
// (or the first frame that decodes among its first MEDIA_COVER_MAX_PACKETS packets; see
// grabCover), and store the cover beside the video. A rejection (including a file that made a tool run past
// its deadline) removes the stored video; a tool that cannot start at all is our failure, thrown
// for the job to be retried.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../platform/config";
import { coverKey, videoKey, type MediaStorage } from "./storage";
import { grabCover, MediaToolFailedError, MediaToolTimeoutError, probe, UnacceptedFormatError, type ProbeResult } from "./probe";

// Containers and codecs ffprobe reports for pictures, which have a "video stream" too.
const IMAGE_FORMATS = /(^|,)(image2|[a-z0-9]+_pipe|gif|webp)(,|$)/;
const IMAGE_CODECS = new Set(["png", "gif", "bmp", "webp", "tiff", "jpegls", "jpeg2000", "svg"]);

function isStillImage(info: { formatName: string; videoCodec: string }): boolean {
  return IMAGE_FORMATS.test(info.formatName) || IMAGE_CODECS.has(info.videoCodec);
}

const NOT_ACCEPTED_MESSAGE = "the file is not a playable video (not an MP4, MOV, 3GP, M4V, Matroska or WebM file)";

/** A refusal: its message is said to the uploader; what a tool printed goes only to our log. */
export class MediaRejectedError extends Error {
  override name = "MediaRejectedError";
  constructor(
    message: string,
    /** What ffprobe or ffmpeg said about the file (names our paths and addresses; never sent to clients). */
    readonly toolOutput?: string,
  ) {
    super(message);
  }
}

/** Said when ffmpeg decodes no frame from a file ffprobe took for a video. */
export const NO_FRAME_MESSAGE = "the file is not a playable video (no frame could be decoded)";

export interface ProcessedMedia {
  playKey: string;
  coverKey: string;
  durationMs: number;
  width: number;
  height: number;
}

/** Said to the uploader when ffprobe or ffmpeg had to be killed: the same file would hang them again. */
export const TOO_SLOW_MESSAGE = "the file could not be processed in time";

export async function processUploadedVideo(storage: MediaStorage, config: Pick<Config, "media">, videoId: number): Promise<ProcessedMedia> {
  const work = await fs.promises.mkdtemp(path.join(config.media.tmpDir, `media-${videoId}-`));
  const source = path.join(work, `${randomUUID()}.video`);
  const cover = path.join(work, "cover.jpg");
  const playKey = videoKey(videoId);
  const reject = async (problem: string, toolOutput?: string): Promise<never> => {
    await storage.remove(playKey);
    throw new MediaRejectedError(problem, toolOutput);
  };
  try {
    await storage.downloadTo(playKey, source);
    let info: ProbeResult | undefined;
    try {
      info = await probe(source, config.media);
    } catch (error) {
      if (error instanceof MediaToolTimeoutError) return await reject(TOO_SLOW_MESSAGE, error.message);
      if (error instanceof UnacceptedFormatError) return await reject(NOT_ACCEPTED_MESSAGE, error.message);
      throw error;
    }
    const limits = config.media;
    let problem: string | undefined;
    if (!info) problem = "the file is not a playable video (no video stream found)";
    else if (isStillImage(info)) problem = "the file is not a playable video (it is an image)";
    else if (!(info.durationSeconds > 0)) problem = "the video has no duration";
    else if (info.durationSeconds > limits.maxDurationSeconds) problem = `the video is longer than ${limits.maxDurationSeconds} s`;
    else if (info.width > limits.maxWidth || info.height > limits.maxHeight) {
      problem = `the video is larger than ${limits.maxWidth}x${limits.maxHeight}`;
    }
    if (problem || !info) return await reject(problem ?? "the file is not a playable video");
    try {
      await grabCover(source, info.demuxer, cover, config.media);
    } catch (error) {
      if (error instanceof MediaToolTimeoutError) return await reject(TOO_SLOW_MESSAGE, error.message);
      if (error instanceof MediaToolFailedError) return await reject(NO_FRAME_MESSAGE, error.output);
      throw error;
    }
    const key = coverKey(videoId);
    await storage.putFile(key, cover, "image/jpeg");
    return { playKey, coverKey: key, durationMs: Math.round(info.durationSeconds * 1000), width: info.width, height: info.height };
  } finally {
    await fs.promises.rm(work, { recursive: true, force: true });
  }
}
