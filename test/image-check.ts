// `npm run image:check`: the production image's tree, built as the Dockerfile builds it (its
// build stage's COPY and RUN steps in order: a clean `npm ci`, the build, `npm prune
// --omit=dev`) in a scratch folder outside the project, then every entry point that the
// Dockerfile, docker-compose.yml and deploy/kubernetes name, started from that tree with the
// image's environment and NODE_ENV=production against the local PostgreSQL and Redis, until
// each answers /readyz (workers on their metrics port), migrations exit 0 and the health
// check passes. A runtime import of a devDependency or a tool fails here, as it would in every
// container. Docker cannot run on this machine; this is the image minus the operating system.
// Run by .ci/run after `npm test` (it takes a few minutes: a clean install and a full build).
import assert from "node:assert/strict";
import { execFileSync, execSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import YAML from "yaml";
import { keepingSecrets, loadConfig, projectRoot, type SecretName } from "../platform/config";
import { createLogger } from "../platform/logger";
import { SUBGRAPHS } from "../platform/registry";
import type { RunningService } from "../platform/http";
import { startStorageServer } from "../media/storage-server";
import { needsOfCell, needsOfService, stackServices } from "../server/stack";
import { compose } from "./compose";
import { createTestDatabases, deleteRedisKeys, dropTestDatabases, freePort, TEST_REDIS_URL } from "./stack";

/** How long one entry may take to become ready (a cold start of a subgraph migrates nothing here). */
const READY_TIMEOUT_MS = 60_000;

interface DockerStage {
  name: string | undefined;
  instructions: { keyword: string; argument: string }[];
}

/** The Dockerfile's stages and their instructions (continuation lines joined, comments dropped). */
function readDockerfile(): DockerStage[] {
  const text = fs.readFileSync(path.join(projectRoot, "Dockerfile"), "utf8").replace(/\\\n/g, " ");
  const stages: DockerStage[] = [];
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith("#")) continue;
    const [, keyword, argument] = /^(\S+)\s+(.*)$/.exec(trimmed)!;
    if (keyword!.toUpperCase() === "FROM") stages.push({ name: /\bAS\s+(\S+)/i.exec(argument!)?.[1], instructions: [] });
    else stages.at(-1)!.instructions.push({ keyword: keyword!.toUpperCase(), argument: argument! });
  }
  return stages;
}

/** A .dockerignore pattern as a test of a context-relative path (a directory excluded excludes its contents). */
function dockerignore(): (file: string) => boolean {
  const rules = fs
    .readFileSync(path.join(projectRoot, ".dockerignore"), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const negated = line.startsWith("!");
      const pattern = line.replace(/^!/, "").replace(/^\/+|\/+$/g, "");
      const source = pattern
        .split("**")
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, "[^/]*")
            .replace(/\?/g, "[^/]"),
        )
        .join(".*");
      return { negated, regex: new RegExp(`^${source}(/.*)?$`) };
    });
  return (file) => {
    let ignored = false;
    for (const rule of rules) if (rule.regex.test(file)) ignored = !rule.negated;
    return ignored;
  };
}

/** The build context as a clean clone has it: tracked files (and untracked ones git does not ignore), minus .dockerignore. */
function contextFiles(): string[] {
  const ignored = dockerignore();
  const listed = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
    cwd: projectRoot,
    encoding: "utf8",
  });
  return listed
    .split("\0")
    .filter(Boolean)
    .filter((file) => !ignored(file) && fs.existsSync(path.join(projectRoot, file)));
}

/** Builds the image's /app in `app` by the Dockerfile's build stage; the final stage's environment. */
function buildTree(app: string): Record<string, string> {
  const stages = readDockerfile();
  const build = stages.find((stage) => stage.name === "build") ?? stages[0]!;
  const final = stages.at(-1)!;
  for (const { keyword, argument } of build.instructions) {
    if (keyword === "COPY") {
      const parts = argument.split(/\s+/).filter((part) => !part.startsWith("--"));
      const sources = parts.slice(0, -1);
      const files = sources.flatMap((source) => (source === "." ? contextFiles() : [source]));
      for (const file of files) {
        fs.mkdirSync(path.dirname(path.join(app, file)), { recursive: true });
        fs.copyFileSync(path.join(projectRoot, file), path.join(app, file));
      }
    } else if (keyword === "RUN") {
      process.stderr.write(`image:check: RUN ${argument}\n`);
      execSync(argument, {
        cwd: app,
        stdio: ["ignore", "ignore", "inherit"],
        // A build machine's environment: nothing of this project's or this shell's settings.
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? os.homedir(), npm_config_cache: process.env.npm_config_cache ?? "" },
      });
    } else if (keyword !== "WORKDIR" && keyword !== "ENV" && keyword !== "ARG") {
      throw new Error(`image:check does not know how to replay "${keyword} ${argument}" of the build stage`);
    }
  }
  // ENV of the final stage: `ENV A=1 B=2` (values may be quoted).
  const env: Record<string, string> = {};
  for (const { argument } of final.instructions.filter((instruction) => instruction.keyword === "ENV")) {
    for (const match of argument.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g)) env[match[1]!] = match[2]!.replace(/^"|"$/g, "");
  }
  return env;
}

