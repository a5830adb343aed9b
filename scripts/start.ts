// `npm start`: runs the whole stack on one machine, one child process per service, with the
// same entry points docker-compose runs one container each. Which services run, and with which
// id-generator worker ids, is decided here and nowhere else.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ConfigError, loadConfig, type Config } from "../common/config";
import { createLogger } from "../common/logger";
import { connectRedis, RedisUnavailableError } from "../common/redis";

interface ServiceSpec {
  name: string;
  entry: string;
  /** Started (and ready) before the others, which need it at start-up. */
  first?: boolean;
  /** Whether this configuration runs it at all. */
  enabled?: (config: Config) => boolean;
  /** Processes that create rows need distinct id-generator worker ids. */
  idWorkerId?: number;
}

export const SERVICES: ServiceSpec[] = [
  { name: "storage", entry: "media/storage-server.js", first: true, enabled: (c) => c.storage.embedded },
  { name: "user", entry: "subgraphs/user/server.js", idWorkerId: 1 },
  { name: "video", entry: "subgraphs/video/server.js", idWorkerId: 2 },
  { name: "relation", entry: "subgraphs/relation/server.js", idWorkerId: 3 },
  { name: "gateway", entry: "gateway/server.js" },
  { name: "rest-adapter", entry: "rest-adapter/server.js" },
];

const READY_TIMEOUT_MS = 120_000;

/** Resolves when the child reports it is serving (see runAsProcess), rejects if it dies first. */
function whenReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
    child.on("message", (message: { type?: string }) => {
      if (message?.type !== "ready") return;
      clearTimeout(timer);
      resolve();
    });
    child.once("exit", () => {
      clearTimeout(timer);
      reject(new Error("exited during start-up"));
    });
  });
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const log = createLogger(config, "launcher");
  const started = Date.now();
  try {
    await (await connectRedis(config, { name: "launcher-check" })).quit();
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    log.fatal(error.message);
    process.exit(1);
  }

  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping the stack");
    // The edges first, so no new work reaches the subgraphs while they drain.
    for (const spec of [...SERVICES].reverse()) {
      const child = children.get(spec.name);
      if (!child || child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, config.shutdownTimeoutMs))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    process.exit(code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  const launch = (spec: ServiceSpec) => {
    const env = { ...process.env, ...(spec.idWorkerId !== undefined && { ID_WORKER_ID: String(spec.idWorkerId) }) };
    const child = fork(path.join(__dirname, "..", spec.entry), [], { env, stdio: "inherit" });
    children.set(spec.name, child);
    child.on("exit", (code, signal) => {
      if (stopping) return;
      log.error({ service: spec.name, code, signal }, `${spec.name} exited unexpectedly; stopping the stack`);
      void stopAll(1);
    });
    return whenReady(child).catch((error: Error) => {
      throw new Error(`${spec.name}: ${error.message}`);
    });
  };
  const enabled = SERVICES.filter((spec) => spec.enabled?.(config) ?? true);
  try {
    await Promise.all(enabled.filter((spec) => spec.first).map(launch));
    await Promise.all(enabled.filter((spec) => !spec.first).map(launch));
  } catch (error) {
    log.fatal((error as Error).message);
    await stopAll(1);
    return;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log.info({ seconds }, "stack ready");
  process.stdout.write(
    [
      "",
      `  Douyin supergraph ready in ${seconds} s`,
      `  legacy REST   http://127.0.0.1:${config.ports.rest}/douyin/`,
      `  GraphQL       http://127.0.0.1:${config.ports.gateway}/graphql${config.graphql.sandbox ? "  (open it in a browser for Apollo Sandbox)" : ""}`,
      `  media         ${config.storage.publicBaseUrl}/`,
      `  data          ${Object.values(config.databases).some((d) => d.kind === "embedded") ? config.dataDir : "PostgreSQL"}`,
      "  Ctrl-C stops everything.",
      "",
    ].join("\n") + "\n",
  );
}

if (require.main === module) void main();
