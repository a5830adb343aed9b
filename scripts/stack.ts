// Which services the stack has and how each one starts, derived from supergraph.yaml: the
// embedded object storage (without S3_ENDPOINT), one server per subgraph, one worker process
// per subgraph that has async work (workers.ts), the gateway and the REST adapter. The
// launcher (start.ts), docker-compose and the tests all start services through this module.
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../platform/config";
import { Resources, type Stoppable } from "../platform/lifecycle";
import type { Logger } from "../platform/logger";
import { Metrics } from "../platform/metrics";
import { SUBGRAPHS, type SubgraphEntry } from "../platform/registry";
import { reachable } from "../platform/health";
import { startMetricsServer } from "../platform/metrics-server";
import { openPlatform, platformReadiness } from "../platform/runtime";
import { buildSubgraph, hasDatabase, loadDefinition, type BuiltSubgraph, type Platform } from "../platform/subgraph";
import { openSubgraphDatabase } from "../platform/subgraph-database";
import { secretMatches, startSubgraphServer, type RunningService } from "../platform/subgraph-host";
import { INTERNAL_SECRET_HEADER } from "../platform/headers";
import type { FastifyInstance } from "fastify";
import { startGateway } from "../gateway/server";
import { startStorageServer } from "../media/storage-server";
import { HttpGatewayExecutor, LocalGatewayExecutor } from "../rest-adapter/gateway-client";
import { seedDemo, SEED_ROUTE } from "./seed-demo";
import { startRestAdapter } from "../rest-adapter/server";

export type ServiceKind = "storage" | "subgraph" | "workers" | "gateway" | "rest-adapter";

export interface ServiceSpec {
  name: string;
  kind: ServiceKind;
  subgraph?: SubgraphEntry;
  /** Whether this configuration runs it at all. */
  enabled(config: Config): boolean;
}

/** Whether a subgraph has queue consumers (the template's workers.ts). */
export function hasWorkers(entry: SubgraphEntry): boolean {
  return fs.existsSync(path.join(entry.folder, "workers.ts")) || fs.existsSync(path.join(path.dirname(entry.module), "workers.js"));
}

/** Whether a subgraph's server also runs its workers (always with an embedded database, which has one owner). */
export function workersInSubgraphProcess(config: Config, entry: SubgraphEntry): boolean {
  return config.workersInProcess || config.subgraphs[entry.name]?.database.kind === "embedded";
}

export function stackServices(registry: readonly SubgraphEntry[] = SUBGRAPHS): ServiceSpec[] {
  return [
    { name: "storage", kind: "storage", enabled: (config) => config.storage.embedded },
    ...registry.map((entry): ServiceSpec => ({ name: entry.name, kind: "subgraph", subgraph: entry, enabled: () => true })),
    ...registry.filter(hasWorkers).map((entry): ServiceSpec => ({
      name: `${entry.name}-workers`,
      kind: "workers",
      subgraph: entry,
      enabled: (config) => !workersInSubgraphProcess(config, entry),
    })),
    { name: "gateway", kind: "gateway", enabled: () => true },
    { name: "rest-adapter", kind: "rest-adapter", enabled: () => true },
  ];
}

/** Opens a subgraph's database (when it has one) and builds it on `platform`. */
export async function openSubgraph(entry: SubgraphEntry, platform: Platform, resources: Resources): Promise<BuiltSubgraph> {
  const database = hasDatabase(entry)
    ? resources.add("database", await openSubgraphDatabase(platform.config, entry, platform.log), (d) => d.close())
    : null;
  return resources.add(entry.name, await buildSubgraph(entry, loadDefinition(entry), platform, database), (s) => s.close());
}

/** Queue consumers stop (finishing their jobs) before the subgraphs and databases they use close. */
function stopWorkersFirst(platform: Platform, resources: Resources): void {
  resources.add("queues", platform.queues, (queues) => queues.close());
}

/**
 * `npm run seed:demo` while this process holds the embedded database: the seeding runs here,
 * streaming its progress as JSON lines. Only for callers holding the internal secret, and
 * never in production.
 */
