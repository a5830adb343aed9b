// Tracing into memory instead of a collector, for the tests and `npm run trace:demo`: import this
// module first (before anything tracing instruments loads), then read `recordedSpans`.
import { tracing } from "@opentelemetry/sdk-node";
import { startTracing } from "./tracing-sdk";

export type RecordedSpan = tracing.ReadableSpan;

export const recordedSpans = new tracing.InMemorySpanExporter();

startTracing({ serviceName: process.env.OTEL_SERVICE_NAME ?? "douyin", exporter: recordedSpans });

/** The spans of one trace recorded so far, in start order. */
export function traceSpans(traceId: string): RecordedSpan[] {
  return recordedSpans
    .getFinishedSpans()
    .filter((span) => span.spanContext().traceId === traceId)
    .sort((a, b) => hrMillis(a.startTime) - hrMillis(b.startTime));
}

const hrMillis = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6;

/** A span's duration in milliseconds. */
export const spanMillis = (span: RecordedSpan) => hrMillis(span.duration);

/** What a span is about, in a few words (route, operation, subgraph, statement). */
function detail(span: RecordedSpan): string {
  const a = span.attributes;
  const text =
    a["db.query.text"] ??
    a["db.statement"] ??
    a["http.route"] ??
    a["graphql.operation.name"] ??
    a["service"] ??
    a["url.full"] ??
    a["db.operation.name"] ??
    "";
  return String(text).replace(/\s+/g, " ").slice(0, 90);
}

/** One trace as an indented tree: each span with its duration and what it is about. */
export function formatTrace(spans: readonly RecordedSpan[]): string {
  const ids = new Set(spans.map((span) => span.spanContext().spanId));
  const children = new Map<string | undefined, RecordedSpan[]>();
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId;
    const key = parent && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), span]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of children.get(parent) ?? []) {
      const ms = spanMillis(span).toFixed(2).padStart(8);
      const about = detail(span);
      const links = span.links.length ? `  (links to ${span.links.length} trace${span.links.length > 1 ? "s" : ""})` : "";
      lines.push(`${ms} ms  ${"  ".repeat(depth)}${span.name}${about ? `  [${about}]` : ""}${links}`);
      walk(span.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines.join("\n");
}
