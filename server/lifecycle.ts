// Start-up and shutdown of a service process: resources are closed in reverse order of opening,
// also when start-up fails halfway, and signals end the process cleanly within a deadline.
import { ConfigError, loadConfig, type Config } from "../platform/config";
import { createLogger, exitAfterFlush, type Logger } from "../platform/logger";
import { EmbeddedDatabaseBusyError } from "../platform/embedded-postgres";
import { RedisUnavailableError } from "../platform/redis";
import { stopTracing } from "../platform/tracing";
import { markDraining } from "../platform/health";

export class Resources {
  private readonly closers: { name: string; close: () => unknown }[] = [];

  /** Registers something to close and hands it back. */
  add<T>(name: string, resource: T, close: (resource: T) => unknown): T {
    this.closers.push({ name, close: () => close(resource) });
    return resource;
  }

  async closeAll(log?: Logger): Promise<void> {
    for (const { name, close } of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        log?.warn({ err: error, resource: name }, "error while closing");
      }
    }
  }
}

export interface Stoppable {
  /** Where this service's process serves GET /metrics (its own port, METRICS_PORT). */
  readonly metricsUrl?: string;
  close(): Promise<void>;
}

/**
 * Runs a service as the main module of its process: validates configuration, starts it, and
 * on SIGINT/SIGTERM closes it, giving up after the configured shutdown timeout.
 */
export function runAsProcess(service: string, start: (config: Config, log: Logger) => Promise<Stoppable>): void {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${service}: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
  const log = createLogger(config, service);
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled promise rejection"));

  start(config, log).then(
    (running) => {
      // Tells a launcher that forked this process (server/main.ts) that it is serving.
      process.send?.({ type: "ready", service });
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        log.info({ signal, delayMs: config.shutdownDelayMs }, "shutting down");
        const deadline = setTimeout(() => {
          log.error("shutdown deadline passed, exiting");
          exitAfterFlush(log, 1);
        }, config.shutdownDelayMs + config.shutdownTimeoutMs);
        deadline.unref();
        // Readiness goes first, so balancers stop sending requests; what they sent is still served.
        markDraining();
        new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs))
          .then(() => running.close())
          // The last spans (the shutdown's own included) are exported before the process ends.
          .then(() => stopTracing().catch((error: unknown) => log.warn({ err: error }, "could not export the last spans")))
          .then(
            () => exitAfterFlush(log, 0),
            (error) => {
              log.error({ err: error }, "error during shutdown");
              exitAfterFlush(log, 1);
            },
          );
      };
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGTERM", () => stop("SIGTERM"));
    },
    (error: unknown) => {
      if (error instanceof ConfigError) {
        // A configuration this process refuses to run with: say what to set, as a bad variable is said.
        process.stderr.write(`${service}: ${error.message}\n`);
        log.fatal(`${service} cannot start: ${error.message}`);
        return exitAfterFlush(log, 78);
      }
      const expected = error instanceof RedisUnavailableError || error instanceof ConfigError || error instanceof EmbeddedDatabaseBusyError;
      if (expected) log.fatal(`${service} cannot start: ${(error as Error).message}`);
      else log.fatal({ err: error }, `${service} failed to start`);
      exitAfterFlush(log, 1);
    },
  );
}
