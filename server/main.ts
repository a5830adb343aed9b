// `npm start`: runs the whole stack on this machine. By default in ONE process (co-located:
// subgraphs, gateway and REST adapter call each other as functions); `npm start -- --split`
// runs one child process per service instead, talking HTTP, as deployments do. `node
// dist/server/main.js <service>` runs one service in this process, which is what each
// docker-compose container runs. Which services run, and with which id-generator worker ids,
// is decided here and in stack.ts (from supergraph.yaml) and nowhere else.
// First: tracing must start before the modules it instruments load.
import "../platform/tracing-boot";
import { fork, type ChildProcess } from "node:child_process";
import { ConfigError, keepingSecrets, loadConfig, withStartSecrets, type Config } from "../platform/config";
import { runAsProcess } from "./lifecycle";
import { createLogger, exitAfterFlush } from "../platform/logger";
import { connectRedis, RedisUnavailableError } from "../platform/redis";
import { needsOfService, startColocated, startService, stackServices, type ServiceSpec } from "./stack";

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

function configOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}

/** An embedded database has one owner process: services in processes of their own need PostgreSQL. */
function refuseEmbeddedWhenSplit(config: Config, subgraphs: string[]): void {
  const embedded = subgraphs.filter((name) => config.subgraphs[name]?.database.kind === "embedded");
  if (embedded.length === 0) return;
  const variables = embedded.map((name) => `${name.toUpperCase()}_DATABASE_URL`).join(", ");
  process.stderr.write(
    `split mode runs each subgraph in a process of its own, and the embedded database has one owner process: ` +
      `set ${variables} to PostgreSQL databases, or run \`npm start\` without --split\n`,
  );
  process.exit(78);
}

function printBanner(config: Config, seconds: string, mode: string): void {
  process.stdout.write(
    [
      "",
      `  Douyin supergraph ready in ${seconds} s (${mode})`,
      `  legacy REST   http://127.0.0.1:${config.ports.rest}/douyin/`,
      `  web client    http://127.0.0.1:${config.ports.gateway}/`,
      `  GraphQL       http://127.0.0.1:${config.ports.gateway}/graphql${config.graphql.sandbox ? "  (open it in a browser for Apollo Sandbox)" : ""}`,
      `  media         ${config.storage.publicBaseUrl}/`,
      `  data          ${Object.values(config.subgraphs).some((s) => s.database.kind === "embedded") ? config.dataDir : "PostgreSQL"}`,
      "  Ctrl-C stops everything.",
      "",
    ].join("\n") + "\n",
  );
}

/** Every service in a child process of its own, started in dependency order, stopped together. */
async function launchSplit(): Promise<void> {
  // The secrets the services believe each other by: made here once (unless set), given to every child.
  const stackEnv = withStartSecrets(process.env);
  const config = configOrExit(stackEnv);
  refuseEmbeddedWhenSplit(config, Object.keys(config.subgraphs));
  const log = createLogger(config, "launcher");
  const started = Date.now();
  try {
    await (await connectRedis(config, { name: "launcher-check" })).quit();
  } catch (error) {
    if (!(error instanceof RedisUnavailableError)) throw error;
    log.fatal(error.message);
    exitAfterFlush(log, 1);
  }

  const services = stackServices().filter((spec) => spec.enabled(config));
  const children = new Map<string, ChildProcess>();
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping the stack");
    // The edges first, so no new work reaches the subgraphs while they drain.
    for (const spec of [...services].reverse()) {
      const child = children.get(spec.name);
      if (!child || child.exitCode !== null) continue;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, config.shutdownTimeoutMs))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    exitAfterFlush(log, code);
  };
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  const launch = (spec: ServiceSpec) => {
    const env = {
      // Each service only the secrets it uses, as a deployment gives them (server/stack.ts needsOf).
      ...keepingSecrets(stackEnv, needsOfService(spec).secrets),
      // One machine, one metrics port per process: METRICS_PORT, then the next ones in service order.
      METRICS_PORT: String(config.ports.metrics + services.indexOf(spec)),
    };
    const child = fork(__filename, [spec.name], { env, stdio: "inherit" });
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
  // Storage first (subgraphs create their bucket at start), then subgraphs and their workers,
  // then the edges, which only take traffic once what they call is up.
  const waves: ServiceSpec["kind"][][] = [["storage"], ["subgraph", "workers"], ["gateway"], ["rest-adapter"]];
  try {
    for (const kinds of waves) await Promise.all(services.filter((spec) => kinds.includes(spec.kind)).map(launch));
  } catch (error) {
    log.fatal((error as Error).message);
    await stopAll(1);
    return;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log.info({ seconds }, "stack ready");
  printBanner(config, seconds, "split: one process per service");
}

if (require.main === module) {
  const [argument] = process.argv.slice(2);
  if (argument === "--split") void launchSplit();
  else if (!argument) {
    const started = Date.now();
    runAsProcess("stack", async (config, log) => {
      const stack = await startColocated(config, log);
      printBanner(config, ((Date.now() - started) / 1000).toFixed(1), "co-located: one process");
      return stack;
    });
  } else {
    const spec = stackServices().find((candidate) => candidate.name === argument);
    if (!spec) {
      process.stderr.write(
        `unknown service "${argument}"; one of: ${stackServices()
          .map((s) => s.name)
          .join(", ")} (or --split)\n`,
      );
      process.exit(64);
    }
    // (Production says more, at start: every development stand-in the service would use.)
    const config = configOrExit();
    if (spec.subgraph && !config.production) refuseEmbeddedWhenSplit(config, [spec.subgraph.entry.name]);
    runAsProcess(spec.name, (config, log) => startService(spec, config, log));
  }
}
