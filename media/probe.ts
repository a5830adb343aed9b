// The only module that runs ffprobe and ffmpeg, on files that come from strangers. Each run is
// a child process with a deadline (then SIGKILL, with anything it started), one thread, an
// environment holding only PATH (no secret of ours reaches it), and input read only from a
// local file in a container we accept, so a playlist or concat file posing as a video is
// refused instead of followed. Which binaries run is tools.ts's call (the system's first).
//
// fluent-ffmpeg drove these tools before; it spawns them with the whole process environment
// and has no deadline or kill of its own, and both matter more here than its builder API.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../platform/config";
import { resolveMediaTool } from "./tools";

type MediaConfig = Pick<Config["media"], "ffmpegPath" | "ffprobePath" | "toolTimeoutMs">;
type CoverConfig = MediaConfig & Pick<Config["media"], "coverMaxPackets">;

/**
 * Demuxers we accept: ffmpeg's `mov` (MP4, MOV, 3GP, M4V and their kin) and `matroska`
 * (Matroska and WebM), by every name each reports itself with.
 */
const ACCEPTED_DEMUXERS = ["mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm"];
const FORMAT_WHITELIST = ACCEPTED_DEMUXERS.join(",");

/** The options every run gets before its input: local files only, accepted containers only, one thread. */
const INPUT_OPTIONS = ["-threads", "1", "-protocol_whitelist", "file", "-format_whitelist", FORMAT_WHITELIST];

/**
 * The container of the first packets we copy out of an upload for the bounded fallback: FFmpeg's
 * own NUT stores any codec it can decode, so the copy never refuses a stream the original held.
 */
const HEAD_FORMAT = "nut";
const HEAD_INPUT_OPTIONS = ["-threads", "1", "-protocol_whitelist", "file", "-format_whitelist", HEAD_FORMAT];

/** ffprobe's JSON for one file is a few kB; more than this is a file built to flood us. */
const MAX_TOOL_OUTPUT_BYTES = 1024 * 1024;

export interface ProbeResult {
  formatName: string;
  /** The demuxer that read it (`mov` or `matroska`), to pin ffmpeg to the same one. */
  demuxer: string;
  durationSeconds: number;
  width: number;
  height: number;
  videoCodec: string;
}

/** A run that outlived MEDIA_TOOL_TIMEOUT_MS, killed: a file that hangs a tool will hang it again. */
export class MediaToolTimeoutError extends Error {
  override name = "MediaToolTimeoutError";
}

/** The tool ran and refused the file (non-zero exit, a crash, too much output). */
export class MediaToolFailedError extends Error {
  override name = "MediaToolFailedError";
  constructor(
    message: string,
    /** The end of what the tool wrote to stderr: for our logs, never for the uploader. */
    readonly output = message,
  ) {
    super(message);
  }
}

/** How much of a tool's stderr a refusal keeps for the log. */
const LOGGED_TOOL_OUTPUT_CHARS = 2000;

/** A file ffprobe would not open because its container is not one we accept. */
export class UnacceptedFormatError extends Error {
  override name = "UnacceptedFormatError";
}

const toolPath = (media: MediaConfig, tool: "ffmpeg" | "ffprobe"): string => resolveMediaTool(tool, media).path;

/** Process groups of the tools running now, killed if this process exits first (they would outlive it). */
const runningGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * Runs a tool to its end and returns its stdout; a spawn failure (missing binary) is thrown as
 * is: that is ours to fix, not the file's. The tool leads a process group of its own
 * (`detached`) so the kill also reaches whatever it started, and child_process's own
 * `timeout` is not used because it signals only the direct child, whose descendants would keep
 * the pipes (and this job) open.
 */
function runTool(media: MediaConfig, tool: "ffmpeg" | "ffprobe", args: string[]): Promise<string> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => runningGroups.forEach(killGroup));
  }
  return new Promise((resolve, reject) => {
    const child = spawn(toolPath(media, tool), args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let outputBytes = 0;
    let failure: Error | undefined;
    let settled = false;
    const pid = child.pid;
    if (pid !== undefined) runningGroups.add(pid);

    const stop = (reason: Error) => {
      failure ??= reason;
      if (pid !== undefined) killGroup(pid);
      // Whatever escaped the group cannot hold the job open through our end of the pipes.
      child.stdout.destroy();
      child.stderr.destroy();
    };
    const timer = setTimeout(
      () => stop(new MediaToolTimeoutError(`${tool} took longer than ${media.toolTimeoutMs} ms and was killed`)),
      media.toolTimeoutMs,
    );
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      outputBytes += chunk.length;
      if (outputBytes > MAX_TOOL_OUTPUT_BYTES) stop(new MediaToolFailedError(`${tool} wrote more than ${MAX_TOOL_OUTPUT_BYTES} bytes`));
      else into.push(chunk);
    };
    child.stdout.on("data", collect(stdout));
    child.stderr.on("data", collect(stderr));

    const finish = (error: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (pid !== undefined) runningGroups.delete(pid);
      if (error) reject(error);
      else resolve(Buffer.concat(stdout).toString("utf8"));
    };
    child.once("error", (error) => {
      if (pid !== undefined) killGroup(pid);
      finish(error);
    });
    child.once("close", (code, signal) => {
      if (failure) return finish(failure);
      if (code === 0) return finish(undefined);
      const output = Buffer.concat(stderr).toString("utf8").trim();
      const firstLine = output.split("\n")[0];
      finish(new MediaToolFailedError(firstLine || `${tool} exited with ${code ?? signal}`, output.slice(-LOGGED_TOOL_OUTPUT_CHARS)));
    });
  });
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  duration?: string;
}