interface Entry {
  /** The command as a container runs it, e.g. ["node", "dist/server/main.js", "video"]. */
  command: string[];
  /** Where it was named. */
  where: string[];
  /** WORKERS_IN_PROCESS as that container sets it. */
  workersInProcess?: string;
}

function collectCommands(value: unknown, found: { command: string[]; env: Record<string, string> }[]): void {
  if (Array.isArray(value)) return value.forEach((item) => collectCommands(item, found));
  if (value === null || typeof value !== "object") return;
  const object = value as Record<string, unknown>;
  if (Array.isArray(object.command) && object.command[0] === "node") {
    const env = Object.fromEntries(
      ((object.env as { name: string; value?: string }[] | undefined) ?? [])
        .filter((item) => item.value !== undefined)
        .map((item) => [item.name, item.value!]),
    );
    found.push({ command: object.command as string[], env });
  }
  for (const child of Object.values(object)) collectCommands(child, found);
}

/** Every entry point the Dockerfile, docker-compose.yml and the Kubernetes manifests run. */
function entryPoints(): Entry[] {
  const entries = new Map<string, Entry>();
  const add = (command: string[], where: string, workersInProcess?: string) => {
    const key = JSON.stringify(command);
    const entry = entries.get(key) ?? { command, where: [] };
    entry.where.push(where);
    entry.workersInProcess ??= workersInProcess;
    entries.set(key, entry);
  };
  const cmd = readDockerfile()
    .at(-1)!
    .instructions.find((instruction) => instruction.keyword === "CMD");
  if (cmd) add(JSON.parse(cmd.argument) as string[], "Dockerfile CMD");
  for (const [name, service] of Object.entries(compose.services)) {
    if (service.image === "douyin-supergraph" && service.command)
      add(service.command, `compose ${name}`, service.environment?.WORKERS_IN_PROCESS);
    const healthcheck = (service as { healthcheck?: { test?: string[] } }).healthcheck?.test;
    if (service.image === "douyin-supergraph" && healthcheck?.[0] === "CMD") add(healthcheck.slice(1), `compose ${name} healthcheck`);
  }
  const k8s = path.join(projectRoot, "deploy", "kubernetes");
  const walk = (dir: string): string[] =>
    fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((item) =>
        item.isDirectory() ? walk(path.join(dir, item.name)) : item.name.endsWith(".yaml") ? [path.join(dir, item.name)] : [],
      );
  for (const file of walk(k8s)) {
    for (const document of YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))) {
      const found: { command: string[]; env: Record<string, string> }[] = [];
      collectCommands(document.toJS(), found);
      for (const { command, env } of found) add(command, `kubernetes ${path.relative(k8s, file)}`, env.WORKERS_IN_PROCESS);
    }
  }
  return [...entries.values()];
}

const app = fs.mkdtempSync(path.join(os.tmpdir(), "douyin-image-"));
const tag = `img${randomBytes(4).toString("hex")}`;
const children: ChildProcess[] = [];
let storage: RunningService | undefined;
let imageEnv: Record<string, string> = {};
let baseEnv: Record<string, string> = {};
let entries: Entry[] = [];

