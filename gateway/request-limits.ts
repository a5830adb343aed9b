// What one GraphQL request may ask of the stack, checked at the gateway before any of it runs:
// rate limits on queries (per address) and mutations (each aliased attempt counted), and how
// many subgraph fetches its query plan may make. The cost and size of its selections are
// measured in query-cost.ts.
import type { ApolloServerPlugin } from "@apollo/server";
import type { Experimental_DidResolveQueryPlanCallback } from "@apollo/gateway";
import type { PlanNode, QueryPlan, SubscriptionNode } from "@apollo/query-planner";
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from "graphql";
import { AppError } from "../lib/errors";
import type { Config } from "../platform/config";
import type { Limiter, LimiterFactory } from "../platform/rate-limits";
import type { GatewayContext } from "./auth";

/** Gives a refusal its HTTP status (and headers) when it ends a request before execution. */
export function withHttpStatus<E extends GraphQLError>(error: E, status: number, headers: Record<string, string> = {}): E {
  (error.extensions as Record<string, unknown>).http = { status, headers: new Map(Object.entries(headers)) };
  return error;
}

/** The root fields of a selection, fragments followed, aliases each counted. */
function rootFields(selectionSet: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, seen = new Set<string>()): string[] {
  const names: string[] = [];
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) names.push(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) names.push(...rootFields(selection.selectionSet, fragments, seen));
    else if (!seen.has(selection.name.value)) {
      const fragment = fragments.get(selection.name.value);
      if (fragment) names.push(...rootFields(fragment.selectionSet, fragments, new Set([...seen, selection.name.value])));
    }
  }
  return names;
}

export interface GatewayLimiters {
  /** Login attempts per client address. */
  login: Limiter;
  /** Registrations per client address. */
  register: Limiter;
  /** Other mutations per signed-in user (per address for anonymous callers). */
  writes: Limiter;
  /** Queries per client address (the legacy reads among them). */
  reads: Limiter;
}

export function createGatewayLimiters(config: Config, limits: LimiterFactory): GatewayLimiters {
  const rates = config.rateLimits;
  return {
    login: limits("login-ip", { points: rates.loginPerIpPerMinute, durationSeconds: 60, describes: "login attempts from this address" }),
    register: limits("register-ip", {
      points: rates.registerPerIpPerHour,
      durationSeconds: 3600,
      describes: "registrations from this address",
    }),
    writes: limits("writes", { points: rates.writesPerUserPerMinute, durationSeconds: 60, describes: "changes in a minute" }),
    reads: limits("reads-ip", { points: rates.readsPerIpPerMinute, durationSeconds: 60, describes: "reads from this address" }),
  };
}

/** Mutations that change nothing worth limiting beyond what the session store already does. */
const UNLIMITED_MUTATIONS = new Set(["logout", "__typename"]);

/** Takes a request's points from its limiters; over a limit, RATE_LIMITED with HTTP 429 and Retry-After. */
async function refuseOverLimit(consume: () => Promise<void>): Promise<void> {
  try {
    await consume();
  } catch (error) {
    if (error instanceof AppError && error.code === "RATE_LIMITED") {
      throw withHttpStatus(error, 429, { "retry-after": String(error.details.retryAfter) });
    }
    throw error;
  }
}

/**
 * Counts every query against its address's read limit, and every mutation field against its
 * limiter, before anything runs: fifteen aliased `login` fields are fifteen attempts. Over a
 * limit the request is refused whole with RATE_LIMITED, HTTP 429 and Retry-After.
 */
export function rateLimitPlugin(limiters: GatewayLimiters): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, contextValue }) {
          // One point per query whatever it asks: its size is bounded by the cost limits.
          if (operation?.operation === "query") return refuseOverLimit(() => limiters.reads.consume(contextValue.clientIp));
          if (operation?.operation !== "mutation") return;
          const fragments = new Map<string, FragmentDefinitionNode>();
          for (const definition of (document as DocumentNode).definitions) {
            if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
          }
          const counts = { login: 0, register: 0, writes: 0 };
          for (const name of rootFields(operation.selectionSet, fragments)) {
            if (name === "login") counts.login++;
            else if (name === "register") counts.register++;
            else if (!UNLIMITED_MUTATIONS.has(name)) counts.writes++;
          }
          const { clientIp, viewer } = contextValue;
          await refuseOverLimit(async () => {
            if (counts.login > 0) await limiters.login.consume(clientIp, counts.login);
            if (counts.register > 0) await limiters.register.consume(clientIp, counts.register);
            if (counts.writes > 0)
              await limiters.writes.consume(viewer.userId !== null ? `user:${viewer.userId}` : `ip:${clientIp}`, counts.writes);
          });
        },
      };
    },
  };
}

const fetchCounts = new WeakMap<QueryPlan, number>();

/** How many subgraph fetches a query plan makes (every branch of a condition counted). */
export function countFetches(plan: QueryPlan): number {
  const known = fetchCounts.get(plan);
  if (known !== undefined) return known;
  const count = (node: PlanNode | SubscriptionNode | undefined): number => {
    if (!node) return 0;
    switch (node.kind) {
      case "Fetch":
        return 1;
      case "Sequence":
      case "Parallel":
        return node.nodes.reduce((sum, child) => sum + count(child), 0);
      case "Flatten":
        return count(node.node);
      case "Condition":
        return count(node.ifClause) + count(node.elseClause);
      case "Defer":
        return count(node.primary.node) + node.deferred.reduce((sum, deferred) => sum + count(deferred.node), 0);
      case "Subscription":
        return count(node.primary) + count(node.rest);
      default:
        return 0;
    }
  };
  const fetches = count(plan.node);
  fetchCounts.set(plan, fetches);
  return fetches;
}

/** The gateway's hook after planning: a plan over the fetch limit refuses at its first fetch, before any subgraph is called. */
export function fetchLimitCheck(maxFetches: number): Experimental_DidResolveQueryPlanCallback {
  return ({ queryPlan, requestContext }) => {
    const fetches = countFetches(queryPlan);
    if (fetches <= maxFetches) return;
    const context = requestContext.context as GatewayContext | undefined;
    if (context) {
      context.refusal = new GraphQLError(
        `the request needs ${fetches} subgraph fetches (at most ${maxFetches}): ask for fewer nested entities`,
        {
          extensions: { code: "QUERY_TOO_COMPLEX" },
        },
      );
    }
  };
}