/**
 * Reads a media file's container and first video stream: undefined when it has none (or is
 * not media at all); UnacceptedFormatError for a container we do not accept; a run that hangs
 * throws MediaToolTimeoutError.
 */
export async function probe(file: string, media: MediaConfig): Promise<ProbeResult | undefined> {
  let output: string;
  try {
    output = await runTool(media, "ffprobe", [
      "-v",
      "error",
      ...INPUT_OPTIONS,
      "-print_format",
      "json",
      "-show_format",
      "-show_streams",
      file,
    ]);
  } catch (error) {
    if (!(error instanceof MediaToolFailedError)) throw error;
    if (/not on whitelist/.test(error.message)) throw new UnacceptedFormatError(error.message);
    return undefined;
  }
  let data: { streams?: ProbeStream[]; format?: { format_name?: string; duration?: string } };
  try {
    data = JSON.parse(output) as typeof data;
  } catch {
    return undefined;
  }
  const video = data.streams?.find((stream) => stream.codec_type === "video" && stream.width && stream.height);
  if (!video || !data.format) return undefined;
  const formatName = String(data.format.format_name ?? "");
  const demuxer = formatName.split(",")[0] ?? "";
  if (!ACCEPTED_DEMUXERS.includes(demuxer)) throw new UnacceptedFormatError(`${formatName} is not an accepted container`);
  const duration = Number(data.format.duration ?? video.duration);
  return {
    formatName,
    demuxer,
    durationSeconds: Number.isFinite(duration) ? duration : 0,
    width: Number(video.width),
    height: Number(video.height),
    videoCodec: String(video.codec_name ?? ""),
  };
}

/** The options that decode one frame of a video stream into a JPEG (after the input's options). */
const JPEG_OUTPUT = [
  "-map",
  "0:v:0",
  "-frames:v",
  "1",
  "-an",
  "-sn",
  "-dn",
  "-threads",
  "1",
  "-c:v",
  "mjpeg",
  "-q:v",
  "3",
  "-f",
  "image2",
  "-y",
];

/** Whether the run wrote a non-empty picture (a build may exit 0 having decoded nothing). */
const wroteFrame = async (jpeg: string): Promise<boolean> => ((await fs.promises.stat(jpeg).catch(() => undefined))?.size ?? 0) > 0;

/**
 * Writes a cover for `file` as a JPEG, read with the demuxer ffprobe named (ffmpeg may be
 * another build that would guess the format differently), in work bounded by the file's first
 * `coverMaxPackets` video packets rather than only by the tool deadline: a stream whose frames
 * never decode (an H.264 file with its keyframes stripped passes ffprobe) would otherwise have
 * ffmpeg decode every frame of it, a worker's time for minutes.
 *
 * First the first keyframe (`-skip_frame nokey`: every other packet is parsed, never decoded),
 * which for nearly every video is its first frame. A stream that starts with no keyframe the
 * decoder knows (intra refresh, an open GOP) gets the first frame decoded from at most
 * `coverMaxPackets` packets, copied out (no decoding) into a file beside `jpeg`. Neither giving
 * a frame throws MediaToolFailedError.
 */
export async function grabCover(file: string, demuxer: string, jpeg: string, media: CoverConfig): Promise<void> {
  let keyframeFailure: MediaToolFailedError | undefined;
  try {
    await runTool(media, "ffmpeg", [
      "-nostdin",
      "-v",
      "error",
      "-filter_threads",
      "1",
      ...INPUT_OPTIONS,
      "-skip_frame",
      "nokey",
      "-f",
      demuxer,
      "-i",
      file,
      ...JPEG_OUTPUT,
      jpeg,
    ]);
    if (await wroteFrame(jpeg)) return;
  } catch (error) {
    if (!(error instanceof MediaToolFailedError)) throw error;
    keyframeFailure = error;
  }
  const head = path.join(path.dirname(jpeg), `head.${HEAD_FORMAT}`);
  try {
    await runTool(media, "ffmpeg", [
      "-nostdin",
      "-v",
      "error",
      ...INPUT_OPTIONS,
      "-f",
      demuxer,
      "-i",
      file,
      // -copyinkf: a copy starts at the first packet flagged key otherwise, and that flag is what
      // such a file may lie about.
      "-map",
      "0:v:0",
      "-c",
      "copy",
      "-copyinkf",
      "-frames:v",
      String(media.coverMaxPackets),
      "-f",
      HEAD_FORMAT,
      "-y",
      head,
    ]);
    await runTool(media, "ffmpeg", [
      "-nostdin",
      "-v",
      "error",
      "-filter_threads",
      "1",
      ...HEAD_INPUT_OPTIONS,
      "-f",
      HEAD_FORMAT,
      "-i",
      head,
      ...JPEG_OUTPUT,
      jpeg,
    ]);
  } catch (error) {
    if (!(error instanceof MediaToolFailedError)) throw error;
    throw new MediaToolFailedError(error.message, [keyframeFailure?.output, error.output].filter(Boolean).join("\n---\n"));
  }
  if (!(await wroteFrame(jpeg))) {
    throw new MediaToolFailedError(`no frame in the first ${media.coverMaxPackets} packets`, keyframeFailure?.output);
  }
}
