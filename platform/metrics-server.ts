// Prometheus metrics on a port of their own (METRICS_PORT), never on the public ones: what a
// process counts is for its operators' scrapers, not for the internet. A process with no
// service port of its own (a worker) also answers its probes here: /healthz while the event
// loop turns, /readyz while what it works with (database, Redis) answers.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Config } from "./config";
import { LIVENESS, readinessReport, type ReadinessChecks } from "./health";
import type { Logger } from "./logger";

export interface MetricsServer {
  /** Base URL of the server (GET /metrics). */
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(
  registry: Registry,
  config: Pick<Config, "host" | "ports">,
  log: Logger,
  port = config.ports.metrics,
  /** Probes served beside the metrics (workers, which have no other port). */
  readiness?: () => ReadinessChecks,
): Promise<MetricsServer> {
  const server = http.createServer((request, response) => {
    const path = request.url?.split("?")[0];
    if (readiness && request.method === "GET" && (path === "/healthz" || path === "/readyz")) {
      const answer = (status: number, body: unknown) =>
        response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
      if (path === "/healthz") return answer(200, LIVENESS);
      void readinessReport(readiness()).then(({ httpStatus, body }) => answer(httpStatus, body));
      return;
    }
    if (request.method !== "GET" || path !== "/metrics") {
      response.writeHead(404, { "content-type": "text/plain" }).end(readiness ? "GET /metrics, /healthz or /readyz\n" : "GET /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { "content-type": registry.contentType }).end(text),
      (error: unknown) => {
        log.warn({ err: error }, "could not collect metrics");
        response.writeHead(500, { "content-type": "text/plain" }).end("metrics unavailable\n");
      },
    );
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, config.host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  log.info({ port: bound }, `metrics on http://${host}:${bound}/metrics`);
  return {
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
