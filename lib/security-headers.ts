// Security headers of the two front doors (gateway, REST adapter), from helmet: never sniffed,
// no referrer, not framed, and a Content-Security-Policy: for the web client the gateway serves,
// scripts from itself and media from the media origin; for the REST adapter's JSON, nothing.
//
// helmet is applied once per request on the raw HTTP server, ahead of Fastify, so every answer
// carries the headers: routes, 404s, errors, and what Fastify answers before its hooks run (503
// while closing). @fastify/helmet does the same from an onRequest hook, but builds the helmet
// middleware anew on each request (~10 µs, a few per cent of a legacy call) and misses those.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server } from "node:http";
import helmet, { type HelmetOptions } from "helmet";

type Middleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

/** What every answer of a front door carries besides its CSP. HSTS belongs to whatever terminates TLS. */
const COMMON: HelmetOptions = {
  referrerPolicy: { policy: "no-referrer" },
  xFrameOptions: { action: "deny" },
  strictTransportSecurity: false,
};

/**
 * The web client's policy. `connect-src 'self'` covers /graphql over HTTP and, per CSP3, a
 * WebSocket to the same host and port (ws: for http:, wss: for https:; checked in Chromium by
 * test/web/browser.test.ts). Covers and videos load from the media origin (MEDIA_PUBLIC_BASE_URL).
 */
export function webClientPolicy(mediaOrigin: string): HelmetOptions {
  return {
    ...COMMON,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        // The favicon is a data: URL.
        imgSrc: ["'self'", "data:", mediaOrigin],
        mediaSrc: ["'self'", mediaOrigin],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
  };
}

/** Apollo Sandbox's landing page runs inline scripts and loads the Sandbox from Apollo's CDN. */
export const SANDBOX_PAGE_POLICY: HelmetOptions = { ...COMMON, contentSecurityPolicy: false };

/** The REST adapter answers JSON only: nothing in it may load or run anything. */
export const API_POLICY: HelmetOptions = {
  ...COMMON,
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
};

/**
 * Sets the headers of `choose(request)` on every answer of `server` (a Fastify instance's
 * `app.server`); call before it listens. Each policy's middleware is built once.
 */
export function applySecurityHeaders(server: Server, choose: (request: IncomingMessage) => HelmetOptions): void {
  const built = new Map<HelmetOptions, Middleware>();
  server.prependListener("request", (request: IncomingMessage, response: ServerResponse) => {
    const options = choose(request);
    let middleware = built.get(options);
    if (!middleware) built.set(options, (middleware = helmet(options) as Middleware));
    middleware(request, response, () => undefined);
  });
}

/** The headers a policy sets, for answers written straight to a socket (a request Node refused to parse). */
export function securityHeaderLines(options: HelmetOptions): string {
  const lines: string[] = [];
  const collector = {
    setHeader: (name: string, value: string | number | readonly string[]) => lines.push(`${name}: ${String(value)}\r\n`),
    removeHeader: () => undefined,
  };
  (helmet(options) as Middleware)({} as IncomingMessage, collector as unknown as ServerResponse, () => undefined);
  return lines.join("");
}
