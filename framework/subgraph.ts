// The one way a subgraph is built. Each subgraph's index.ts exports a definition whose
// `create(deps)` turns injected dependencies into resolvers, a per-request context and its
// workers; this module opens those dependencies and builds the schema from its SDL. The
// standalone server, the standalone worker process, the co-located process and the fast
// tests all go through `buildSubgraph`, so they run the same code.
import fs from "node:fs";
import path from "node:path";
import { buildSubgraphSchema } from "@apollo/subgraph";
import type { GraphQLResolverMap } from "@apollo/subgraph/dist/schema-helper";
import { defaultFieldResolver, isObjectType, parse, type DocumentNode, type GraphQLSchema } from "graphql";
import type { Redis } from "ioredis";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { Config } from "../platform/config";
import type { Database } from "../platform/database";
import type { KeyValueStore } from "../platform/kv";
import { LocalCache, type BatchLoader, type InvalidationBus, type LocalCacheOptions } from "../platform/local-cache";
import type { Logger } from "../platform/logger";
import type { Metrics } from "../platform/metrics";
import type { Queues } from "../platform/queues";
import type { LimiterFactory } from "../platform/rate-limits";
import type { WorkerIdSource } from "../lib/ids";
import type { SubgraphEntry } from "../platform/registry";
import type { Deadline } from "../platform/deadline";
import type { ReadinessChecks } from "../platform/health";
import type { RequestScope } from "./viewer";

/** What one process shares among the services it runs: Redis (or memory), queues, metrics. */
export interface Platform {
  config: Config;
  log: Logger;
  metrics: Metrics;
  kv: KeyValueStore;
  queues: Queues;
  /** For structures beyond key-value (sorted sets); null where the platform has no Redis. */
  redis: Redis | null;
  /** Carries cache invalidations to every process (and this one). */
  bus: InvalidationBus;
  /** Makes rate limiters shared by every process (on Redis; in memory without it). */
  limits: LimiterFactory;
  /** This process's id-generator worker id: leased from Redis, or pinned by ID_WORKER_ID. */
  workerId: WorkerIdSource;
}

/** The part of a generated Prisma client the platform relies on. */
interface PrismaLike {
  $on(event: "query", listener: (event: { query: string; duration: number }) => void): void;
  $disconnect(): Promise<void>;
}

/** Prisma's option that makes a client report each statement (counted in `db_statements_total`). */
export const COUNT_STATEMENTS = [{ emit: "event", level: "query" }] as [{ emit: "event"; level: "query" }];

export interface SubgraphDeps extends Platform {
  name: string;
  /** The subgraph's own database (null without one); its Prisma client comes from `prisma`. */
  database: Database | null;
  /**
   * Creates the subgraph's Prisma client on its own database, with every statement counted;
   * pass `COUNT_STATEMENTS` as the client's `log` option. Throws for a subgraph without one.
   */
  prisma<Client>(create: (adapter: SqlDriverAdapterFactory) => Client): Client;
  /** Registers cleanup run when the subgraph closes (in reverse order). */
  onClose(close: () => Promise<unknown> | unknown): void;
  /** An in-process cache of this subgraph, invalidated in every process through the bus; misses go to `load` in batches. */
  cache<Key extends string | number, Value>(
    name: string,
    load: BatchLoader<Key, Value>,
    options?: Partial<LocalCacheOptions>,
  ): LocalCache<Key, Value>;
}

export interface SubgraphParts<Context> {
  resolvers: GraphQLResolverMap<Context>;
  /** The per-request context: { viewer, log, loaders, service }. */
  context(scope: RequestScope): Context;
  /** Starts its queue consumers in this process (where it has async work). */
  startWorkers?(): Promise<void> | void;
  /** Recomputes its counters from the rows; how many were wrong, by counter (`npm run reconcile`). */
  reconcile?(): Promise<Record<string, number>>;
  /** Re-sends what other subgraphs may have missed (events); how many, by kind (`npm run reconcile`). */
  repair?(): Promise<Record<string, number>>;
  /** Finishes background work this process has pending (counter changes), for tests and tools. */
  settle?(): Promise<void>;
  /** Fills its caches in bulk after start; how many entries, by cache. */
  warm?(): Promise<Record<string, number>>;
  /** Readiness checks of its own beyond its database (e.g. object storage). */
  readiness?: ReadinessChecks;
}

export interface SubgraphDefinition<Context = unknown> {
  name: string;
  /**
   * Its background work (queue consumers, outbox drainers), named for logs; a subgraph that
   * declares some has a workers process of its own in split mode, and its parts must start them.
   */
  workers?: readonly string[];
  /** It keeps files in object storage (production then requires S3_ENDPOINT, real keys and MEDIA_PUBLIC_BASE_URL). */
  objectStorage?: boolean;
  /** It signs login tokens (production then requires JWT_SECRET in its server's process). */
  signsTokens?: boolean;
  /** Accept file uploads (GraphQL multipart requests) up to this size per file. */
  uploads?(config: Config): { maxFileBytes: number };
  create(deps: SubgraphDeps): Promise<SubgraphParts<Context>> | SubgraphParts<Context>;
}

export const defineSubgraph = <Context>(definition: SubgraphDefinition<Context>) => definition;

export interface BuiltSubgraph<Context = unknown> {
  readonly name: string;
  readonly schema: GraphQLSchema;
  readonly uploads: { maxFileBytes: number } | undefined;
  context(scope: RequestScope): Context;
  startWorkers(): Promise<void>;
  reconcile(): Promise<Record<string, number>>;
  repair(): Promise<Record<string, number>>;
  settle(): Promise<void>;
  warm(): Promise<Record<string, number>>;
  /** What must answer for it to serve: its database and its own checks (see health.ts). */
  readiness(): ReadinessChecks;
  close(): Promise<void>;
}

