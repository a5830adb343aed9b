// Which ffprobe and ffmpeg run on uploads: FFPROBE_PATH/FFMPEG_PATH when set, else the system's
// on PATH, else the bundled static builds (with a warning). Stand-in tools on a PATH of the
// test's own show which one ran.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import pino from "pino";
import { Writable } from "node:stream";
import { grabCover, probe } from "./probe";
import { logMediaTools, resolveMediaTool } from "./tools";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-tools-"));
const systemDir = path.join(work, "system-bin");
const otherDir = path.join(work, "configured");
const emptyDir = path.join(work, "empty-bin");
for (const dir of [systemDir, otherDir, emptyDir]) fs.mkdirSync(dir);
after(() => fs.rmSync(work, { recursive: true, force: true }));

const MP4_ANSWER = JSON.stringify({
  streams: [{ codec_type: "video", codec_name: "h264", width: 320, height: 240, duration: "1.000000" }],
  format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "1.000000" },
});

/** A stand-in that leaves a mark where it ran, and answers as the real tool would for a small MP4. */
function standIn(dir: string, tool: "ffprobe" | "ffmpeg"): string {
  const file = path.join(dir, tool);
  const answer = tool === "ffprobe" ? `printf '%s' '${MP4_ANSWER}'` : `for last; do :; done; printf 'JPEG' > "$last"`;
  fs.writeFileSync(file, `#!/bin/sh\ntouch '${path.join(dir, `${tool}.ran`)}'\n${answer}\n`, { mode: 0o755 });
  return file;
}
const ran = (dir: string, tool: string) => fs.existsSync(path.join(dir, `${tool}.ran`));

/** Runs `work` with PATH set to `dirs` (the tools get PATH from this process). */
async function withPath<T>(dirs: string[], work: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = [...dirs, "/usr/bin", "/bin"].join(path.delimiter);
  try {
    return await work();
  } finally {
    process.env.PATH = saved;
  }
}

const upload = path.join(work, "upload.mp4");
fs.writeFileSync(upload, "not really a video\n");
const media = { toolTimeoutMs: 10_000, ffmpegPath: undefined, ffprobePath: undefined, coverMaxPackets: 60 };

describe("media tool resolution", () => {
  it("runs the system's ffprobe and ffmpeg, found on PATH, rather than the bundled ones", async () => {
    standIn(systemDir, "ffprobe");
    standIn(systemDir, "ffmpeg");
    const info = await withPath([systemDir], () => probe(upload, media));
    assert.ok(ran(systemDir, "ffprobe"), "the ffprobe on PATH ran");
    assert.equal(info?.width, 320, "its answer was read");
    const jpeg = path.join(work, "cover.jpg");
    await withPath([systemDir], () => grabCover(upload, "mov", jpeg, media));
    assert.ok(ran(systemDir, "ffmpeg"), "the ffmpeg on PATH ran");
    assert.equal(fs.readFileSync(jpeg, "utf8"), "JPEG");
  });

  it("lets FFPROBE_PATH and FFMPEG_PATH override what PATH holds", async () => {
    const ffprobePath = standIn(otherDir, "ffprobe");
    const ffmpegPath = standIn(otherDir, "ffmpeg");
    fs.rmSync(path.join(systemDir, "ffprobe.ran"), { force: true });
    await withPath([systemDir], () => probe(upload, { ...media, ffprobePath, ffmpegPath }));
    assert.ok(ran(otherDir, "ffprobe"));
    assert.equal(ran(systemDir, "ffprobe"), false);
    assert.deepEqual(await withPath([systemDir], async () => resolveMediaTool("ffmpeg", { ffmpegPath })), {
      path: ffmpegPath,
      source: "configured",
    });
  });

  it("skips a file on PATH that cannot be run, and falls back to the bundled build with a warning", async () => {
    fs.writeFileSync(path.join(emptyDir, "ffmpeg"), "not executable", { mode: 0o644 });
    const bundled = (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;
    // PATH without a runnable ffmpeg: only the empty directory (no /usr/bin).
    const saved = process.env.PATH;
    process.env.PATH = emptyDir;
    let resolved;
    const lines: { level: number; msg: string }[] = [];
    try {
      resolved = resolveMediaTool("ffmpeg", {});
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString("utf8")) as { level: number; msg: string });
          done();
        },
      });
      logMediaTools({}, pino({ level: "info" }, sink));
    } finally {
      process.env.PATH = saved;
    }
    assert.deepEqual(resolved, { path: bundled, source: "bundled" });
    const warnings = lines.filter((line) => line.level === 40);
    assert.equal(warnings.length, 1, JSON.stringify(lines));
    assert.match(warnings[0]!.msg, /bundled.*ffmpeg/i);
  });

  it("finds Debian's ffmpeg and ffprobe where they are installed (as CI installs them)", (t) => {
    if (!fs.existsSync("/usr/bin/ffmpeg")) return t.skip("no /usr/bin/ffmpeg on this machine");
    const saved = process.env.PATH;
    process.env.PATH = "/usr/local/bin:/usr/bin:/bin";
    try {
      assert.deepEqual(resolveMediaTool("ffmpeg", {}), { path: "/usr/bin/ffmpeg", source: "system" });
      assert.deepEqual(resolveMediaTool("ffprobe", {}), { path: "/usr/bin/ffprobe", source: "system" });
    } finally {
      process.env.PATH = saved;
    }
  });
});
