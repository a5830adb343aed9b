// The one typed configuration of every process: ports, URLs, secrets, TTLs and limits, read
// from the environment and validated at start-up with a message that names the bad variable.
import path from "node:path";
import os from "node:os";
import { z } from "zod";
import { projectRoot, SUBGRAPHS, type SubgraphEntry } from "./registry";

export { projectRoot };

export const DEVELOPMENT_JWT_SECRET = "development-only-jwt-secret-do-not-use-in-production";
export const DEVELOPMENT_INTERNAL_SECRET = "development-only-internal-secret";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .pipe(z.url().optional())
  .optional();
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((value) => value === "true" || value === "1" || value === "yes");

/** Each subgraph's own variables, named after it in supergraph.yaml (e.g. VIDEO_PORT). */
function subgraphVariables(entry: SubgraphEntry) {
  return {
    [`${entry.envPrefix}_PORT`]: port.default(entry.port),
    [`${entry.envPrefix}_SUBGRAPH_URL`]: optionalUrl,
    [`${entry.envPrefix}_DATABASE_URL`]: optionalUrl,
  };
}

/** Every variable the stack reads besides the per-subgraph ones, with its default. The README's table mirrors this list. */
const stackVariables = {
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: z.string().min(1).default("127.0.0.1"),
  REST_PORT: port.default(8080),
  GATEWAY_PORT: port.default(4000),
  METRICS_PORT: port.default(9464),
  GATEWAY_URL: optionalUrl,
  DATABASE_POOL_SIZE: positiveInt.default(10),
  DATABASE_MIGRATE_ON_START: bool.optional(),
  DATA_DIR: z.string().min(1).default("data"),
  EMBEDDED_DATABASE_SYNC_COMMIT: bool.default(false),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  // Redis behind Sentinel: the sentinels to ask (host:port, comma-separated) for the master
  // named REDIS_SENTINEL_NAME; REDIS_URL then gives only credentials and the database number.
  REDIS_SENTINELS: z
    .string()
    .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, "host:port[,host:port...]")
    .optional(),
  REDIS_SENTINEL_NAME: z.string().min(1).default("mymaster"),
  // Redis Cluster: some of its nodes (host:port, comma-separated; the rest are discovered);
  // REDIS_URL then gives only credentials.
  REDIS_CLUSTER_NODES: z
    .string()
    .regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, "host:port[,host:port...]")
    .optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, "letters, digits, '_' and '-' only")
    .default("douyin"),
  JWT_SECRET: z.string().min(16, "at least 16 characters").default(DEVELOPMENT_JWT_SECRET),
  JWT_TTL_SECONDS: positiveInt.default(30 * 24 * 3600),
  SESSION_TTL_SECONDS: positiveInt.default(7 * 24 * 3600),
  INTERNAL_SECRET: z.string().min(16, "at least 16 characters").default(DEVELOPMENT_INTERNAL_SECRET),
  ID_WORKER_ID: z.coerce.number().int().min(0).max(31).optional(),
  SENSITIVE_WORDS_FILE: z.string().min(1).default("lib/sensitive-words.txt"),
  USERNAME_MAX_LENGTH: positiveInt.default(32),
  PASSWORD_MAX_LENGTH: positiveInt.default(32),
  TITLE_MAX_LENGTH: positiveInt.default(100),
  COMMENT_MAX_LENGTH: positiveInt.default(500),
  MESSAGE_MAX_LENGTH: positiveInt.default(1000),
  LIST_LIMIT_DEFAULT: positiveInt.default(30),
  LIST_LIMIT_MAX: positiveInt.default(500),
  LEGACY_LIST_MAX: positiveInt.default(5000),
  ARGON2_MEMORY_KIB: positiveInt.default(19456),
  ARGON2_TIME_COST: positiveInt.default(2),
  GRAPHQL_MAX_DEPTH: positiveInt.default(10),
  GRAPHQL_MAX_ALIASES: positiveInt.default(15),
  GRAPHQL_MAX_COST: positiveInt.default(50_000),
  GRAPHQL_MAX_ITEMS: positiveInt.default(5_000),
  GRAPHQL_MAX_FETCHES: positiveInt.default(24),
  GRAPHQL_MAX_TOKENS: positiveInt.default(2000),
  SANDBOX_ENABLED: bool.optional(),
  REQUEST_TIMEOUT_MS: positiveInt.default(10_000),
  DATABASE_STATEMENT_TIMEOUT_MS: positiveInt.default(10_000),
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt.default(5_000),
  SUBGRAPH_CONNECTIONS: positiveInt.default(64),
  REQUEST_BODY_LIMIT_BYTES: positiveInt.default(1024 * 1024),
  REQUEST_URL_MAX_BYTES: positiveInt.default(64 * 1024),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(10_000),
  WORKERS_IN_PROCESS: bool.default(true),
  S3_ENDPOINT: optionalUrl,
  S3_PORT: port.default(9000),
  S3_ACCESS_KEY: z.string().min(1).default("S3RVER"),
  S3_SECRET_KEY: z.string().min(1).default("S3RVER"),
  S3_REGION: z.string().min(1).default("us-east-1"),
  MEDIA_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, "a valid S3 bucket name")
    .default("douyin-media"),
  MEDIA_PUBLIC_BASE_URL: optionalUrl,
  MEDIA_MAX_UPLOAD_BYTES: positiveInt.default(200 * 1024 * 1024),
  MEDIA_MAX_DURATION_SECONDS: positiveInt.default(15 * 60),
  MEDIA_MAX_WIDTH: positiveInt.default(4096),
  MEDIA_MAX_HEIGHT: positiveInt.default(4096),
  MEDIA_PUBLISH_TIMEOUT_MS: positiveInt.default(120_000),
  MEDIA_WORKER_CONCURRENCY: positiveInt.default(2),
  MEDIA_TOOL_TIMEOUT_MS: positiveInt.default(30_000),
  PUBLISH_DEDUPE_WINDOW_SECONDS: positiveInt.default(600),
  MEDIA_TMP_DIR: z.string().min(1).optional(),
  FFMPEG_PATH: z.string().min(1).optional(),
  FFPROBE_PATH: z.string().min(1).optional(),
  QUEUE_LOCK_MS: positiveInt.default(30_000),
  COUNTER_DRAIN_INTERVAL_MS: positiveInt.default(30_000),
  COUNTER_DRAIN_BATCH: positiveInt.default(1000),
  COUNTER_KICK_DELAY_MS: z.coerce.number().int().min(0).default(50),
  CHAT_CACHE_SIZE: positiveInt.default(200),
  CHAT_CACHE_TTL_SECONDS: positiveInt.default(24 * 3600),
  CHAT_PAGE_MAX: positiveInt.default(500),
  LOCAL_CACHE_MAX_ENTRIES: positiveInt.default(100_000),
  LOCAL_CACHE_TTL_SECONDS: positiveInt.default(300),
  FEED_CACHE_SIZE: positiveInt.default(600),
  TRUST_PROXY: z.string().min(1).optional(),
  // Subscriptions over WebSocket at the gateway (gateway/subscriptions.ts): limits per process.
  SUBSCRIPTIONS_PER_CONNECTION: positiveInt.default(20),
  SUBSCRIPTION_CONNECTIONS_PER_USER: positiveInt.default(10),
  SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: positiveInt.default(200),
  SUBSCRIPTION_INIT_TIMEOUT_MS: positiveInt.default(3_000),
  SUBSCRIPTION_PING_INTERVAL_MS: positiveInt.default(30_000),
  SUBSCRIPTION_CLOSE_TIMEOUT_MS: positiveInt.default(2_000),
  SUBSCRIPTION_SESSION_CHECK_MS: positiveInt.default(60_000),
  SUBSCRIPTION_MAX_BUFFERED_BYTES: positiveInt.default(1024 * 1024),
  // Tracing (platform/tracing.ts): on only when an OTLP endpoint is set; the SDK reads these too.
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: positiveInt.optional(),
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: positiveInt.optional(),
  RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: positiveInt.default(20),
  RATE_LIMIT_LOGIN_LOCKOUT_SECONDS: positiveInt.default(15 * 60),
  RATE_LIMIT_WRITES_PER_USER_PER_MINUTE: positiveInt.optional(),
  PASSWORD_MIN_LENGTH: positiveInt.optional(),
  COMMENT_TIME_ZONE: z
    .string()
    .refine((zone) => {
      try {
        new Intl.DateTimeFormat("en", { timeZone: zone });
        return true;
      } catch {
        return false;
      }
    }, "an IANA time zone such as Asia/Shanghai")
    .default("Asia/Shanghai"),
};

