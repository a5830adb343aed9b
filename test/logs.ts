// A logger whose lines a test can read: the stack's own pino settings, written to memory.
import { Writable } from "node:stream";
import pino from "pino";
import type { Logger } from "../platform/logger";

export interface LogLine {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/** pino's numeric levels. */
export const LOG_LEVELS = { info: 30, warn: 40, error: 50 } as const;

export function captureLogs(level = "info"): { logger: Logger; lines: () => LogLine[] } {
  const lines: LogLine[] = [];
  let partial = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = partial + chunk.toString("utf8");
      const complete = text.split("\n");
      partial = complete.pop() ?? "";
      for (const line of complete) if (line.trim() !== "") lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: pino({ level, base: { service: "test-stack" } }, sink), lines: () => [...lines] };
}
