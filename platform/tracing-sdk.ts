// The OpenTelemetry SDK with the instrumentations this stack needs: incoming and outgoing HTTP
// (Node's http for servers and the S3 client, undici for the gateway's subgraph pools and the
// REST adapter's gateway client), Fastify routes, GraphQL parse/validate/execute (the
// gateway's own query-plan spans come from @apollo/gateway), Prisma, PostgreSQL statements and
// Redis commands. BullMQ jobs carry the context of whoever enqueued them (queues.ts passes
// bullmq-otel when tracing is on). Instrumentations patch modules as they are loaded, so this
// must start before anything else is imported (tracing-boot.ts; tests import it first).
import { FastifyOtelInstrumentation } from "@fastify/otel";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { GraphQLInstrumentation } from "@opentelemetry/instrumentation-graphql";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { IORedisInstrumentation } from "@opentelemetry/instrumentation-ioredis";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { NodeSDK, tracing } from "@opentelemetry/sdk-node";
import { PrismaInstrumentation } from "@prisma/instrumentation";
import { registerTracing } from "./tracing";

export interface TracingOptions {
  /** `service.name` of every span this process records. */
  serviceName: string;
  /** Where spans go: a test's in-memory exporter; by default OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT. */
  exporter?: tracing.SpanExporter;
  /** Fraction of new traces recorded (a request that arrives sampled stays sampled). */
  sampleRatio?: number;
}

/** Probes and scrapes are not worth a trace each. */
const QUIET_PATHS = /^\/(healthz|readyz|metrics)(\?|$)/;

export function startTracing(options: TracingOptions): void {
  // Traces only: this SDK must not start exporting metrics or logs of its own (Prometheus and
  // the JSON logs do that).
  process.env.OTEL_METRICS_EXPORTER ??= "none";
  process.env.OTEL_LOGS_EXPORTER ??= "none";
  const processor = options.exporter
    ? new tracing.SimpleSpanProcessor(options.exporter)
    : new tracing.BatchSpanProcessor(new OTLPTraceExporter(), { maxQueueSize: 8192, maxExportBatchSize: 1024 });
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    spanProcessors: [processor],
    sampler: new tracing.ParentBasedSampler({ root: new tracing.TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => QUIET_PATHS.test(request.url ?? ""),
        // Background calls (readiness checks of dependencies) start no trace of their own.
        requireParentforOutgoingSpans: true,
      }),
      new UndiciInstrumentation({ requireParentforSpans: true }),
      new FastifyOtelInstrumentation({
        registerOnInitialization: true,
        // One span per request named after its route; the per-hook spans would double the count for little.
        instrumentHooks: false,
        instrumentHandler: false,
        ignorePaths: (route) => QUIET_PATHS.test(route.url),
      }),
      // Resolver spans would be one per field of every item: the plan and fetch spans say where time goes.
      new GraphQLInstrumentation({ ignoreResolveSpans: true, mergeItems: true }),
      // The SQL each query ran; not the client's own steps around it (the subgraph's operation
      // span above says what was asked), which would double the spans for little.
      new PrismaInstrumentation({ ignoreSpanTypes: [/^prisma:client:(operation|serialize|compile)$/] }),
      // Statements and commands only inside a trace: BullMQ's polling and metric scrapes start none.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  registerTracing(() => sdk.shutdown());
}