before(async () => {
  // Resolution must find nothing above the scratch folder (the project's node_modules above all).
  assert.ok(!fs.existsSync(path.join(path.dirname(app), "node_modules")), "no node_modules above the scratch folder");
  imageEnv = buildTree(app);
  entries = entryPoints();
  const databases = await createTestDatabases(tag);
  // The object storage a deployment names by URL (MinIO there; the embedded server here, on keys of its own).
  const keys = { S3_ACCESS_KEY: `image-${tag}`, S3_SECRET_KEY: randomBytes(16).toString("hex") };
  const storageConfig = loadConfig({ DATA_DIR: path.join(app, "storage-data"), ...keys });
  storage = await startStorageServer(storageConfig, createLogger({ logLevel: "silent" }, "storage"), 0);
  baseEnv = {
    PATH: process.env.PATH ?? "",
    ...imageEnv,
    // One machine: every port on the loopback (the image binds every interface).
    HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
    JWT_SECRET: randomBytes(48).toString("base64"),
    INTERNAL_SECRET: randomBytes(32).toString("hex"),
    EDGE_SECRET: randomBytes(32).toString("hex"),
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `test-${tag}`,
    ...Object.fromEntries(SUBGRAPHS.map((entry) => [`${entry.envPrefix}_DATABASE_URL`, databases[entry.name]!])),
    S3_ENDPOINT: storage.url,
    ...keys,
    MEDIA_PUBLIC_BASE_URL: `${storage.url}/douyin-media`,
    MEDIA_TMP_DIR: os.tmpdir(),
  };
  // Debian's ffmpeg, which the image installs, when this machine has it (.ci/run installs it).
  for (const tool of ["FFMPEG_PATH", "FFPROBE_PATH"]) if (baseEnv[tool] && !fs.existsSync(baseEnv[tool]!)) delete baseEnv[tool];
});

after(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await storage?.close();
  await dropTestDatabases(tag);
  await deleteRedisKeys(`test-${tag}`);
  if (!process.env.IMAGE_CHECK_KEEP) fs.rmSync(app, { recursive: true, force: true });
});

