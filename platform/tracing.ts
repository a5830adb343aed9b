// What the services know of tracing: OpenTelemetry's API only. The SDK (tracing-sdk.ts) is loaded
// when OTEL_EXPORTER_OTLP_ENDPOINT is set (tracing-boot.ts) or a test starts it with an
// in-memory exporter; without it every call here is OpenTelemetry's no-op or returns at once,
// so tracing that is off costs nothing measurable.
import { context, propagation, ROOT_CONTEXT, trace, isSpanContextValid, SpanStatusCode, type Link, type Span } from "@opentelemetry/api";

let stopSdk: (() => Promise<void>) | undefined;

/** Whether spans are recorded in this process (the SDK started). */
export function tracingEnabled(): boolean {
  return stopSdk !== undefined;
}

/** Called by tracing-sdk.ts once the SDK runs: how to flush and stop it at shutdown. */
export function registerTracing(stop: () => Promise<void>): void {
  stopSdk = stop;
}

/** Exports what is still buffered and stops the SDK (the last step of a shutdown). */
export async function stopTracing(): Promise<void> {
  const stop = stopSdk;
  stopSdk = undefined;
  await stop?.();
}

/** The trace id of the span in progress, if tracing is on (requests use it as their request id). */
export function currentTraceId(): string | undefined {
  if (!stopSdk) return undefined;
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}

/**
 * The span in progress as a W3C `traceparent`, for work done later on its behalf in another
 * place (a counter drain, another process): that work's span links back to it.
 */
export function currentTraceparent(): string | undefined {
  if (!stopSdk || !trace.getActiveSpan()) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** A span link to the span a `traceparent` names (undefined when it is malformed). */
export function linkTo(traceparent: string): Link | undefined {
  const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
  return spanContext && isSpanContextValid(spanContext) ? { context: spanContext } : undefined;
}

const tracer = trace.getTracer("douyin");

/**
 * Runs `work` in a span of its own, a new trace linked to the requests it serves (`links`,
 * traceparents): background work such as a drain is not any one request's child. With tracing
 * off, just runs `work`.
 */
export async function inLinkedSpan<T>(name: string, links: readonly string[], work: (span: Span | undefined) => Promise<T>): Promise<T> {
  if (!stopSdk) return work(undefined);
  const spanLinks = links.map(linkTo).filter((link): link is Link => link !== undefined);
  return tracer.startActiveSpan(name, { root: true, links: spanLinks }, ROOT_CONTEXT, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
      throw error;
    } finally {
      span.end();
    }
  });
}
