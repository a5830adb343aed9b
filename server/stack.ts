// Which services the stack has and how each one starts, derived from the subgraphs (supergraph.yaml
// paired with subgraphs/index.ts): the embedded object storage (without S3_ENDPOINT), one
// server per subgraph, one worker process per subgraph that declares workers, the gateway and
// the REST adapter. The entry (main.ts), docker-compose and the tests all start services
// through this module.
import { ConfigError, refuseDevelopmentParts, type Config, type SecretName, type ServiceNeeds } from "../platform/config";
import { Resources, type Stoppable } from "./lifecycle";
import type { Logger } from "../platform/logger";
import { Metrics } from "../platform/metrics";
import { platformReadiness, reachable } from "../platform/health";
import type { RunningService } from "../platform/http";
import { startMetricsServer } from "../platform/metrics-server";
import { buildSubgraph, hasDatabase, hasWorkers, type BuiltSubgraph, type KnownSubgraph, type Platform } from "../framework/subgraph";
import { openSubgraphDatabase } from "../framework/subgraph-database";
import { startGateway } from "../gateway/server";
import { startStorageServer } from "../media/storage-server";
import { HttpGatewayExecutor, LocalGatewayExecutor } from "../rest-adapter/gateway-client";
import { startRestAdapter } from "../rest-adapter/server";
import { KNOWN_SUBGRAPHS } from "../subgraphs";
import { openPlatform } from "./runtime";
import { startSubgraphServer } from "./subgraph-host";

export type ServiceKind = "storage" | "subgraph" | "workers" | "gateway" | "rest-adapter";

export interface ServiceSpec {
  name: string;
  kind: ServiceKind;
  subgraph?: KnownSubgraph;
  /** Whether this configuration runs it at all. */
  enabled(config: Config): boolean;
}

/** Whether a subgraph's server also runs its workers (always with an embedded database, which has one owner). */
export function workersInSubgraphProcess(config: Config, subgraph: KnownSubgraph): boolean {
  return config.workersInProcess || config.subgraphs[subgraph.entry.name]?.database.kind === "embedded";
}

export function stackServices(subgraphs: readonly KnownSubgraph[] = KNOWN_SUBGRAPHS): ServiceSpec[] {
  return [
    { name: "storage", kind: "storage", enabled: (config) => config.storage.embedded },
    ...subgraphs.map((subgraph): ServiceSpec => ({ name: subgraph.entry.name, kind: "subgraph", subgraph, enabled: () => true })),
    ...subgraphs.filter(hasWorkers).map((subgraph): ServiceSpec => ({
      name: `${subgraph.entry.name}-workers`,
      kind: "workers",
      subgraph,
      enabled: (config) => !workersInSubgraphProcess(config, subgraph),
    })),
    { name: "gateway", kind: "gateway", enabled: () => true },
    { name: "rest-adapter", kind: "rest-adapter", enabled: () => true },
  ];
}

/** A process of the stack: one service of split mode, or a cell (the co-located process: every service but workers and storage). */
export type ProcessKind = ServiceKind | "cell";

/**
 * What a process needs around it, so production refuses a development stand-in for any of it:
 * the databases and object storage of the subgraphs it runs, and the secrets of what it does.
 */
export function needsOf(kind: ProcessKind, subgraphs: readonly KnownSubgraph[]): ServiceNeeds {
  return {
    databases: subgraphs.filter((known) => hasDatabase(known.entry)).map((known) => known.entry.name),
    objectStorage: subgraphs.some((known) => known.definition.objectStorage === true),
    secrets: secretsOf(kind, subgraphs),
  };
}

/** What one service of split mode needs: its kind's secrets, its subgraph's database and storage. */
export const needsOfService = (spec: ServiceSpec): ServiceNeeds => needsOf(spec.kind, spec.subgraph ? [spec.subgraph] : []);

/** What a cell needs: every subgraph's database and storage, and the secrets of a process whose parts call each other. */
export const needsOfCell = (): ServiceNeeds => needsOf("cell", KNOWN_SUBGRAPHS);

