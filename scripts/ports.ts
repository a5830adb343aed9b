// Ports for the processes a tool or a test starts itself, chosen below the kernel's ephemeral
// range: a port the kernel hands out (`listen(0)`) lies inside that range, where any outgoing
// connection (to PostgreSQL, Redis, between the processes) may take it in the moment before the
// process that was given it listens. bench:cluster lost a run to that: HAProxy could not bind.
import fs from "node:fs";
import net from "node:net";

/** Where the ephemeral range starts (Linux's default when it cannot be read). */
function ephemeralStart(): number {
  try {
    const low = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

const HIGHEST = ephemeralStart() - 1;
const LOWEST = Math.min(20_000, HIGHEST - 4_000);
/** Given out by this process already: not given twice, even before their processes listen. */
const given = new Set<number>();

/** Whether `port` can be listened on now. */
export const bindable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });

/** The first of `count` consecutive ports, each free now and never given out before by this process. */
export async function freePortRun(count: number): Promise<number> {
  for (let tries = 0; tries < 1_000; tries++) {
    const first = LOWEST + Math.floor(Math.random() * (HIGHEST - LOWEST - count));
    const run = Array.from({ length: count }, (_, offset) => first + offset);
    if (run.some((port) => given.has(port))) continue;
    if (!(await Promise.all(run.map(bindable))).every(Boolean)) continue;
    run.forEach((port) => given.add(port));
    return first;
  }
  throw new Error(`no ${count} free ports in a row between ${LOWEST} and ${HIGHEST}`);
}

/** A port free on 127.0.0.1 now, below the ephemeral range. */
export const freePort = () => freePortRun(1);
