// Uploads are files from strangers, and ffprobe and ffmpeg run on them. Here both tools are
// stand-ins: shell scripts that record the environment they were given, then hang, answer for
// ffprobe, or run the real tool, chosen by a marker inside the uploaded file. So a test can
// make a tool hang (it must be killed with what it started, the upload refused, nothing left
// behind, other uploads unaffected), see what a tool was given (no secret of ours), and make
// ffprobe take a playlist for an MP4 (ffmpeg must not follow it either).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveMediaTool } from "../media/tools";
import { eventually, legacy, uniqueName } from "./client";
import { makeVideo, makeWebm, mediaDir, removeMedia } from "./media";
import { startStack, type Stack } from "./stack";

const REAL_TOOLS = {
  ffprobe: resolveMediaTool("ffprobe", { ffprobePath: process.env.FFPROBE_PATH }).path,
  ffmpeg: resolveMediaTool("ffmpeg", { ffmpegPath: process.env.FFMPEG_PATH }).path,
};
type Tool = keyof typeof REAL_TOOLS;

const TOOL_TIMEOUT_MS = 1500;
const toolsDir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-fake-tools-"));
const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-spool-"));
const recorded = (tool: Tool, what: "env" | "pids") => path.join(toolsDir, `${tool}.${what}`);

/** What ffprobe answers for a file marked CALL-IT-MP4: an ordinary small MP4. */
const MP4_ANSWER = JSON.stringify({
  streams: [{ codec_type: "video", codec_name: "h264", width: 320, height: 240, duration: "1.000000" }],
  format: { format_name: "mov,mp4,m4a,3gp,3g2,mj2", duration: "1.000000" },
});

/**
 * A stand-in for `tool`: records its environment; for an input holding HANG-<TOOL> it starts a
 * long sleep (a descendant that holds its output pipes), records both process ids and waits;
 * ffprobe answers MP4_ANSWER for an input holding CALL-IT-MP4; otherwise it runs the real tool.
 */
function fakeTool(tool: Tool): string {
  const script = path.join(toolsDir, tool);
  fs.writeFileSync(path.join(toolsDir, "mp4-answer.json"), MP4_ANSWER);
  fs.writeFileSync(
    script,
    `#!/bin/sh
env > '${recorded(tool, "env")}'
input= previous=
for argument; do
  [ "$previous" = "-i" ] && input=$argument
  previous=$argument
done
[ -z "$input" ] && input=$argument
if grep -q 'HANG-${tool.toUpperCase()}' "$input"; then
  sleep 3600 &
  echo "$$ $!" >> '${recorded(tool, "pids")}'
  wait
fi
if [ ${tool} = ffprobe ] && grep -q CALL-IT-MP4 "$input"; then exec cat '${path.join(toolsDir, "mp4-answer.json")}'; fi
exec '${REAL_TOOLS[tool]}' "$@"
`,
    { mode: 0o755 },
  );
  return script;
}