/** The secrets a process uses, and so the only ones a deployment gives it. */
function secretsOf(kind: ProcessKind, subgraphs: readonly KnownSubgraph[]): SecretName[] {
  switch (kind) {
    case "gateway": // checks tokens, believes the address an edge names, vouches for callers to the subgraphs
      return ["JWT_SECRET", "EDGE_SECRET", "INTERNAL_SECRET"];
    case "rest-adapter": // checks a publish's token before its file, names the app's address to the gateway
      return ["JWT_SECRET", "EDGE_SECRET"];
    case "subgraph": // believes only the gateway; the user subgraph signs the tokens of its logins
      return [...(subgraphs.some((known) => known.definition.signsTokens === true) ? (["JWT_SECRET"] as const) : []), "INTERNAL_SECRET"];
    case "cell": // its REST adapter, gateway and subgraphs call each other as functions, with no header to believe
      return ["JWT_SECRET"];
    case "workers":
    case "storage":
      return [];
  }
}

/** Opens a subgraph's database (when it has one) and builds it on `platform`. */
export async function openSubgraph({ entry, definition }: KnownSubgraph, platform: Platform, resources: Resources): Promise<BuiltSubgraph> {
  const database = hasDatabase(entry)
    ? resources.add("database", await openSubgraphDatabase(platform.config, entry, platform.log), (d) => d.close())
    : null;
  return resources.add(entry.name, await buildSubgraph(entry, definition, platform, database), (s) => s.close());
}

/** Queue consumers stop (finishing their jobs) before the subgraphs and databases they use close. */
function stopWorkersFirst(platform: Platform, resources: Resources): void {
  resources.add("queues", platform.queues, (queues) => queues.close());
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
  known: KnownSubgraph,
  config: Config,
  log: Logger,
  port = config.subgraphs[known.entry.name]!.port,
): Promise<RunningService> {
  return guarded<RunningService>(async (resources) => {
    const platform = resources.add("platform", await openPlatform(config, log, known.entry.name), (p) => p.close());
    const subgraph = await openSubgraph(known, platform, resources);
    if (workersInSubgraphProcess(config, known)) await subgraph.startWorkers();
    stopWorkersFirst(platform, resources);
    warmInBackground([subgraph], platform);
    const server = resources.add("server", await startSubgraphServer(subgraph, platform, port), (s) => s.close());
    const metrics = resources.add("metrics", await startMetricsServer(platform.metrics.registry, config, log), (m) => m.close());
    return { name: server.name, url: server.url, port: server.port, metricsUrl: metrics.url };
  }, log);
}

/** A subgraph's workers alone (split mode with WORKERS_IN_PROCESS=false). */
export function startWorkersService(known: KnownSubgraph, config: Config, log: Logger): Promise<Stoppable> {
  const { entry, definition } = known;
  return guarded<Stoppable>(async (resources) => {
    const platform = resources.add("platform", await openPlatform(config, log, `${entry.name}-workers`), (p) => p.close());
    const subgraph = await openSubgraph(known, platform, resources);
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
    log.info(`${entry.name} workers running: ${definition.workers?.join(", ")}`);
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
export async function startService(spec: ServiceSpec, config: Config, log: Logger): Promise<Stoppable> {
  refuseDevelopmentParts(config, needsOfService(spec));
  switch (spec.kind) {
    case "storage":
      if (config.production) {
        throw new ConfigError("storage: the embedded object storage is for development; production uses MinIO or S3 (S3_ENDPOINT)");
      }
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
    refuseDevelopmentParts(config, needsOfCell());
    const platform = resources.add("platform", await openPlatform(config, log, "stack"), (p) => p.close());
    if (config.storage.embedded && ports.storage !== false)
      resources.add("storage", await startStorageServer(config, log, ports.storage ?? config.storage.port), (s) => s.close());
    const subgraphs = await Promise.all(KNOWN_SUBGRAPHS.map((known) => openSubgraph(known, platform, resources)));
    for (const [index, subgraph] of subgraphs.entries()) {
      if (workersInSubgraphProcess(config, KNOWN_SUBGRAPHS[index]!)) await subgraph.startWorkers();
    }
    stopWorkersFirst(platform, resources);
    warmInBackground(subgraphs, platform);
    const locations = Object.fromEntries(subgraphs.map((subgraph) => [subgraph.name, subgraph]));
    const gateway = resources.add("gateway", await startGateway(platform, locations, ports.gateway ?? config.ports.gateway), (g) =>
      g.close(),
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
