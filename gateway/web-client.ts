// Serves the built web client (web/dist) from the gateway's port, so the app and /graphql share
// one origin: hashed assets cached for good, index.html revalidated, client routes fall back to it.
import fs from "node:fs";
import path from "node:path";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../platform/logger";

/** Where `npm run build` writes the client (this file runs from dist/gateway/). */
export const WEB_DIST_DIR = path.resolve(__dirname, "..", "..", "web", "dist");
/** Vite names these files by content hash: a changed file gets a new name, so they never go stale. */
const HASHED_ASSETS = `${path.sep}assets${path.sep}`;
const IMMUTABLE = "public, max-age=31536000, immutable";
/** The entry point names the current assets: browsers must revalidate it on every load. */
const REVALIDATE = "no-cache";
/** Anything else in dist (none today) may change under the same name. */
const SHORT = "public, max-age=300";
/** Server routes a client route must never shadow. */
const SERVER_PATHS = ["/graphql", "/healthz", "/readyz", "/metrics"];

function isClientRoute(request: FastifyRequest): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const pathname = request.url.split("?")[0] ?? "/";
  if (SERVER_PATHS.some((server) => pathname === server || pathname.startsWith(`${server}/`))) return false;
  // A missing file (`/assets/old-1a2b.js` after a deploy) must stay a 404, not become HTML.
  return !path.posix.basename(pathname).includes(".");
}

function notFound(request: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ message: `Route ${request.method}:${request.url} not found`, error: "Not Found", statusCode: 404 });
}

/**
 * Registers the client on `app`: `/` and every client route answer index.html, files under
 * /assets/ are served (pre-compressed when a .gz sits beside them) with immutable cache headers.
 * Without a build the gateway still starts; it only logs how to make one.
 */
export function serveWebClient(app: FastifyInstance, log: Logger, root = WEB_DIST_DIR): void {
  if (!fs.existsSync(path.join(root, "index.html"))) {
    log.info({ root }, "web client not built (run `npm run build` or `npm run web:build`); serving the API only");
    return;
  }
  void app.register(fastifyStatic, {
    root,
    prefix: "/",
    preCompressed: true,
    cacheControl: false,
    setHeaders(response, file) {
      const header = file.includes(HASHED_ASSETS) ? IMMUTABLE : file.endsWith(".html") ? REVALIDATE : SHORT;
      response.setHeader("cache-control", header);
      // The same URL answers gzip or plain bytes (preCompressed): shared caches must keep both.
      response.setHeader("vary", "accept-encoding");
    },
  });
  app.setNotFoundHandler((request, reply) => {
    if (!isClientRoute(request)) return notFound(request, reply);
    return reply.type("text/html; charset=utf-8").sendFile("index.html");
  });
  log.info({ root }, "serving the web client at /");
}
