// The fast tier's stack: every subgraph built by the same factory as production, on an
// in-memory PGlite database (one schema each, migrated), in-process queues and key-value
// store, and the real gateway reaching them through in-process data sources. No PostgreSQL,
// no Redis, no ports: a test file starts one in about a second.
import { randomUUID } from "node:crypto";
import { ApolloServer, type BaseContext } from "@apollo/server";
import { ApolloServerPluginInlineTraceDisabled } from "@apollo/server/plugin/disabled";
import { loadConfig, type Config } from "../platform/config";
import { openDatabase, type Database } from "../platform/database";
import { Deadline } from "../platform/deadline";
import { formatErrorFor } from "../framework/error-format";
import { createLogger } from "../platform/logger";
import { migrate } from "../platform/migrations";
import { SUBGRAPHS, type SubgraphEntry } from "../platform/registry";
import { MemoryQueues } from "../platform/queues";
import { memoryPlatform, type OpenPlatform } from "../server/runtime";
import { buildSubgraph, hasDatabase, type BuiltSubgraph, type KnownSubgraph } from "../framework/subgraph";
import { migrationsDir } from "../framework/subgraph-database";
import { composeSupergraph } from "../framework/supergraph";
import { Viewer } from "../framework/viewer";
import { createGateway, type Gateway } from "../gateway/server";
import { KNOWN_SUBGRAPHS } from "../subgraphs";