function textFile(name: string, text: string): string {
  const file = path.join(mediaDir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Whether a process is running (a zombie waiting for its parent to reap it has finished). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

let stack: Stack;
const savedEnvironment: Record<string, string | undefined> = {};
// What a deployment keeps in its environment; none of it may reach a tool reading a stranger's file.
const SECRETS: Record<string, string> = {
  JWT_SECRET: "leak-canary-jwt-secret-value",
  INTERNAL_SECRET: "leak-canary-internal-secret",
  EDGE_SECRET: "leak-canary-edge-secret",
  S3_ACCESS_KEY: "leak-canary-access-key",
  S3_SECRET_KEY: "leak-canary-secret-key",
  VIDEO_DATABASE_URL: "postgresql://leak-canary@127.0.0.1:5432/douyin_video",
  REDIS_URL: "redis://leak-canary@127.0.0.1:6379",
};

before(async () => {
  // Set in this process, where the co-located stack's workers run the tools (the stack itself
  // is configured from its own variables, so these change nothing else).
  for (const [name, value] of Object.entries(SECRETS)) {
    savedEnvironment[name] = process.env[name];
    process.env[name] = value;
  }
  stack = await startStack({
    FFPROBE_PATH: fakeTool("ffprobe"),
    FFMPEG_PATH: fakeTool("ffmpeg"),
    MEDIA_TOOL_TIMEOUT_MS: String(TOOL_TIMEOUT_MS),
    MEDIA_WORKER_CONCURRENCY: "2",
    MEDIA_TMP_DIR: spoolDir,
    // Bounds how long a publish stuck behind a hung tool would wait, were the tool never killed.
    MEDIA_PUBLISH_TIMEOUT_MS: "20000",
  });
});
after(async () => {
  await stack?.close();
  for (const [name, value] of Object.entries(savedEnvironment)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  for (const tool of ["ffprobe", "ffmpeg"] as const) {
    const pids = fs.existsSync(recorded(tool, "pids")) ? fs.readFileSync(recorded(tool, "pids"), "utf8").split(/\s+/) : [];
    for (const pid of pids.filter(Boolean).map(Number)) if (running(pid)) process.kill(pid, "SIGKILL");
  }
  fs.rmSync(toolsDir, { recursive: true, force: true });
  fs.rmSync(spoolDir, { recursive: true, force: true });
  removeMedia();
});

async function register() {
  const answer = await legacy(stack, "/douyin/user/register/", { username: uniqueName("safe"), password: "pw" }, { method: "POST" });
  assert.equal(answer.body.status_code, 0, answer.text);
  return { userId: answer.body.user_id as number, token: answer.body.token as string };
}

async function publishLegacy(token: string, file: string, title: string) {
  const form = new FormData();
  form.set("token", token);
  form.set("title", title);
  form.set("data", new Blob([fs.readFileSync(file)], { type: "video/mp4" }), path.basename(file));
  const response = await fetch(`${stack.restUrl}/douyin/publish/action/`, { method: "POST", body: form });
  return (await response.json()) as { status_code: number; status_msg: string };
}

async function publishGraphQL(token: string, file: string, title: string) {
  const form = new FormData();
  const query = "mutation ($file: Upload!, $title: String!) { publishVideo(file: $file, title: $title) { id title } }";
  form.set("operations", JSON.stringify({ query, variables: { file: null, title } }));
  form.set("map", JSON.stringify({ 0: ["variables.file"] }));
  form.set("0", new Blob([fs.readFileSync(file)], { type: "video/mp4" }), path.basename(file));
  const response = await fetch(stack.graphqlUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "apollo-require-preflight": "true" },
    body: form,
  });
  return (await response.json()) as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
}

async function objectKeys(): Promise<string[]> {
  const { Client } = await import("minio");
  const endpoint = new URL(stack.config.storage.endpoint);
  const client = new Client({
    endPoint: endpoint.hostname,
    port: Number(endpoint.port),
    useSSL: false,
    accessKey: stack.config.storage.accessKey,
    secretKey: stack.config.storage.secretKey,
    pathStyle: true,
  });
  const keys: string[] = [];
  for await (const item of client.listObjectsV2(stack.config.storage.bucket, "", true)) keys.push((item as { name: string }).name);
  return keys.sort();
}

async function publishList(userId: number): Promise<{ id: number; title: string }[]> {
  const list = await legacy(stack, "/douyin/publish/list/", { user_id: userId });
  assert.equal(list.body.status_code, 0, list.text);
  return list.body.video_list;
}

const spoolIsEmpty = () => eventually(async () => fs.readdirSync(spoolDir).length === 0, "the spooled and working files to be removed");

const recordedPids = (tool: Tool) =>
  fs.existsSync(recorded(tool, "pids")) ? fs.readFileSync(recorded(tool, "pids"), "utf8").split(/\s+/).filter(Boolean).map(Number) : [];

describe("media tools on untrusted files", () => {
  it("publishes an MP4 and a WebM through tools that were given PATH and none of our secrets", async () => {
    const author = await register();
    for (const [file, title] of [
      [makeVideo("plain.mp4"), "an mp4"],
      [makeWebm("plain.webm"), "a webm"],
    ] as const) {
      const answer = await publishGraphQL(author.token, file, title);
      assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
      assert.equal(answer.data.publishVideo.title, title);
    }
    assert.equal((await publishList(author.userId)).length, 2);
    for (const tool of ["ffprobe", "ffmpeg"] as const) {
      const dump = fs.readFileSync(recorded(tool, "env"), "utf8");
      const names = dump
        .split("\n")
        .filter(Boolean)
        .map((line) => line.slice(0, line.indexOf("=")));
      assert.ok(names.includes("PATH"), `${tool} was given PATH: ${names}`);
      for (const [name, value] of Object.entries(SECRETS)) {
        assert.ok(!names.includes(name), `${tool} was given ${name}`);
        assert.ok(!dump.includes(value), `${tool} saw the value of ${name}`);
      }
      const secretLooking = names.filter((name) => /SECRET|PASSWORD|TOKEN|KEY|DATABASE|REDIS|_URL/i.test(name));
      assert.deepEqual(secretLooking, [], `${tool}'s environment`);
    }
  });

  it("refuses files that hang ffprobe, killing the probes and what they started, while another upload publishes", async () => {
    const [first, second, bystander] = await Promise.all([register(), register(), register()]);
    const keysBefore = await objectKeys();
    fs.rmSync(recorded("ffprobe", "pids"), { force: true });
    // Two hanging files take both worker slots (MEDIA_WORKER_CONCURRENCY=2); a real video comes after them.
    const hangs = [textFile("hang-1.mp4", "HANG-FFPROBE 1\n"), textFile("hang-2.mp4", "HANG-FFPROBE 2\n")];
    const refused = Promise.all([publishLegacy(first.token, hangs[0]!, "hangs"), publishGraphQL(second.token, hangs[1]!, "hangs too")]);
    await eventually(async () => recordedPids("ffprobe").length === 4, "both probes to hang");
    const published = publishGraphQL(bystander.token, makeVideo("bystander.mp4"), "waits its turn");

    const [viaLegacy, viaGraphQL] = await refused;
    assert.equal(viaLegacy.status_code, 400, JSON.stringify(viaLegacy));
    assert.match(viaLegacy.status_msg, /could not be processed in time/);
    assert.equal(viaGraphQL.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(viaGraphQL.errors));
    assert.match(viaGraphQL.errors![0]!.message, /could not be processed in time/);
    const pids = recordedPids("ffprobe");
    await eventually(async () => pids.every((pid) => !running(pid)), `the probes and their sleeps (${pids}) to be gone`);

    const bystanderAnswer = await published;
    assert.equal(bystanderAnswer.errors, undefined, JSON.stringify(bystanderAnswer.errors));
    assert.equal((await publishList(bystander.userId)).length, 1);
    assert.deepEqual(await publishList(first.userId), []);
    assert.deepEqual(await publishList(second.userId), []);
    const added = (await objectKeys()).filter((key) => !keysBefore.includes(key));
    assert.deepEqual(
      added.map((key) => key.split("/")[0]).sort(),
      ["covers", "videos"],
      `only the bystander's video and cover were stored: ${added}`,
    );
    await spoolIsEmpty();
  });

  it("refuses a file that hangs ffmpeg's frame grab the same way", async () => {
    const author = await register();
    const keysBefore = await objectKeys();
    fs.rmSync(recorded("ffmpeg", "pids"), { force: true });
    const answer = await publishLegacy(author.token, textFile("hang-ffmpeg.mp4", "CALL-IT-MP4 HANG-FFMPEG\n"), "hangs the grab");
    assert.equal(answer.status_code, 400, JSON.stringify(answer));
    assert.match(answer.status_msg, /could not be processed in time/);
    const pids = recordedPids("ffmpeg");
    assert.equal(pids.length, 2, "ffmpeg was started and hung");
    await eventually(async () => pids.every((pid) => !running(pid)), `the frame grab and its sleep (${pids}) to be gone`);
    assert.deepEqual(await objectKeys(), keysBefore, "no object left behind");
    assert.deepEqual(await publishList(author.userId), []);
    await spoolIsEmpty();
  });

  it("refuses an HLS playlist and an ffconcat file instead of following them to a local video", async () => {
    const author = await register();
    const target = makeVideo("target.mp4");
    const keysBefore = await objectKeys();
    const cases: [string, RegExp][] = [
      [textFile("playlist.mp4", `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n${target}\n#EXT-X-ENDLIST\n`), /not a playable video/],
      [textFile("list.mp4", `ffconcat version 1.0\nfile ${path.basename(target)}\n`), /not an MP4, MOV, 3GP, M4V, Matroska or WebM file/],
      [textFile("absolute-list.mp4", `ffconcat version 1.0\nfile ${target}\n`), /not an MP4, MOV, 3GP, M4V, Matroska or WebM file/],
    ];
    for (const [file, message] of cases) {
      const answer = await publishGraphQL(author.token, file, "a playlist");
      assert.equal(answer.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", `${path.basename(file)}: ${JSON.stringify(answer)}`);
      assert.match(answer.errors![0]!.message, message, path.basename(file));
    }
    assert.deepEqual(await objectKeys(), keysBefore, "no object left behind");
    assert.deepEqual(await publishList(author.userId), []);
  });

  it("reads with the demuxer ffprobe named: a playlist that ffprobe took for an MP4 is not followed by ffmpeg", async () => {
    const author = await register();
    const target = makeVideo("followed.mp4");
    const keysBefore = await objectKeys();
    const playlist = textFile("disguised.mp4", `#EXTM3U\n#CALL-IT-MP4\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n${target}\n#EXT-X-ENDLIST\n`);
    const answer = await publishLegacy(author.token, playlist, "disguised playlist");
    assert.equal(answer.status_code, 400, JSON.stringify(answer));
    assert.match(answer.status_msg, /no frame could be decoded/);
    assert.deepEqual(await objectKeys(), keysBefore, "no object left behind");
    assert.deepEqual(await publishList(author.userId), []);
  });
});