function adminRoutes(app: FastifyInstance, config: Config): void {
  app.post(SEED_ROUTE, async (request, reply) => {
    if (!secretMatches(request.headers[INTERNAL_SECRET_HEADER], config.auth.internalSecret)) {
      return reply.code(403).send({ error: "this route only answers callers holding the internal secret" });
    }
    reply.hijack();
    reply.raw.writeHead(200, { "content-type": "application/x-ndjson" });
    const send = (line: object) => reply.raw.write(`${JSON.stringify(line)}\n`);
    try {
      await seedDemo(config, {
        table: (table, total) => {
          send({ table, total });
          return { increment: (increment) => send({ table, increment }) };
        },
        done: (done) => send({ done }),
      });
    } catch (error) {
      send({ error: (error as Error).message });
    }
    reply.raw.end();
  });
}

/**
 * Fills the subgraphs' caches from their databases once they serve, so the first requests
 * after a start find the hot entities in memory; serving does not wait for it.
 */
function warmInBackground(subgraphs: BuiltSubgraph[], platform: Platform): void {
  const warm = () => {
    const started = Date.now();
    void Promise.all(subgraphs.map(async (subgraph) => [subgraph.name, await subgraph.warm()] as const)).then(
      (warmed) => platform.log.info({ ms: Date.now() - started, entries: Object.fromEntries(warmed) }, "caches warmed"),
      (error: unknown) => platform.log.warn({ err: error }, "could not warm the caches; they fill as requests come"),
    );
  };
  warm();
  // Told to forget everything (bulk changes such as seed:demo, a lost bus connection): fill them again.
  let again: NodeJS.Timeout | undefined;
  platform.bus.afterDropEverything(() => {
    clearTimeout(again);
    again = setTimeout(warm, REWARM_DELAY_MS);
    again.unref();
  });
}

/** Wait after a "drop everything" before warming again (bulk changes often come in bursts). */
const REWARM_DELAY_MS = 1000;

/** Starts everything `resources` closes again, or closes what was started when start-up fails. */
async function guarded<T extends Stoppable>(start: (resources: Resources) => Promise<Omit<T, "close">>, log: Logger): Promise<T> {
  const resources = new Resources();
  try {
    const started = await start(resources);
    return { ...started, close: () => resources.closeAll(log) } as T;
  } catch (error) {
    await resources.closeAll(log);
    throw error;
  }
}

/** One subgraph over HTTP (split mode), with its workers when they belong in its process. */
export function startSubgraphService(
  entry: SubgraphEntry,
  config: Config,
  log: Logger,
  port = config.subgraphs[entry.name]!.port,
): Promise<RunningService> {
  return guarded<RunningService>(async (resources) => {
    const platform = resources.add("platform", await openPlatform(config, log, entry.name), (p) => p.close());
    const subgraph = await openSubgraph(entry, platform, resources);
    if (workersInSubgraphProcess(config, entry)) await subgraph.startWorkers();
    stopWorkersFirst(platform, resources);
    warmInBackground([subgraph], platform);
    const server = resources.add("server", await startSubgraphServer(subgraph, platform, port), (s) => s.close());
    const metrics = resources.add("metrics", await startMetricsServer(platform.metrics.registry, config, log), (m) => m.close());
    return { name: server.name, url: server.url, port: server.port, metricsUrl: metrics.url };
  }, log);
}

/** A subgraph's workers alone (split mode with WORKERS_IN_PROCESS=false). */
export function startWorkersService(entry: SubgraphEntry, config: Config, log: Logger): Promise<Stoppable> {
  return guarded<Stoppable>(async (resources) => {
    const platform = resources.add("platform", await openPlatform(config, log, `${entry.name}-workers`), (p) => p.close());
    const subgraph = await openSubgraph(entry, platform, resources);
    await subgraph.startWorkers();
    stopWorkersFirst(platform, resources);
    const metrics = resources.add(
      "metrics",
      await startMetricsServer(platform.metrics.registry, config, log, config.ports.metrics, () => ({
        ...platformReadiness(platform),
        ...subgraph.readiness(),
      })),
      (m) => m.close(),
    );
    log.info(`${entry.name} workers running`);
    return { metricsUrl: metrics.url };
  }, log);
}

export function startGatewayService(config: Config, log: Logger, port = config.ports.gateway): Promise<RunningService> {
  return guarded<RunningService>(async (resources) => {
    const platform = resources.add("platform", await openPlatform(config, log, "gateway"), (p) => p.close());
    const urls = Object.fromEntries(Object.entries(config.subgraphs).map(([name, subgraph]) => [name, subgraph.url]));
    const gateway = resources.add("gateway", await startGateway(platform, urls, port), (g) => g.close());
    const metrics = resources.add("metrics", await startMetricsServer(platform.metrics.registry, config, log), (m) => m.close());
    return { name: gateway.name, url: gateway.url, port: gateway.port, metricsUrl: metrics.url };
  }, log);
}

