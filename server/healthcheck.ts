// `node dist/server/healthcheck.js`: the container health check. Every process of the stack,
// workers included, serves its metrics on METRICS_PORT; an answer there within two seconds
// means the process is alive and its event loop is turning. (HTTP services also answer
// /healthz and /readyz on their own ports, for orchestrators that probe those.)
import { loadConfig } from "../platform/config";

async function main(): Promise<void> {
  const config = loadConfig();
  const response = await fetch(`http://127.0.0.1:${config.ports.metrics}/metrics`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`metrics answered HTTP ${response.status}`);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`unhealthy: ${error.message}\n`);
    process.exit(1);
  },
);