const stackSchema = z.object(stackVariables);

/** Names of every variable the configuration reads (for `registry`'s subgraphs). */
export function configVariables(registry: readonly SubgraphEntry[] = SUBGRAPHS): string[] {
  return [...Object.keys(stackVariables), ...registry.flatMap((entry) => Object.keys(subgraphVariables(entry)))];
}

export const CONFIG_VARIABLES: readonly string[] = configVariables();

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and validates the configuration; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env, registry: readonly SubgraphEntry[] = SUBGRAPHS) {
  const schema = stackSchema.extend(Object.assign({}, ...registry.map(subgraphVariables)) as Record<string, z.ZodType>);
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in schema.shape && value !== undefined && value !== ""),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0] ?? "environment");
      return `${variable}=${JSON.stringify(present[variable] ?? "")}: ${issue.message}`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data as z.output<typeof stackSchema>;
  const own = parsed.data as Record<string, string | number | undefined>;
  const production = e.NODE_ENV === "production";
  if (production && e.JWT_SECRET === DEVELOPMENT_JWT_SECRET) {
    throw new ConfigError("JWT_SECRET: production refuses the development secret; set a random value of 32+ characters");
  }
  if (production && Buffer.byteLength(e.JWT_SECRET) < 32) {
    throw new ConfigError("JWT_SECRET: production needs at least 32 bytes (e.g. `openssl rand -base64 48`)");
  }
  if (e.REDIS_SENTINELS && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError("REDIS_SENTINELS, REDIS_CLUSTER_NODES: set one (Sentinel or Cluster), not both");
  }
  if (production && e.INTERNAL_SECRET === DEVELOPMENT_INTERNAL_SECRET) {
    throw new ConfigError("INTERNAL_SECRET: production refuses the development secret; set a random value");
  }
  const dataDir = path.resolve(projectRoot, e.DATA_DIR);
  const s3Endpoint = e.S3_ENDPOINT ?? `http://127.0.0.1:${e.S3_PORT}`;
  const local = (p: number) => `http://127.0.0.1:${p}/graphql`;
  const subgraphs: Record<string, SubgraphConfig> = Object.fromEntries(
    registry.map((entry) => {
      const ownPort = own[`${entry.envPrefix}_PORT`] as number;
      const databaseUrl = own[`${entry.envPrefix}_DATABASE_URL`] as string | undefined;
      const database: DatabaseConfig = databaseUrl
        ? { kind: "postgres", url: databaseUrl }
        : {
            kind: "embedded",
            dataDir: path.join(dataDir, "postgres"),
            schema: entry.name,
            synchronousCommit: e.EMBEDDED_DATABASE_SYNC_COMMIT,
          };
      const url = (own[`${entry.envPrefix}_SUBGRAPH_URL`] as string | undefined) ?? local(ownPort);
      return [entry.name, Object.freeze({ port: ownPort, url, database })];
    }),
  );

  return Object.freeze({
    env: e.NODE_ENV,
    production,
    logLevel: e.LOG_LEVEL,
    host: e.HOST,
    ports: { rest: e.REST_PORT, gateway: e.GATEWAY_PORT, metrics: e.METRICS_PORT },
    gatewayUrl: e.GATEWAY_URL ?? local(e.GATEWAY_PORT),
    /** Port, URL and database of each subgraph of the registry, by name. */
    subgraphs: Object.freeze(subgraphs),
    databasePoolSize: e.DATABASE_POOL_SIZE,
    // An embedded database lives inside its subgraph's process, so only that process can migrate it.
    migrateOnStart: e.DATABASE_MIGRATE_ON_START,
    dataDir,
    redis: {
      url: e.REDIS_URL,
      prefix: e.REDIS_PREFIX,
      ...(e.REDIS_SENTINELS && { sentinel: { name: e.REDIS_SENTINEL_NAME, nodes: hostPorts(e.REDIS_SENTINELS) } }),
      ...(e.REDIS_CLUSTER_NODES && { clusterNodes: hostPorts(e.REDIS_CLUSTER_NODES) }),
    },
    auth: {
      jwtSecret: e.JWT_SECRET,
      jwtTtlSeconds: e.JWT_TTL_SECONDS,
      sessionTtlSeconds: e.SESSION_TTL_SECONDS,
      internalSecret: e.INTERNAL_SECRET,
      argon2: { memoryCost: e.ARGON2_MEMORY_KIB, timeCost: e.ARGON2_TIME_COST },
    },
    /** A pinned id-generator worker id; unset, each process leases a free one from Redis. */
    idWorkerId: e.ID_WORKER_ID,
    sensitiveWordsFile: path.resolve(projectRoot, e.SENSITIVE_WORDS_FILE),
    limits: {
      username: e.USERNAME_MAX_LENGTH,
      password: e.PASSWORD_MAX_LENGTH,
      /** Shortest password accepted at registration (8 in production, 1 elsewhere, unless set). */
      passwordMin: e.PASSWORD_MIN_LENGTH ?? (production ? 8 : 1),
      title: e.TITLE_MAX_LENGTH,
      comment: e.COMMENT_MAX_LENGTH,
      message: e.MESSAGE_MAX_LENGTH,
      listDefault: e.LIST_LIMIT_DEFAULT,
      listMax: e.LIST_LIMIT_MAX,
      /** Most items a legacy list answers (read page by page; the app cannot page). */
      legacyListMax: e.LEGACY_LIST_MAX,
      requestBodyBytes: e.REQUEST_BODY_LIMIT_BYTES,
      requestUrlBytes: e.REQUEST_URL_MAX_BYTES,
    },
    graphql: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      /** Field resolutions a request may cause, lists counted by their effective size down the nesting. */
      maxCost: e.GRAPHQL_MAX_COST,
      /** Objects a request may return. */
      maxItems: e.GRAPHQL_MAX_ITEMS,
      /** Subgraph fetches one request's query plan may make. */
      maxFetches: e.GRAPHQL_MAX_FETCHES,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      sandbox: e.SANDBOX_ENABLED ?? !production,
    },
    /** How long a request may take from the edge to its answer (a publish gets the media time on top). */
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    subgraphClient: { connections: e.SUBGRAPH_CONNECTIONS },
    database: { statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS, connectTimeoutMs: e.DATABASE_CONNECT_TIMEOUT_MS },
    /** Which proxies' X-Forwarded-For names the client: unset trusts none; "true" any, or addresses/CIDRs. */
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    rateLimits: {
      loginPerIpPerMinute: e.RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE ?? (production ? 30 : 6000),
      registerPerIpPerHour: e.RATE_LIMIT_REGISTER_PER_IP_PER_HOUR ?? (production ? 20 : 100_000),
      /** Failed logins one account may take before it is locked for `loginLockoutSeconds` (every mode). */
      loginFailuresPerAccount: e.RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT,
      loginLockoutSeconds: e.RATE_LIMIT_LOGIN_LOCKOUT_SECONDS,
      writesPerUserPerMinute: e.RATE_LIMIT_WRITES_PER_USER_PER_MINUTE ?? (production ? 300 : 100_000),
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    // Whether subgraph processes also run their BullMQ workers (always, with an embedded database).
    workersInProcess: e.WORKERS_IN_PROCESS,
    storage: {
      // Without S3_ENDPOINT an embedded S3-compatible server (s3rver) runs on S3_PORT.
      embedded: e.S3_ENDPOINT === undefined,
      endpoint: s3Endpoint,
      port: e.S3_PORT,
      dataDir: path.join(dataDir, "s3"),
      accessKey: e.S3_ACCESS_KEY,
      secretKey: e.S3_SECRET_KEY,
      region: e.S3_REGION,
      bucket: e.MEDIA_BUCKET,
      publicBaseUrl: (e.MEDIA_PUBLIC_BASE_URL ?? `${s3Endpoint}/${e.MEDIA_BUCKET}`).replace(/\/+$/, ""),
    },
    media: {
      maxUploadBytes: e.MEDIA_MAX_UPLOAD_BYTES,
      maxDurationSeconds: e.MEDIA_MAX_DURATION_SECONDS,
      maxWidth: e.MEDIA_MAX_WIDTH,
      maxHeight: e.MEDIA_MAX_HEIGHT,
      publishTimeoutMs: e.MEDIA_PUBLISH_TIMEOUT_MS,
      workerConcurrency: e.MEDIA_WORKER_CONCURRENCY,
      /** How long one ffprobe or ffmpeg run may take before it is killed and the upload refused. */
      toolTimeoutMs: e.MEDIA_TOOL_TIMEOUT_MS,
      /** A publish of the same file by the same author this soon after the first answers the first video. */
      publishDedupeWindowSeconds: e.PUBLISH_DEDUPE_WINDOW_SECONDS,
      tmpDir: e.MEDIA_TMP_DIR ? path.resolve(projectRoot, e.MEDIA_TMP_DIR) : os.tmpdir(),
      ffmpegPath: e.FFMPEG_PATH,
      ffprobePath: e.FFPROBE_PATH,
    },
    // A job whose worker stops renewing its lock this long is taken back and retried (a crash).
    queueLockMs: e.QUEUE_LOCK_MS,
    counters: {
      /** How often a drainer looks for counter changes it was not told about (a safety net). */
      drainIntervalMs: e.COUNTER_DRAIN_INTERVAL_MS,
      /** Most outbox rows applied in one transaction. */
      drainBatch: e.COUNTER_DRAIN_BATCH,
      /** Wait after a local write before draining, so writes close together share a batch. */
      kickDelayMs: e.COUNTER_KICK_DELAY_MS,
    },
    localCache: {
      /** Most entries one in-process cache keeps (the oldest go first). */
      maxEntries: e.LOCAL_CACHE_MAX_ENTRIES,
      /** A backstop: entries are invalidated on change, and expire after this anyway. */
      ttlMs: e.LOCAL_CACHE_TTL_SECONDS * 1000,
      /** Newest videos the feed serves from memory; older pages are read from the database. */
      feedSize: e.FEED_CACHE_SIZE,
    },
    commentTimeZone: e.COMMENT_TIME_ZONE,
    subscriptions: {
      /** Subscriptions one WebSocket connection may hold at once. */
      perConnection: e.SUBSCRIPTIONS_PER_CONNECTION,
      /** Live connections one user, and one client address, may hold on one gateway process. */
      connectionsPerUser: e.SUBSCRIPTION_CONNECTIONS_PER_USER,
      connectionsPerAddress: e.SUBSCRIPTION_CONNECTIONS_PER_ADDRESS,
      /** How long a new connection may take to send connection_init. */
      initTimeoutMs: e.SUBSCRIPTION_INIT_TIMEOUT_MS,
      /** A ping this often; a peer that has not answered the previous one is cut. */
      pingIntervalMs: e.SUBSCRIPTION_PING_INTERVAL_MS,
      /** How long a connection the gateway closes may take to answer before it is cut. */
      closeTimeoutMs: e.SUBSCRIPTION_CLOSE_TIMEOUT_MS,
      /** How often each connection's session is checked (and its sliding TTL renewed). */
      sessionCheckMs: e.SUBSCRIPTION_SESSION_CHECK_MS,
      /** Undelivered bytes (socket buffer plus queued events) past which a slow consumer is cut. */
      maxBufferedBytes: e.SUBSCRIPTION_MAX_BUFFERED_BYTES,
    },
    chat: {
      /** Most recent messages of a conversation kept in a Redis sorted set. */
      cacheSize: e.CHAT_CACHE_SIZE,
      cacheTtlSeconds: e.CHAT_CACHE_TTL_SECONDS,
      /** Most messages one chat read returns (the newest ones). */
      pageMax: e.CHAT_PAGE_MAX,
    },
  });
}

function parseTrustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || value === "false") return false;
  if (value === "true") return true;
  return value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
}

export interface SubgraphConfig {
  readonly port: number;
  /** Where the gateway reaches it in split mode. */
  readonly url: string;
  readonly database: DatabaseConfig;
}

export type DatabaseConfig =
  | { readonly kind: "postgres"; readonly url: string }
  /** One embedded PGlite instance per data directory, one schema per subgraph in it. */
  | { readonly kind: "embedded"; readonly dataDir: string; readonly schema: string; readonly synchronousCommit: boolean }
  /** The same in memory, for the fast tests: nothing is written to disk. */
  | { readonly kind: "memory"; readonly instance: string; readonly schema: string };

export type Config = ReturnType<typeof loadConfig>;

/** `host:port,host:port` as ioredis takes it. */
function hostPorts(list: string): { host: string; port: number }[] {
  return list.split(",").map((node) => {
    const at = node.lastIndexOf(":");
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
  });
}
