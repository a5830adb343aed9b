// Structured JSON logs (pino), one child logger per request carrying its request id.
import { randomUUID } from "node:crypto";
import pino, { type Logger } from "pino";
import type { Config } from "./config";
import { currentTraceId, tracingEnabled } from "./tracing";

export type { Logger };

export function createLogger(config: Pick<Config, "logLevel">, service: string): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service },
      // With tracing on, lines written inside a trace (a job, a drain) name it.
      ...(tracingEnabled() && {
        mixin: () => {
          const traceId = currentTraceId();
          return traceId ? { traceId } : {};
        },
      }),
      redact: { paths: ["password", "token", "*.password", "*.token", "headers.authorization"], censor: "[redacted]" },
    },
    // Written in the background in 4 kB chunks, not with a blocking write per line.
    pino.destination({ sync: false, minLength: 4096 }),
  );
}

/** Writes out what the logger still buffers, then ends the process (a fatal line must not be lost). */
export function exitAfterFlush(log: Logger, code: number): never {
  try {
    log.flush();
    (log as unknown as { [key: symbol]: { flushSync?: () => void } })[pino.symbols.streamSym]?.flushSync?.();
  } finally {
    process.exit(code);
  }
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** Keeps a well-formed incoming request id so it follows the request, or makes a new one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID_PATTERN.test(value) ? value : randomUUID();
}
