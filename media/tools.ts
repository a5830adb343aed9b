// Which ffmpeg and ffprobe run on uploads. FFMPEG_PATH/FFPROBE_PATH when set; otherwise the
// system's, found on PATH (e.g. Debian's /usr/bin/ffmpeg, patched by security updates); only
// when there is none, the static builds npm bundles (@ffmpeg-installer, @ffprobe-installer:
// a 2018 FFmpeg with years of decoder fixes missing), with a warning at start.
import fs from "node:fs";
import path from "node:path";
import type { Logger } from "../platform/logger";

export type MediaTool = "ffmpeg" | "ffprobe";

export interface ResolvedTool {
  path: string;
  /** `configured`: FFMPEG_PATH/FFPROBE_PATH; `system`: found on PATH; `bundled`: the npm package's build. */
  source: "configured" | "system" | "bundled";
}

interface ToolPaths {
  ffmpegPath?: string | undefined;
  ffprobePath?: string | undefined;
}

const BUNDLED_PACKAGES: Record<MediaTool, string> = {
  ffmpeg: "@ffmpeg-installer/ffmpeg",
  ffprobe: "@ffprobe-installer/ffprobe",
};

function isRunnable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The first runnable `name` in the directories of `searchPath`, as a shell would find it. */
export function findOnPath(name: string, searchPath = process.env.PATH ?? ""): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    // An empty entry means the working directory to a shell; a tool from there is never wanted.
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    if (isRunnable(candidate)) return candidate;
  }
  return undefined;
}

/** Resolved once per configuration and PATH: each run would otherwise search PATH again. */
const resolved = new Map<string, ResolvedTool>();

export function resolveMediaTool(tool: MediaTool, media: ToolPaths): ResolvedTool {
  const configured = tool === "ffmpeg" ? media.ffmpegPath : media.ffprobePath;
  if (configured) return { path: configured, source: "configured" };
  const searchPath = process.env.PATH ?? "";
  const key = `${tool}\0${searchPath}`;
  let found = resolved.get(key);
  if (!found) {
    const system = findOnPath(tool, searchPath);
    found = system
      ? { path: system, source: "system" }
      : { path: (require(BUNDLED_PACKAGES[tool]) as { path: string }).path, source: "bundled" };
    resolved.set(key, found);
  }
  return found;
}

/** Says at start which tools will read uploads; the bundled builds deserve a warning. */
export function logMediaTools(media: ToolPaths, log: Logger): void {
  const tools = { ffmpeg: resolveMediaTool("ffmpeg", media), ffprobe: resolveMediaTool("ffprobe", media) };
  log.info({ ffmpeg: tools.ffmpeg.path, ffprobe: tools.ffprobe.path }, "media tools");
  const bundled = Object.entries(tools).filter(([, tool]) => tool.source === "bundled");
  if (bundled.length > 0) {
    log.warn(
      { tools: Object.fromEntries(bundled.map(([name, tool]) => [name, tool.path])) },
      `running the bundled static ${bundled.map(([name]) => name).join(" and ")} (a 2018 build) on uploads: ` +
        "install the system's ffmpeg (e.g. apt-get install ffmpeg) or set FFMPEG_PATH/FFPROBE_PATH",
    );
  }
}
