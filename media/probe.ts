// The only module that runs ffprobe/ffmpeg (through fluent-ffmpeg, unmaintained upstream, so it
// stays behind these two functions). Binaries come from npm packages unless FFMPEG_PATH or
// FFPROBE_PATH point elsewhere (e.g. Debian's ffmpeg).
import ffmpeg from "fluent-ffmpeg";
import type { Config } from "../platform/config";

export interface ProbeResult {
  formatName: string;
  durationSeconds: number;
  width: number;
  height: number;
  videoCodec: string;
}

export function configureMediaBinaries(config: Pick<Config, "media">): void {
  ffmpeg.setFfmpegPath(config.media.ffmpegPath ?? (require("@ffmpeg-installer/ffmpeg") as { path: string }).path);

  ffmpeg.setFfprobePath(config.media.ffprobePath ?? (require("@ffprobe-installer/ffprobe") as { path: string }).path);
}

/** Reads a media file's container and first video stream; undefined fields when absent. */
export function probe(file: string): Promise<ProbeResult | undefined> {
  return new Promise((resolve) => {
    ffmpeg.ffprobe(file, (error, data) => {
      if (error || !data) return resolve(undefined);
      const video = data.streams.find((stream) => stream.codec_type === "video" && stream.width && stream.height);
      if (!video) return resolve(undefined);
      const duration = Number(data.format.duration ?? video.duration);
      resolve({
        formatName: String(data.format.format_name ?? ""),
        durationSeconds: Number.isFinite(duration) ? duration : 0,
        width: Number(video.width),
        height: Number(video.height),
        videoCodec: String(video.codec_name ?? ""),
      });
    });
  });
}

/** Writes the first video frame of `file` as a JPEG. */
export function grabFirstFrame(file: string, jpeg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    ffmpeg(file)
      .outputOptions(["-frames:v 1", "-f image2", "-c:v mjpeg", "-q:v 3"])
      .output(jpeg)
      .on("end", () => resolve())
      .on("error", (error: Error) => reject(error))
      .run();
  });
}