/**
 * A definition whatever its context type: a list of subgraphs holds several (each subgraph's
 * resolvers are checked against its own context where it is defined; a context is both taken
 * and returned, so no one type parameter covers them all).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export type AnySubgraphDefinition = SubgraphDefinition<any>;

/** A subgraph of supergraph.yaml with its definition in code. */
export interface KnownSubgraph {
  readonly entry: SubgraphEntry;
  readonly definition: AnySubgraphDefinition;
}

/**
 * Pairs supergraph.yaml's subgraphs with the definitions in code (subgraphs/index.ts), in the
 * file's order; a subgraph in one and not the other is a mistake, said at once.
 */
export function pairDefinitions(entries: readonly SubgraphEntry[], definitions: readonly AnySubgraphDefinition[]): KnownSubgraph[] {
  const byName = new Map(definitions.map((definition) => [definition.name, definition]));
  const missing = entries.filter((entry) => !byName.has(entry.name)).map((entry) => entry.name);
  const extra = definitions.filter((definition) => !entries.some((entry) => entry.name === definition.name)).map((d) => d.name);
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(
      [
        missing.length > 0 && `supergraph.yaml names ${missing.join(", ")}, which subgraphs/index.ts does not define`,
        extra.length > 0 && `subgraphs/index.ts defines ${extra.join(", ")}, which supergraph.yaml does not list`,
      ]
        .filter(Boolean)
        .join("; "),
    );
  }
  return entries.map((entry) => ({ entry, definition: byName.get(entry.name)! }));
}

/** Whether a subgraph has background work of its own (its definition's `workers`). */
export const hasWorkers = ({ definition }: KnownSubgraph): boolean => (definition.workers?.length ?? 0) > 0;

/** Whether a subgraph keeps rows (has prisma/<name>/schema.prisma). */
export function hasDatabase(entry: SubgraphEntry): boolean {
  return fs.existsSync(path.join(entry.prismaFolder, "schema.prisma"));
}

export function readSdl(entry: SubgraphEntry): DocumentNode {
  return parse(fs.readFileSync(entry.schemaFile, "utf8"));
}

/** Builds a subgraph on a platform and (when it has one) its open database. */
export async function buildSubgraph<Context>(
  entry: SubgraphEntry,
  definition: SubgraphDefinition<Context>,
  platform: Platform,
  database: Database | null,
): Promise<BuiltSubgraph<Context>> {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  const close = async () => {
    for (const closer of closers.splice(0).reverse()) {
      try {
        await closer();
      } catch (error) {
        platform.log.warn({ err: error, subgraph: entry.name }, "error while closing");
      }
    }
  };
  const deps: SubgraphDeps = {
    ...platform,
    name: entry.name,
    database,
    prisma: (create) => {
      if (!database) throw new Error(`the ${entry.name} subgraph has no database (prisma/${entry.name}/schema.prisma)`);
      const client = create(database.adapter);
      const counted = client as unknown as PrismaLike;
      const statements = platform.metrics.dbStatements.labels({ database: entry.name });
      const traceSql = platform.log.isLevelEnabled("trace");
      counted.$on("query", (event) => {
        statements.inc();
        if (traceSql) platform.log.trace({ subgraph: entry.name, sql: event.query, ms: event.duration }, "sql");
      });
      closers.push(() => counted.$disconnect());
      return client;
    },
    onClose: (closer) => void closers.push(closer),
    cache: (name, load, options) =>
      new LocalCache(
        `${entry.name}:${name}`,
        { ...platform.config.localCache, ...options },
        platform.bus,
        load,
        platform.metrics.cacheLookups,
      ),
  };
  try {
    const parts = await definition.create(deps);
    if ((definition.workers?.length ?? 0) > 0 !== (parts.startWorkers !== undefined)) {
      throw new Error(`the ${entry.name} subgraph must declare \`workers\` exactly when its parts start some`);
    }
    const schema = buildSubgraphSchema({ typeDefs: readSdl(entry), resolvers: parts.resolvers as GraphQLResolverMap<unknown> });
    const deadlines = new WeakMap<object, Deadline>();
    stopAtDeadline(schema, deadlines);
    let workersStarted = false;
    return {
      name: entry.name,
      schema,
      uploads: definition.uploads?.(platform.config),
      context: (scope) => {
        const context = parts.context(scope);
        deadlines.set(context as object, scope.deadline);
        return context;
      },
      startWorkers: async () => {
        if (workersStarted || !parts.startWorkers) return;
        workersStarted = true;
        await parts.startWorkers();
      },
      reconcile: async () => (parts.reconcile ? parts.reconcile() : {}),
      repair: async () => (parts.repair ? parts.repair() : {}),
      settle: async () => parts.settle?.(),
      warm: async () => (parts.warm ? parts.warm() : {}),
      readiness: () => ({
        ...(database && { [`${entry.name}-database`]: () => database.withSession((session) => session.query("SELECT 1")) }),
        ...parts.readiness,
      }),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Makes every resolver of the schema (the `_entities` lookup included) check its request's
 * deadline first, so a request whose caller gave up or ran out of time stops at its next field
 * instead of fanning out further. Fields resolved by property access are left alone (they do
 * no work).
 */
function stopAtDeadline(schema: GraphQLSchema, deadlines: WeakMap<object, Deadline>): void {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve || resolve === defaultFieldResolver) continue;
      field.resolve = (source, args, context, info) => {
        deadlines.get(context as object)?.check();
        return resolve(source, args, context, info);
      };
    }
  }
}
