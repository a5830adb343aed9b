// The one HTTP client for GraphQL hops (gateway → subgraph, REST adapter → gateway): a
// keep-alive undici pool, and a POST of an operation as JSON or, with files, as a streamed
// GraphQL multipart request. Callers decide what a failure means for their hop.
import type { Readable } from "node:stream";
import { Agent, request } from "undici";
import type { Config } from "../platform/config";
import { multipartBody, type OutgoingFile } from "./uploads";

/** How long an idle keep-alive connection is kept open. */
const KEEP_ALIVE_MS = 30_000;
/** Longest a connection may take to open. */
const CONNECT_TIMEOUT_MS = 5_000;

/** A keep-alive pool; each call is bounded by its request's deadline (an abort signal), the timeouts here are a backstop. */
export function createGraphQLAgent(config: Pick<Config, "requestTimeoutMs" | "media" | "subgraphClient">): Agent {
  const longest = config.requestTimeoutMs + config.media.publishTimeoutMs;
  return new Agent({
    connections: config.subgraphClient.connections,
    keepAliveTimeout: KEEP_ALIVE_MS,
    connectTimeout: Math.min(CONNECT_TIMEOUT_MS, config.requestTimeoutMs),
    headersTimeout: longest,
    bodyTimeout: longest,
  });
}

export interface GraphQLPost {
  operation: { query?: string; variables?: Record<string, unknown> | null; operationName?: string | null };
  /** Files the operation's variables hold (their places in it set to null). */
  files: OutgoingFile[];
  headers: Record<string, string>;
  signal?: AbortSignal;
}

/** Sends the operation; the answer's status and body text (throws when no answer came). */
export async function postGraphQL(agent: Agent, url: string, post: GraphQLPost): Promise<{ statusCode: number; text: string }> {
  const headers: Record<string, string> = { ...post.headers, "content-type": "application/json" };
  let body: string | Readable = JSON.stringify(post.operation);
  if (post.files.length > 0) {
    const multipart = multipartBody(post.operation, post.files);
    headers["content-type"] = multipart.contentType;
    // Apollo Server's CSRF prevention lets a multipart request through only with this header.
    headers["apollo-require-preflight"] = "true";
    body = multipart.body;
  }
  const response = await request(url, { method: "POST", headers, body, dispatcher: agent, ...(post.signal && { signal: post.signal }) });
  return { statusCode: response.statusCode, text: await response.body.text() };
}