/** Starts `command` from the tree; resolves with the child and its standard error so far. */
function launch(
  command: string[],
  env: Record<string, string>,
): { child: ChildProcess; stderr: () => string; exited: Promise<number | null> } {
  const [program, ...args] = command;
  const child = spawn(program === "node" ? process.execPath : program!, args, { cwd: app, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  // What it said, on either stream (its logs are JSON lines on standard output): the end of it, for a failure's message.
  let stderr = "";
  const keep = (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

async function waitReady(url: string, exited: Promise<number | null>, stderr: () => string, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`${what} exited with ${gone} before it was ready:\n${stderr()}`);
    const status = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${what} was not ready at ${url} after ${READY_TIMEOUT_MS / 1000} s:\n${stderr()}`);
}

describe("the production image's tree", () => {
  it("holds no devDependency but those a dependency needs itself", () => {
    const modules = path.join(app, "node_modules");
    const installed = fs
      .readdirSync(modules)
      .flatMap((name) => (name.startsWith("@") ? fs.readdirSync(path.join(modules, name)).map((inner) => `${name}/${inner}`) : [name]))
      .filter((name) => fs.existsSync(path.join(modules, name, "package.json")));
    // What the installed packages ask for (a devDependency of ours may also be a dependency of theirs).
    const needed = new Set<string>();
    for (const name of installed) {
      const manifest = JSON.parse(fs.readFileSync(path.join(modules, name, "package.json"), "utf8")) as Record<
        string,
        Record<string, string> | undefined
      >;
      for (const field of ["dependencies", "peerDependencies", "optionalDependencies"])
        for (const dependency of Object.keys(manifest[field] ?? {})) needed.add(dependency);
    }
    const devDependencies = Object.keys(JSON.parse(fs.readFileSync(path.join(app, "package.json"), "utf8")).devDependencies ?? {});
    const left = devDependencies.filter((name) => installed.includes(name) && !needed.has(name));
    assert.deepEqual(left, [], "npm prune --omit=dev removed every devDependency nothing else needs");
    assert.ok(!installed.includes("cli-progress") && !installed.includes("eslint"), "the tools' own packages are gone");
    assert.ok(fs.existsSync(path.join(app, "dist", "server", "main.js")), "the entry point was built");
  });

  it("starts every entry point the Dockerfile, docker-compose.yml and Kubernetes name, each ready in production", async () => {
    const services = stackServices();
    const kinds = (entry: Entry) => {
      const [, script, argument] = entry.command;
      if (script === "dist/server/migrate.js") return "migrate";
      if (script === "dist/server/healthcheck.js") return "healthcheck";
      if (script !== "dist/server/main.js") throw new Error(`an entry point image:check does not know: ${entry.command.join(" ")}`);
      if (argument === undefined) return "cell";
      const spec = services.find((candidate) => candidate.name === argument);
      assert.ok(spec, `${entry.command.join(" ")} (${entry.where.join(", ")}) names a service of the stack`);
      return spec.kind;
    };
    /** The secrets its process uses: a service's or a cell's (migrations and the health check use none). */
    const secretsUsed = (entry: Entry): readonly SecretName[] => {
      const [, script, service] = entry.command;
      if (script !== "dist/server/main.js") return [];
      const spec = services.find((candidate) => candidate.name === service);
      return (spec ? needsOfService(spec) : needsOfCell()).secrets;
    };
    const order = ["migrate", "subgraph", "workers", "gateway", "rest-adapter", "cell", "healthcheck"];
    const sorted = [...entries].sort((a, b) => order.indexOf(kinds(a)) - order.indexOf(kinds(b)));
    assert.ok(
      sorted.some((entry) => kinds(entry) === "rest-adapter") && sorted.some((entry) => kinds(entry) === "gateway"),
      "the edges are deployed",
    );

    const ports: Record<string, string> = {};
    for (const entry of SUBGRAPHS) ports[`${entry.envPrefix}_PORT`] = String(await freePort());
    const edges = { GATEWAY_PORT: String(await freePort()), REST_PORT: String(await freePort()) };
    const urls = {
      ...Object.fromEntries(
        SUBGRAPHS.map((entry) => [`${entry.envPrefix}_SUBGRAPH_URL`, `http://127.0.0.1:${ports[`${entry.envPrefix}_PORT`]}/graphql`]),
      ),
      GATEWAY_URL: `http://127.0.0.1:${edges.GATEWAY_PORT}/graphql`,
    };
    let anyMetricsPort = "";
    const ready: string[] = [];
    for (const entry of sorted) {
      const kind = kinds(entry);
      const name = entry.command.slice(2).join(" ") || "(co-located)";
      const metrics = String(await freePort());
      // Only the secrets the process uses, as its container gets them: it must start and serve with no more.
      const env: Record<string, string> = {
        ...keepingSecrets(baseEnv, secretsUsed(entry)),
        ...ports,
        ...edges,
        ...urls,
        METRICS_PORT: kind === "healthcheck" ? anyMetricsPort : metrics,
        ...(entry.workersInProcess !== undefined && { WORKERS_IN_PROCESS: entry.workersInProcess }),
      };
      if (kind === "cell")
        Object.assign(env, { GATEWAY_PORT: String(await freePort()), REST_PORT: String(await freePort()), WORKERS_IN_PROCESS: "false" });
      const started = launch(entry.command, env);
      if (kind === "migrate" || kind === "healthcheck") {
        const code = await Promise.race([
          started.exited,
          new Promise<string>((resolve) => setTimeout(() => resolve("timeout"), READY_TIMEOUT_MS)),
        ]);
        assert.equal(code, 0, `${entry.command.join(" ")} (${entry.where.join(", ")}) exits 0:\n${started.stderr()}`);
      } else {
        const url =
          kind === "subgraph"
            ? `http://127.0.0.1:${ports[`${name.toUpperCase()}_PORT`]}/readyz`
            : kind === "gateway"
              ? `http://127.0.0.1:${env.GATEWAY_PORT}/readyz`
              : kind === "rest-adapter" || kind === "cell"
                ? `http://127.0.0.1:${env.REST_PORT}/readyz`
                : `http://127.0.0.1:${metrics}/readyz`;
        await waitReady(url, started.exited, started.stderr, `${entry.command.join(" ")} (${entry.where.join(", ")})`);
        anyMetricsPort = metrics;
      }
      ready.push(`${entry.command.join(" ")}  [${entry.where.join(", ")}]`);
    }
    process.stderr.write(`image:check: ready or exited 0 from the pruned tree:\n  ${ready.join("\n  ")}\n`);

    // And it serves: an account made and read through the image's legacy door.
    const rest = `http://127.0.0.1:${edges.REST_PORT}`;
    const register = await fetch(`${rest}/douyin/user/register/`, {
      method: "POST",
      body: new URLSearchParams({ username: `img_${tag}`, password: "image-check-1" }),
    });
    const registered = (await register.json()) as { status_code: number; user_id: number; token: string };
    assert.equal(registered.status_code, 0, JSON.stringify(registered));
    const info = (await (await fetch(`${rest}/douyin/user/?user_id=${registered.user_id}&token=${registered.token}`)).json()) as {
      status_code: number;
    };
    assert.equal(info.status_code, 0, JSON.stringify(info));
  });
});