export function startRestService(
  config: Config,
  log: Logger,
  port = config.ports.rest,
  gatewayUrl = config.gatewayUrl,
): Promise<RunningService> {
  return guarded<RunningService>(async (resources) => {
    const metrics = new Metrics("rest-adapter", { defaultMetrics: true });
    const rest = resources.add(
      "rest-adapter",
      await startRestAdapter(
        {
          config,
          log,
          metrics,
          gateway: new HttpGatewayExecutor(gatewayUrl, config),
          dependencies: () => ({ gateway: () => reachable(gatewayUrl) }),
        },
        port,
      ),
      (r) => r.close(),
    );
    const metricsServer = resources.add("metrics", await startMetricsServer(metrics.registry, config, log), (m) => m.close());
    log.info({ gatewayUrl }, "REST adapter calls the gateway over HTTP");
    return { name: rest.name, url: rest.url, port: rest.port, metricsUrl: metricsServer.url };
  }, log);
}

/** Starts one service of the split stack in this process. */
export function startService(spec: ServiceSpec, config: Config, log: Logger): Promise<Stoppable> {
  switch (spec.kind) {
    case "storage":
      return startStorageServer(config, log);
    case "subgraph":
      return startSubgraphService(spec.subgraph!, config, log);
    case "workers":
      return startWorkersService(spec.subgraph!, config, log);
    case "gateway":
      return startGatewayService(config, log);
    case "rest-adapter":
      return startRestService(config, log);
  }
}

export interface ColocatedStack extends Stoppable {
  restUrl: string;
  graphqlUrl: string;
  /** The process's metrics server (GET /metrics). */
  metricsUrl: string;
  /** The process's one metrics registry (every service's numbers, told apart by labels). */
  platform: Platform;
}

/**
 * The whole stack in this process (the `npm start` default): the subgraphs built once, the
 * gateway reaching them by function calls, the REST adapter calling the gateway in-process.
 * Federation is unchanged: the same supergraph, query plans and batched entity references.
 */
export function startColocated(
  config: Config,
  log: Logger,
  /** Ports to use instead of the configured ones (0: any free one); `storage: false` when it runs elsewhere. */
  ports: { rest?: number; gateway?: number; metrics?: number; storage?: number | false } = {},
): Promise<ColocatedStack> {
  return guarded<ColocatedStack>(async (resources) => {
    const platform = resources.add("platform", await openPlatform(config, log, "stack"), (p) => p.close());
    if (config.storage.embedded && ports.storage !== false)
      resources.add("storage", await startStorageServer(config, log, ports.storage ?? config.storage.port), (s) => s.close());
    const subgraphs = await Promise.all(SUBGRAPHS.map((entry) => openSubgraph(entry, platform, resources)));
    for (const [index, subgraph] of subgraphs.entries()) {
      if (workersInSubgraphProcess(config, SUBGRAPHS[index]!)) await subgraph.startWorkers();
    }
    stopWorkersFirst(platform, resources);
    warmInBackground(subgraphs, platform);
    const locations = Object.fromEntries(subgraphs.map((subgraph) => [subgraph.name, subgraph]));
    const gateway = resources.add(
      "gateway",
      await startGateway(platform, locations, ports.gateway ?? config.ports.gateway, (app) => {
        if (!config.production) adminRoutes(app, config);
      }),
      (g) => g.close(),
    );
    const rest = resources.add(
      "rest-adapter",
      await startRestAdapter(
        {
          config,
          log,
          metrics: platform.metrics,
          gateway: new LocalGatewayExecutor(gateway.gateway),
          readiness: () => ({ ...platformReadiness(platform), ...Object.assign({}, ...subgraphs.map((subgraph) => subgraph.readiness())) }),
        },
        ports.rest ?? config.ports.rest,
      ),
      (r) => r.close(),
    );
    const metrics = resources.add(
      "metrics",
      await startMetricsServer(platform.metrics.registry, config, log, ports.metrics ?? config.ports.metrics),
      (m) => m.close(),
    );
    return { restUrl: rest.url, graphqlUrl: gateway.url, metricsUrl: metrics.url, platform };
  }, log);
}