/** The configuration of a fast-tier stack: test defaults, cheap password hashing, `overrides` on top. */
export function fastConfig(overrides: Record<string, string> = {}, registry: readonly SubgraphEntry[] = SUBGRAPHS): Config {
  const config = loadConfig(
    { NODE_ENV: "test", LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent", ARGON2_MEMORY_KIB: "1024", ARGON2_TIME_COST: "1", ...overrides },
    registry,
  );
  const instance = randomUUID();
  return {
    ...config,
    // Each stack gets its own in-memory instance: nothing is shared between tests or kept.
    subgraphs: Object.fromEntries(
      Object.entries(config.subgraphs).map(([name, subgraph]) => [
        name,
        { ...subgraph, database: { kind: "memory", instance, schema: name } },
      ]),
    ),
  } as Config;
}

export interface SubgraphResult<Data = Record<string, any>> {
  data: Data | null | undefined;
  errors: { message: string; extensions?: { code?: string } }[] | undefined;
}

export interface InProcessSubgraph {
  built: BuiltSubgraph;
  database: Database | null;
  /** Runs an operation on this subgraph's own schema, as `viewer` (anonymous by default). */
  execute<Data = Record<string, any>>(query: string, variables?: Record<string, unknown>, viewer?: Viewer): Promise<SubgraphResult<Data>>;
}

export interface InProcessStack {
  config: Config;
  platform: OpenPlatform;
  subgraph(name: string): InProcessSubgraph;
  /** The gateway over in-process data sources (when the stack was started with it). */
  gateway: Gateway | undefined;
  /** Runs an operation through the gateway, with a token when given. */
  graphql<Data = Record<string, any>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<SubgraphResult<Data>>;
  /** Sum of a counter in the process's metrics, over the label sets matching `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** Resolves once the in-process queues have nothing waiting or running. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/** A result as a client would parse it (GraphQL execution builds objects without prototypes). */
const plain = <Data>(result: unknown): SubgraphResult<Data> => JSON.parse(JSON.stringify(result)) as SubgraphResult<Data>;

/** A signed-in viewer for calling a subgraph directly (as the gateway would after checking a token). */
export const signedIn = (userId: number | string) => new Viewer({ userId: Number(userId), sessionId: `test-session-${userId}` });

export interface InProcessOptions {
  /** The subgraphs to build (default: all of `known`). */
  subgraphs?: string[];
  /** Start the gateway over them too. */
  gateway?: boolean;
  env?: Record<string, string>;
  workers?: boolean;
  /** Another list of subgraphs than the project's (to prove a new one needs nothing else). */
  known?: readonly KnownSubgraph[];
}

export async function startInProcess(options: InProcessOptions = {}): Promise<InProcessStack> {
  const known = options.known ?? KNOWN_SUBGRAPHS;
  const registry = known.map((subgraph) => subgraph.entry);
  const config = fastConfig(options.env, registry);
  const log = createLogger(config, "fast-test");
  const platform = memoryPlatform(config, log, "fast-test");
  const names = options.subgraphs ?? registry.map((entry) => entry.name);
  const opened: { name: string; built: BuiltSubgraph; database: Database | null; server: ApolloServer<BaseContext> }[] = [];
  let gateway: Gateway | undefined;
  const close = async () => {
    await gateway?.close();
    await platform.queues.close();
    for (const { built, database, server } of opened.reverse()) {
      await server.stop();
      await built.close();
      await database?.close();
    }
    await platform.close();
  };
  try {
    for (const name of names) {
      const { entry, definition } = known.find((candidate) => candidate.entry.name === name)!;
      let database: Database | null = null;
      if (hasDatabase(entry)) {
        database = await openDatabase(config.subgraphs[name]!.database, { poolSize: 1 });
        await migrate(database, migrationsDir(entry));
      }
      const built = await buildSubgraph(entry, definition, platform, database);
      if (options.workers ?? true) await built.startWorkers();
      const server = new ApolloServer<BaseContext>({
        schema: built.schema,
        formatError: formatErrorFor(log),
        plugins: [ApolloServerPluginInlineTraceDisabled()],
      });
      await server.start();
      opened.push({ name, built, database, server });
    }
    if (options.gateway) {
      const composed = composeSupergraph(registry.filter((entry) => names.includes(entry.name)));
      gateway = await createGateway(platform, Object.fromEntries(opened.map(({ name, built }) => [name, built])), composed.supergraphSdl);
    }
  } catch (error) {
    await close();
    throw error;
  }

  const subgraphs = new Map(
    opened.map(({ name, built, database, server }): [string, InProcessSubgraph] => [
      name,
      {
        built,
        database,
        execute: async (query, variables = {}, viewer = Viewer.anonymous) => {
          const response = await server.executeOperation(
            { query, variables },
            {
              contextValue: built.context({
                viewer,
                requestId: randomUUID(),
                clientIp: "127.0.0.1",
                log,
                deadline: Deadline.none(),
              }) as BaseContext,
            },
          );
          if (response.body.kind !== "single") throw new Error("incremental delivery is not used here");
          return plain(response.body.singleResult);
        },
      },
    ]),
  );
  return {
    config,
    platform,
    gateway,
    subgraph: (name) => {
      const subgraph = subgraphs.get(name);
      if (!subgraph) throw new Error(`the ${name} subgraph is not part of this stack`);
      return subgraph;
    },
    graphql: async (query, variables = {}, token) => {
      if (!gateway) throw new Error("start the stack with { gateway: true }");
      const contextValue = await gateway.context({
        authorization: token ? `Bearer ${token}` : undefined,
        requestId: randomUUID(),
        log,
        clientIp: "127.0.0.1",
        deadline: new Deadline(config.requestTimeoutMs),
      });
      const response = await gateway.apollo.executeOperation({ query, variables }, { contextValue });
      if (response.body.kind !== "single") throw new Error("incremental delivery is not used here");
      return plain(response.body.singleResult);
    },
    metric: async (name, labels = {}) => {
      // This metric alone: reading the whole registry would run other collectors (which query).
      const metric = await platform.metrics.registry.getSingleMetric(name)?.get();
      const values = (metric?.values ?? []) as { value: number; labels: Record<string, string | number> }[];
      return values
        .filter((value) => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted))
        .reduce((sum, value) => sum + value.value, 0);
    },
    settled: async () => {
      if (platform.queues instanceof MemoryQueues) await platform.queues.idle();
      for (const { built } of opened) await built.settle();
    },
    close,
  };
}
