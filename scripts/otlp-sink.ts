// `node dist/scripts/otlp-sink.js [port]`: a stand-in OTLP/HTTP collector that accepts spans and
// throws them away, counting requests and bytes. For measuring what exporting traces costs the
// stack (`npm run bench` with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318) without a
// Jaeger on this machine; it runs in a process of its own, as a collector would. Prints a line
// every five seconds while spans arrive.
import http from "node:http";

const port = Number(process.argv[2] ?? process.env.OTLP_SINK_PORT ?? 4318);
let requests = 0;
let bytes = 0;
let reported = 0;

const server = http.createServer((request, response) => {
  request.on("data", (chunk: Buffer) => (bytes += chunk.length));
  request.on("end", () => {
    requests += 1;
    // An empty ExportTraceServiceResponse: everything accepted.
    response.writeHead(200, { "content-type": request.headers["content-type"] ?? "application/json" });
    response.end(request.headers["content-type"]?.includes("protobuf") ? "" : "{}");
  });
});

setInterval(() => {
  if (requests === reported) return;
  reported = requests;
  process.stdout.write(`otlp-sink: ${requests} exports, ${(bytes / 1024 / 1024).toFixed(1)} MB received\n`);
}, 5000).unref();

server.listen(port, "127.0.0.1", () => process.stdout.write(`otlp-sink: listening on http://127.0.0.1:${port} (POST /v1/traces)\n`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
process.on("SIGINT", () => server.close(() => process.exit(0)));
