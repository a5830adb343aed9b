// Establishes the caller of a GraphQL request from `Authorization: Bearer <token>`, once per
// request; the subgraphs receive the result (the viewer) and trust nothing else.
import type { ApolloServer } from "@apollo/server";
import type { GraphQLError, GraphQLSchema } from "graphql";
import type { Deadline } from "../platform/deadline";
import type { Logger } from "../platform/logger";
import type { SessionStore } from "../platform/sessions";
import { Viewer } from "../framework/viewer";

/** The gateway's per-request context. */
export interface GatewayContext {
  viewer: Viewer;
  requestId: string;
  log: Logger;
  /** When the caller stops waiting; every subgraph call gets what is left of it. */
  deadline: Deadline;
  /** The caller's address, for per-address rate limits. */
  clientIp: string;
  /** Subgraph fetches made so far (bounded by GRAPHQL_MAX_FETCHES). */
  fetches: number;
  /** Set when the query plan needs more fetches than allowed: every fetch refuses with it. */
  refusal?: GraphQLError;
}

/** Whether a data source's context is a request's (health checks and the like run without one). */
export const isRequestContext = (context: unknown): context is GatewayContext =>
  typeof context === "object" && context !== null && "requestId" in context && "viewer" in context;

/** What the edge knows about a request when it builds the context. */
export interface RequestFacts {
  authorization: string | undefined;
  requestId: string;
  log: Logger;
  clientIp: string;
  deadline: Deadline;
}

export async function authenticate(sessions: SessionStore, authorization: string | undefined): Promise<Viewer> {
  if (!authorization) return Viewer.anonymous;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match) return new Viewer(null, "malformed");
  const check = await sessions.check(match[1]!);
  return check.ok ? new Viewer({ userId: check.userId, sessionId: check.sessionId }) : new Viewer(null, check.reason);
}

/** The gateway without an HTTP server: what the HTTP route, subscriptions and co-located callers use. */
export interface Gateway {
  readonly apollo: ApolloServer<GatewayContext>;
  readonly sessions: SessionStore;
  /** The public schema clients see (the supergraph's API schema). */
  readonly apiSchema: GraphQLSchema;
  /** Builds a request's context, as the HTTP route does. */
  context(facts: RequestFacts): Promise<GatewayContext>;
  close(): Promise<void>;
}
