// Prometheus metrics (prom-client), one registry per service so several services can share a
// process (the launcher, the tests) without mixing their numbers.
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<"route" | "method" | "status">;
  readonly httpDuration: Histogram<"route" | "method">;
  readonly dbStatements: Counter<"database">;

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
    this.dbStatements = new Counter({
      name: "db_statements_total",
      help: "SQL statements sent to the database",
      labelNames: ["database"],
      registers: [this.registry],
    });
  }
}
