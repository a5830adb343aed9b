// The first import of every entry point (server/main.ts): starts tracing when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, before the modules it instruments are loaded. Unset, it
// loads nothing of the SDK. The service is named after the one this process runs
// (`main.js user` -> douyin-user; the co-located stack is `douyin`), or OTEL_SERVICE_NAME.
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  const service = process.argv[2] && !process.argv[2].startsWith("-") ? `douyin-${process.argv[2]}` : "douyin";
  const ratio = Number(process.env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  // A plain require: the SDK must load here, synchronously, and only when tracing is on.
  const { startTracing } = require("./tracing-sdk") as typeof import("./tracing-sdk");
  startTracing({ serviceName: process.env.OTEL_SERVICE_NAME ?? service, sampleRatio: Number.isFinite(ratio) ? ratio : 1 });
}

export {};
