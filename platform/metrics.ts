// Prometheus metrics (prom-client), one registry per service so several services can share a
// process (the launcher, the tests) without mixing their numbers.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<"route" | "method" | "status">;
  /** Legacy answers by route and envelope status_code (a failure is an HTTP 200 to the app). */
  readonly legacyResponses: Counter<"route" | "status_code">;
  readonly httpDuration: Histogram<"route" | "method">;
  readonly dbStatements: Counter<"database">;
  readonly cacheLookups: Counter<"cache" | "result">;
  /** Writers' waits for every process to drop what they changed, by outcome (acknowledged by all, or timed out). */
  readonly cacheInvalidations: Histogram<"outcome">;
  readonly counterChangesApplied: Counter<"subgraph">;
  /** GraphQL operations at the gateway, by operation name (bounded) and type. */
  readonly graphqlDuration: Histogram<"operation" | "type">;
  readonly graphqlErrors: Counter<"operation" | "code">;
  /** Each fetch the gateway makes to a subgraph (over HTTP or in process). */
  readonly subgraphFetchDuration: Histogram<"subgraph">;
  readonly subgraphFetchErrors: Counter<"subgraph" | "code">;
  readonly rateLimitRefusals: Counter<"limiter">;
  private queueSource: (() => Promise<{ queue: string; state: string; jobs: number }[]>) | undefined;
  /** Counter changes written and not applied yet, by subgraph (read from each outbox on scrape). */
  private readonly pendingSources = new Map<string, () => Promise<number>>();
  /** Events written to an event outbox and not relayed to their queues yet, by subgraph. */
  private readonly pendingEventSources = new Map<string, () => Promise<number>>();

  constructor(service: string, options: { defaultMetrics?: boolean } = {}) {
    this.registry.setDefaultLabels({ service });
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: "http_requests_total",
      help: "HTTP requests answered, by route, method and status",
      labelNames: ["route", "method", "status"],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "Time to answer an HTTP request",
      labelNames: ["route", "method"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.legacyResponses = new Counter({
      name: "legacy_responses_total",
      help: "Legacy REST answers by route and envelope status_code (0 success; the app sees failures as HTTP 200)",
      labelNames: ["route", "status_code"],
      registers: [this.registry],
    });
    this.dbStatements = new Counter({
      name: "db_statements_total",
      help: "SQL statements sent to the database",
      labelNames: ["database"],
      registers: [this.registry],
    });
    this.cacheInvalidations = new Histogram({
      name: "cache_invalidation_seconds",
      help: "Time a writer waited for every process to drop the cached entries its write changed, by outcome (acknowledged or timeout)",
      labelNames: ["outcome"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
    this.cacheLookups = new Counter({
      name: "cache_lookups_total",
      help: "Lookups in the in-process caches, by cache and result (hit or miss)",
      labelNames: ["cache", "result"],
      registers: [this.registry],
    });
    this.counterChangesApplied = new Counter({
      name: "counter_changes_applied_total",
      help: "Counter outbox rows applied, by subgraph",
      labelNames: ["subgraph"],
      registers: [this.registry],
    });
    this.graphqlDuration = new Histogram({
      name: "graphql_operation_duration_seconds",
      help: "Time the gateway took to answer a GraphQL operation, by operation name and type",
      labelNames: ["operation", "type"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.graphqlErrors = new Counter({
      name: "graphql_operation_errors_total",
      help: "Errors in GraphQL answers at the gateway, by operation name and error code",
      labelNames: ["operation", "code"],
      registers: [this.registry],
    });
    this.subgraphFetchDuration = new Histogram({
      name: "subgraph_fetch_duration_seconds",
      help: "Time one gateway fetch to a subgraph took",
      labelNames: ["subgraph"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.subgraphFetchErrors = new Counter({
      name: "subgraph_fetch_errors_total",
      help: "Gateway fetches to a subgraph that failed or answered errors, by subgraph and error code",
      labelNames: ["subgraph", "code"],
      registers: [this.registry],
    });
    this.rateLimitRefusals = new Counter({
      name: "rate_limit_refusals_total",
      help: "Requests refused by a rate limit, by limiter",
      labelNames: ["limiter"],
      registers: [this.registry],
    });
    const queues = () => this.queueSource?.().catch(() => []) ?? Promise.resolve([]);
    new Gauge({
      name: "queue_jobs",
      help: "BullMQ jobs by queue and state (waiting, active, delayed, failed), as this process sees its queues",
      labelNames: ["queue", "state"],
      registers: [this.registry],
      async collect() {
        const rows = await queues();
        for (const { queue, state, jobs } of rows) this.set({ queue, state }, jobs);
      },
    });
    const sources = this.pendingSources;
    new Gauge({
      name: "counter_changes_pending",
      help: "Counter outbox rows written and not applied yet, by subgraph (the counters' lag)",
      labelNames: ["subgraph"],
      registers: [this.registry],
      async collect() {
        for (const [subgraph, count] of sources) this.set({ subgraph }, await count().catch(() => -1));
      },
    });
    const eventSources = this.pendingEventSources;
    new Gauge({
      name: "outbox_events_pending",
      help: "Events written to a subgraph's event outbox and not relayed to their queues yet",
      labelNames: ["subgraph"],
      registers: [this.registry],
      async collect() {
        for (const [subgraph, count] of eventSources) this.set({ subgraph }, await count().catch(() => -1));
      },
    });
  }

  /** Reports the process's queues in `queue_jobs`. */
  countQueues(source: () => Promise<{ queue: string; state: string; jobs: number }[]>): void {
    this.queueSource = source;
  }

  /** Reports a subgraph's events waiting for the relay in `outbox_events_pending`. */
  countPendingEvents(subgraph: string, count: () => Promise<number>): void {
    this.pendingEventSources.set(subgraph, count);
  }

  /** Reports a subgraph's pending counter changes in `counter_changes_pending`. */
  countPending(subgraph: string, count: () => Promise<number>): void {
    this.pendingSources.set(subgraph, count);
  }
}
