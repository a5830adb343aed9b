// Health endpoints on every service port: `/healthz` answers while the process can answer at
// all (liveness), `/readyz` only while what it needs of its own is reachable (readiness): its
// database, Redis, object storage. What an edge calls over the network (the gateway's
// subgraphs, the REST adapter's gateway) is reported by `/readyz` but does not make it unready:
// every replica shares those, so pulling the edges when one subgraph is down would turn a
// partial outage (fields of the healthy subgraphs still answer, the rest fail with
// UNAVAILABLE) into a total one. Orchestrators route traffic by readiness and restart by liveness.
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";

/** Named checks; each resolves when its dependency answers and throws (or times out) otherwise. */
export type ReadinessChecks = Record<string, () => Promise<unknown>>;

/** Longest a readiness check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2_000;

export interface Readiness {
  ready: boolean;
  checks: Record<string, "ok" | string>;
}

export async function runChecks(checks: ReadinessChecks, timeoutMs = CHECK_TIMEOUT_MS): Promise<Readiness> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, string]> => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        return [name, "ok"];
      } catch (error) {
        return [name, (error as Error).message || String(error)];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: results.every(([, result]) => result === "ok"), checks: Object.fromEntries(results) };
}

/**
 * Adds /healthz and /readyz to a service's port; `checks` (required) and `dependencies`
 * (reported only) may be filled in after the server is made.
 */
export function healthRoutes(app: FastifyInstance, checks: () => ReadinessChecks, dependencies: () => ReadinessChecks = () => ({})): void {
  app.get("/healthz", async () => LIVENESS);
  app.get("/readyz", async (_request, reply) => {
    if (draining) return reply.code(503).send(DRAINING);
    const { httpStatus, body } = await readinessReport(checks(), dependencies());
    return reply.code(httpStatus).send(body);
  });
}

/**
 * Set once the process is shutting down: every `/readyz` of the process answers 503 from then
 * on, so load balancers stop sending it requests while it still serves the ones they sent.
 */
let draining = false;
const DRAINING = { status: "draining" } as const;

export function markDraining(): void {
  draining = true;
}

/** What `/healthz` answers while the process answers at all. */
export const LIVENESS = { status: "ok" } as const;

/** What `/readyz` answers: 200 when every check passes (503 otherwise), naming each result. */
export async function readinessReport(checks: ReadinessChecks, dependencies: ReadinessChecks = {}) {
  const [readiness, reported] = await Promise.all([runChecks(checks), runChecks(dependencies)]);
  return {
    httpStatus: readiness.ready ? 200 : 503,
    body: {
      status: readiness.ready ? (reported.ready ? "ready" : "ready, degraded") : "not ready",
      checks: readiness.checks,
      dependencies: reported.checks,
    },
  };
}

/** Whether an HTTP service answers its liveness probe (what an edge asks of what it calls). */
export async function reachable(url: string, timeoutMs = CHECK_TIMEOUT_MS): Promise<void> {
  const response = await fetch(new URL("/healthz", url), { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`${new URL(url).host} answered HTTP ${response.status}`);
}

/** Readiness of what the platform itself depends on: Redis, where it has one. */
export function platformReadiness(platform: { redis: Redis | null }): ReadinessChecks {
  const redis = platform.redis;
  return redis ? { redis: () => redis.ping() } : {};
}
