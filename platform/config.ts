// The one typed configuration of every process: ports, URLs, secrets, TTLs and limits, read
// from the environment and validated at start-up with a message that names the bad variable.
import { randomBytes } from "node:crypto";
import path from "node:path";
import os from "node:os";
import { z } from "zod";
import { projectRoot, SUBGRAPHS, type SubgraphEntry } from "./registry";

export { projectRoot };

export const DEVELOPMENT_JWT_SECRET = "development-only-jwt-secret-do-not-use-in-production";
/** The embedded object storage's keys (s3rver's own): a development stand-in, refused in production. */
export const DEVELOPMENT_STORAGE_KEY = "S3RVER";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === "" ? undefined : value))
  .pipe(z.url().optional())
  .optional();
const bool = z.enum(["true", "false", "1", "0", "yes", "no"]).transform((value) => value === "true" || value === "1" || value === "yes");

/**
 * Documents a variable beside its definition: what it means and, where the schema's default
 * does not say it (unset, or a default that depends on another variable), what applies without
 * it. docs/configuration.md is rendered from these (`npm run docs:config`).
 */
function describe<Schema extends z.ZodType>(schema: Schema, meaning: string, defaultText?: string): Schema {
  return schema.meta({ description: meaning, ...(defaultText !== undefined && { defaultText }) });
}

/** Each subgraph's own variables, named after it in supergraph.yaml (e.g. VIDEO_PORT). */
export function subgraphVariables(entry: SubgraphEntry) {
  const prefix = entry.envPrefix;
  return {
    [`${prefix}_PORT`]: describe(
      port.default(entry.port),
      `the ${entry.name} subgraph's port in split mode`,
      `\`${entry.port}\` (the port of its \`routing_url\` in \`supergraph.yaml\`)`,
    ),
    [`${prefix}_SUBGRAPH_URL`]: describe(
      optionalUrl,
      `where the gateway finds the ${entry.name} subgraph (split mode)`,
      `\`http://127.0.0.1:$${prefix}_PORT/graphql\``,
    ),
    [`${prefix}_DATABASE_URL`]: describe(
      optionalUrl,
      `the ${entry.name} subgraph's own PostgreSQL database`,
      `unset: schema \`${entry.name}\` of the embedded PGlite in \`$DATA_DIR/postgres\``,
    ),
  };
}

const RANDOM_PER_START =
  "outside production: random per start, made by the process that starts the others (`npm start`, with or without `--split`) and passed to them; in production, unset only where the process never uses it (then a random value no one else holds)";

const hostPortList = z.string().regex(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, "host:port[,host:port...]");

/** Every variable the stack reads besides the per-subgraph ones, with its default and meaning, in the order of docs/configuration.md. */
export const stackVariables = {
  // The process and its network.
  NODE_ENV: describe(
    z.enum(["development", "production", "test"]).default("development"),
    "`development`, `production` or `test`; `production` refuses the development secrets and switches Sandbox, the rate limits, the upload limits and the password minimum to their production defaults",
  ),
  LOG_LEVEL: describe(
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    "pino level: `fatal`, `error`, `warn`, `info`, `debug`, `trace`, or `silent`",
  ),
  HOST: describe(z.string().min(1).default("127.0.0.1"), "address every service binds (the image sets `0.0.0.0`)"),
  REST_PORT: describe(port.default(8080), "the REST adapter's port: the legacy `/douyin/*` routes"),
  GATEWAY_PORT: describe(port.default(4000), "the gateway's port: `/graphql`, Apollo Sandbox and the web client"),
  METRICS_PORT: describe(
    port.default(9464),
    "Prometheus `GET /metrics` of the process, on a port of its own (`npm start -- --split` gives each process the next one; `0`: any free port)",
  ),
  GATEWAY_URL: describe(optionalUrl, "where the REST adapter finds the gateway (split mode)", "`http://127.0.0.1:$GATEWAY_PORT/graphql`"),
  TRUST_PROXY: describe(
    z.string().min(1).optional(),
    "`true` (not in production), or comma-separated addresses or CIDRs of the proxies whose `X-Forwarded-For` names the client (rate limits count per client address)",
    "unset: trust none",
  ),
  SHUTDOWN_TIMEOUT_MS: describe(positiveInt.default(10_000), "how long a service may take to drain on SIGTERM"),
  SHUTDOWN_DELAY_MS: describe(
    z.coerce.number().int().min(0).default(0),
    "on SIGTERM, how long a service keeps serving with `/readyz` answering 503 before it stops taking connections, so a load balancer that health-checks it routes around it first (Kubernetes' preStop pause does this there)",
  ),
  // Tracing (platform/tracing.ts): on only when an OTLP endpoint is set; the SDK reads these too.
  OTEL_EXPORTER_OTLP_ENDPOINT: describe(
    optionalUrl,
    "OTLP/HTTP collector base URL (e.g. `http://jaeger:4318`); set, every service exports its spans there",
    "unset: tracing off, nothing of the SDK loaded",
  ),
  OTEL_SERVICE_NAME: describe(
    z.string().min(1).optional(),
    "the `service.name` of exported spans",
    "`douyin-<service>`, or `douyin` for the co-located process",
  ),
  OTEL_TRACES_SAMPLER_ARG: describe(
    z.coerce.number().min(0).max(1).default(1),
    "fraction of new traces kept (parent-based: a sampled request stays sampled through every service); docker-compose and the Kubernetes ConfigMap set `0.1`",
  ),
  // Databases.
  DATA_DIR: describe(
    z.string().min(1).default("data"),
    "embedded data, relative to the project: the PGlite database in `postgres/`, the embedded object storage in `s3/`",
  ),
  DATABASE_POOL_SIZE: describe(positiveInt.default(10), "connections to each subgraph database, per process"),
  DATABASE_STATEMENT_TIMEOUT_MS: describe(
    positiveInt.default(10_000),
    "PostgreSQL cancels a longer statement (migrations and `npm run reconcile` have no limit)",
  ),
  DATABASE_CONNECT_TIMEOUT_MS: describe(
    positiveInt.default(5_000),
    "a connection not had within this time fails the request with `UNAVAILABLE`",
  ),
  DATABASE_MIGRATE_ON_START: describe(
    bool.optional(),
    "apply pending migrations when a subgraph starts",
    "`true` for the embedded database, `false` for PostgreSQL",
  ),
  EMBEDDED_DATABASE_SYNC_COMMIT: describe(
    bool.default(false),
    "`false`: the embedded database acknowledges a commit before its WAL is on disk (a crash of the process may lose its last fraction of a second of writes, a stop loses nothing; about 15% more writes/s); `true`: PostgreSQL's safe default",
  ),
  // Redis.
  REDIS_URL: describe(z.url().default("redis://127.0.0.1:6379"), "sessions, caches, queues and rate limits (Redis is required)"),
  REDIS_PREFIX: describe(
    z
      .string()
      .regex(/^[a-zA-Z0-9_-]+$/, "letters, digits, '_' and '-' only")
      .default("douyin"),
    "namespace of every key and queue (queues use `{prefix}` as a Redis Cluster hash tag)",
  ),
  REDIS_SENTINELS: describe(
    hostPortList.optional(),
    "Redis behind Sentinel: the sentinels, `host:port[,host:port...]`; `REDIS_URL` then gives only credentials and the database number",
  ),
  REDIS_SENTINEL_NAME: describe(z.string().min(1).default("mymaster"), "the master's name the sentinels know (with `REDIS_SENTINELS`)"),
  REDIS_CLUSTER_NODES: describe(
    hostPortList.optional(),
    "Redis Cluster: some of its nodes, `host:port[,host:port...]` (the rest are discovered; not with `REDIS_SENTINELS`); `REDIS_URL` then gives only credentials",
  ),
  // Accounts, sessions and ids.
  JWT_SECRET: describe(
    z.string().min(16, "at least 16 characters").optional(),
    "token signing key, 16+ characters; production requires one of 32+ bytes in the processes that sign or check login tokens (the gateway, the REST adapter, the user subgraph, a cell), and never the development value",
    "outside production, a development value; in production, unset only where no token is signed or checked (then a random value no one else holds)",
  ),
  JWT_TTL_SECONDS: describe(positiveInt.default(30 * 24 * 3600), "a token's absolute lifetime"),
  SESSION_TTL_SECONDS: describe(positiveInt.default(7 * 24 * 3600), "sliding session lifetime, renewed on each use"),
  EDGE_SECRET: describe(
    z.string().min(16, "at least 16 characters").optional(),
    "header secret (`x-edge-secret`) with which the REST adapter, or a proxy at the edge, vouches to the gateway for the client address it names (`x-client-ip`, what rate limits count); 16+ characters; production requires it in the split gateway and REST adapter, different from `INTERNAL_SECRET`",
    RANDOM_PER_START,
  ),
  INTERNAL_SECRET: describe(
    z.string().min(16, "at least 16 characters").optional(),
    "header secret (`x-internal-secret`) the subgraphs require from the gateway, which with it vouches for the caller (`x-viewer-id`); 16+ characters; production requires it in the split gateway and subgraphs, different from `EDGE_SECRET`",
    RANDOM_PER_START,
  ),
  ID_WORKER_ID: describe(
    z.coerce.number().int().min(0).max(31).optional(),
    "0–31, the id generator's worker id; unset, each process leases a free one from Redis (renewed every 15 s, lost after 60 s), so replicas never share one; set it only to pin one",
    "unset: leased",
  ),
  ARGON2_MEMORY_KIB: describe(positiveInt.default(19456), "argon2id memory cost in KiB (with the time cost: OWASP's recommendation)"),
  ARGON2_TIME_COST: describe(positiveInt.default(2), "argon2id iterations"),
  // What users write, and how much of it one answer holds.
  SENSITIVE_WORDS_FILE: describe(
    z.string().min(1).default("lib/sensitive-words.txt"),
    "words masked with `*` in titles, comments and messages, one a line (relative to the project)",
  ),
  USERNAME_MAX_LENGTH: describe(
    positiveInt.default(32),
    "longest username in characters (code points); usernames are stored NFKC-normalised",
  ),
  PASSWORD_MIN_LENGTH: describe(positiveInt.optional(), "shortest password accepted at registration", "`8` in production, `1` otherwise"),
  PASSWORD_MAX_LENGTH: describe(positiveInt.default(32), "longest password, in characters"),
  TITLE_MAX_LENGTH: describe(positiveInt.default(100), "longest video title, in characters"),
  COMMENT_MAX_LENGTH: describe(positiveInt.default(500), "longest comment, in characters"),
  MESSAGE_MAX_LENGTH: describe(positiveInt.default(1000), "longest chat message, in characters"),
  COMMENT_TIME_ZONE: describe(
    z
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
    "time zone of a comment's legacy `create_date` (`MM-DD`)",
  ),
  LIST_LIMIT_DEFAULT: describe(positiveInt.default(30), "page size when a request names none"),
  LIST_LIMIT_MAX: describe(
    positiveInt.default(500),
    "largest page served (larger requests are cut to it), and the pages in which the legacy routes read whole lists (500 made a 1,500-comment list 47% faster than 100)",
  ),
  LEGACY_LIST_MAX: describe(
    positiveInt.default(5000),
    "most items a legacy list answers, newest first (the REST adapter reads it page by page; the app cannot page)",
  ),
  CHAT_PAGE_MAX: describe(positiveInt.default(500), "most messages one chat read returns (the newest)"),
  // Requests, and the gateway's limits on GraphQL.
  REQUEST_TIMEOUT_MS: describe(
    positiveInt.default(10_000),
    "a request's deadline at the edge, carried to every subgraph call (a publish gets `MEDIA_PUBLISH_TIMEOUT_MS` on top); past it, or when the caller hangs up, its work stops and it answers `UNAVAILABLE`",
  ),
  REQUEST_BODY_LIMIT_BYTES: describe(
    positiveInt.default(1024 * 1024),
    "largest request body without a file (and largest signed payload the embedded storage takes; uploads go through presigned URLs)",
  ),
  REQUEST_URL_MAX_BYTES: describe(
    positiveInt.default(64 * 1024),
    "largest request line and headers the REST adapter reads (beyond it: an envelope, not a bare 431)",
  ),
  SUBGRAPH_CONNECTIONS: describe(
    positiveInt.default(64),
    "keep-alive connections of the gateway → subgraph and REST adapter → gateway HTTP clients",
  ),
  SANDBOX_ENABLED: describe(bool.optional(), "Apollo Sandbox on `GET /graphql`, and introspection", "`true` outside production"),
  GRAPHQL_MAX_DEPTH: describe(positiveInt.default(10), "deepest query the gateway accepts (deeper: HTTP 400)"),
  GRAPHQL_MAX_ALIASES: describe(positiveInt.default(15), "most aliases in one query (more: HTTP 400)"),
  GRAPHQL_MAX_TOKENS: describe(positiveInt.default(2000), "most tokens the parser reads (more: HTTP 400)"),
  GRAPHQL_MAX_COST: describe(
    positiveInt.default(50_000),
    "field resolutions a request may cause, lists counted by their effective size down the nesting; more: `QUERY_TOO_COMPLEX` before anything runs",
  ),
  GRAPHQL_MAX_ITEMS: describe(positiveInt.default(5_000), "objects a request may return; more: `QUERY_TOO_COMPLEX`"),
  GRAPHQL_MAX_FETCHES: describe(positiveInt.default(24), "subgraph fetches a request's query plan may make; more: `QUERY_TOO_COMPLEX`"),
  // Rate limits, counted in Redis so that every replica shares them. The development defaults
  // are high so that test suites and benchmarks, many requests from one address, get through.
  RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: describe(
    positiveInt.optional(),
    "login attempts per client address (each aliased `login` counts)",
    "`30` in production, `6000` otherwise",
  ),
  RATE_LIMIT_REGISTER_PER_IP_PER_HOUR: describe(
    positiveInt.optional(),
    "registrations per client address",
    "`20` in production, `100000` otherwise",
  ),
  RATE_LIMIT_READS_PER_IP_PER_MINUTE: describe(
    positiveInt.optional(),
    "GraphQL queries per client address (a legacy read is one, a whole legacy list one per page of `LIST_LIMIT_MAX`)",
    "`6000` in production, `1000000` otherwise",
  ),
  RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT: describe(
    positiveInt.default(20),
    "login attempts for one account from one client address per `RATE_LIMIT_LOGIN_LOCKOUT_SECONDS` (in every mode; a success from that address resets its count); other addresses are not refused by it",
  ),
  RATE_LIMIT_LOGIN_ATTEMPTS_PER_ACCOUNT: describe(
    positiveInt.default(300),
    "login attempts for one account from addresses it does not know, all together, per `RATE_LIMIT_LOGIN_LOCKOUT_SECONDS` (in every mode; a success does not reset it); past it only addresses that logged in to the account within `RATE_LIMIT_LOGIN_KNOWN_ADDRESS_DAYS` get through",
  ),
  RATE_LIMIT_LOGIN_KNOWN_ADDRESS_DAYS: describe(
    positiveInt.default(30),
    "how long an address that logged in to an account stays known to it (and passes `RATE_LIMIT_LOGIN_ATTEMPTS_PER_ACCOUNT`)",
  ),
  RATE_LIMIT_LOGIN_LOCKOUT_SECONDS: describe(positiveInt.default(15 * 60), "the window of both per-account login limits"),
  RATE_LIMIT_WRITES_PER_USER_PER_MINUTE: describe(
    positiveInt.optional(),
    "likes, comments, follows, messages and publishes per user (per address for anonymous callers)",
    "`300` in production, `100000` otherwise",
  ),
  RATE_LIMIT_PUBLISHES_PER_USER_PER_HOUR: describe(
    positiveInt.optional(),
    "videos one user may publish in an hour (each also counts as a write); a retry of the same publish counts too",
    "`60` in production, `100000` otherwise",
  ),
  // Object storage and media.
  S3_ENDPOINT: describe(
    optionalUrl,
    "MinIO or S3 endpoint, e.g. `http://minio:9000`",
    "unset: the embedded S3-compatible server on `S3_PORT`",
  ),
  S3_PORT: describe(port.default(9000), "port of the embedded object storage"),
  S3_ACCESS_KEY: describe(
    z.string().min(1).default(DEVELOPMENT_STORAGE_KEY),
    "object storage access key; the embedded storage checks it too (Signature V4), so set your own wherever its port is reachable by others (production refuses the default)",
  ),
  S3_SECRET_KEY: describe(z.string().min(1).default(DEVELOPMENT_STORAGE_KEY), "object storage secret key (production refuses the default)"),
  S3_REGION: describe(z.string().min(1).default("us-east-1"), "object storage region"),
  MEDIA_BUCKET: describe(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{2,62}$/, "a valid S3 bucket name")
      .default("douyin-media"),
    "bucket for videos (`videos/<id>.mp4`) and covers (`covers/<id>.jpg`); created on the first publish, public-read",
  ),
  MEDIA_PUBLIC_BASE_URL: describe(
    optionalUrl,
    "base of `play_url` and `cover_url`: set it to an address phones can reach",
    "the S3 endpoint + `/$MEDIA_BUCKET` (`http://127.0.0.1:9000/douyin-media` with the embedded storage)",
  ),
  MEDIA_MAX_UPLOAD_BYTES: describe(positiveInt.default(200 * 1024 * 1024), "larger uploads are cut off while they stream in, and refused"),
  MEDIA_MAX_DURATION_SECONDS: describe(positiveInt.default(15 * 60), "longest video accepted"),
  MEDIA_MAX_WIDTH: describe(positiveInt.default(4096), "widest video accepted, in pixels"),
  MEDIA_MAX_HEIGHT: describe(positiveInt.default(4096), "tallest video accepted, in pixels"),
  MEDIA_PUBLISH_TIMEOUT_MS: describe(positiveInt.default(120_000), "how long a publish waits for the media worker"),
  MEDIA_WORKER_CONCURRENCY: describe(positiveInt.default(2), "media jobs at once in each worker process"),
  MEDIA_JOBS_PER_USER: describe(
    positiveInt.default(1),
    "media jobs of one uploader processed at once across all workers; the uploader's others wait their turn while other users' jobs go ahead (keep it below the workers' total `MEDIA_WORKER_CONCURRENCY`)",
  ),
  MEDIA_COVER_MAX_PACKETS: describe(
    positiveInt.default(150),
    "most video packets decoded to find a cover when a video's first keyframe does not give one (5 s at 30 fps: a stream refreshed without keyframes shows a whole picture within that); a file with no decodable frame among them is refused",
  ),
  MEDIA_TOOL_TIMEOUT_MS: describe(
    positiveInt.default(30_000),
    "longest one ffprobe or ffmpeg run may take; then it is killed (SIGKILL, with anything it started) and the upload refused",
  ),
  PUBLISH_DEDUPE_WINDOW_SECONDS: describe(
    positiveInt.default(600),
    "the same file published again by the same author this soon after the first answers the first video",
  ),
  // Like the rate limits, strict in production only: test suites publish many files at once.
  CONCURRENT_UPLOADS_PER_USER: describe(
    positiveInt.optional(),
    "uploads one user may be sending at once to one process, at each front door (legacy publish, GraphQL `publishVideo`); more: `RATE_LIMITED`",
    "`2` in production, `100` otherwise",
  ),
  CONCURRENT_UPLOADS_PER_ADDRESS: describe(
    positiveInt.optional(),
    "uploads one client address (`TRUST_PROXY` applies) may be sending at once to one process, at each front door; more: `RATE_LIMITED`",
    "`4` in production, `1000` otherwise",
  ),
  REFUSED_BODY_DRAIN_BYTES: describe(
    positiveInt.default(256 * 1024),
    "how much more of a refused upload's body is read (and dropped) after the answer, so the client reads the answer rather than a reset; then the connection is closed",
  ),
  MEDIA_TMP_DIR: describe(z.string().min(1).optional(), "where uploads are spooled while they stream in", "the system's temporary folder"),
  FFMPEG_PATH: describe(
    z.string().min(1).optional(),
    "the ffmpeg binary that runs on uploads (the media tests pass with Debian's and the bundled one)",
    "the system's `ffmpeg` on `PATH` (the image has Debian's); only without one the 2018 build of `@ffmpeg-installer/ffmpeg`, with a warning at start",
  ),
  FFPROBE_PATH: describe(
    z.string().min(1).optional(),
    "the ffprobe binary that runs on uploads",
    "the system's `ffprobe` on `PATH`; only without one the build of `@ffprobe-installer/ffprobe`, with a warning at start",
  ),
  // Background work and caches.
  WORKERS_IN_PROCESS: describe(
    bool.default(true),
    "run each subgraph's background work (queue consumers, outbox drainers) in the process that serves the subgraph, as it always is with an embedded database; `false`: run `node dist/server/main.js <name>-workers` beside it",
  ),
  QUEUE_LOCK_MS: describe(positiveInt.default(30_000), "a job whose worker stops renewing its lock this long is retried elsewhere"),
  COUNTER_KICK_DELAY_MS: describe(
    z.coerce.number().int().min(0).default(50),
    "wait after a write before applying its counter changes, so that writes close together share a transaction",
  ),
  COUNTER_DRAIN_BATCH: describe(positiveInt.default(1000), "most counter changes applied in one transaction"),
  COUNTER_DRAIN_INTERVAL_MS: describe(
    positiveInt.default(30_000),
    "how often a drainer looks for counter changes it was not told about (a safety net)",
  ),
  CHAT_CACHE_SIZE: describe(positiveInt.default(200), "recent messages of each conversation kept in a Redis sorted set"),
  CHAT_CACHE_TTL_SECONDS: describe(positiveInt.default(24 * 3600), "how long a conversation's sorted set lives after its last write"),
  LOCAL_CACHE_MAX_ENTRIES: describe(
    positiveInt.default(100_000),
    "most entries in each in-process cache of hot entities (the oldest go first)",
  ),
  LOCAL_CACHE_TTL_SECONDS: describe(positiveInt.default(300), "how long a cached entry lives even if nothing invalidates it"),
  FEED_CACHE_SIZE: describe(positiveInt.default(600), "newest videos the feed serves from memory"),
  // Subscriptions over WebSocket at the gateway (gateway/subscriptions.ts): limits per process.
  SUBSCRIPTIONS_PER_CONNECTION: describe(positiveInt.default(20), "subscriptions one WebSocket connection may run at once"),
  SUBSCRIPTION_CONNECTIONS_PER_USER: describe(positiveInt.default(10), "live connections one user may hold on one gateway process"),
  SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: describe(
    positiveInt.default(200),
    "live connections one client address (`TRUST_PROXY` applies) may hold on one gateway process",
  ),
  SUBSCRIPTION_INIT_TIMEOUT_MS: describe(positiveInt.default(3_000), "how long a new connection may take to send `connection_init`"),
  SUBSCRIPTION_PING_INTERVAL_MS: describe(
    positiveInt.default(30_000),
    "the gateway pings every connection this often and cuts one that did not answer the previous ping",
  ),
  SUBSCRIPTION_CLOSE_TIMEOUT_MS: describe(
    positiveInt.default(2_000),
    "how long a connection the gateway closes may take to answer before it is cut",
  ),
  SUBSCRIPTION_SESSION_CHECK_MS: describe(
    positiveInt.default(60_000),
    "how often each connection's session is checked (closing it once expired or logged out) and its sliding TTL renewed",
  ),
  SUBSCRIPTION_MAX_BUFFERED_BYTES: describe(
    positiveInt.default(1024 * 1024),
    "undelivered bytes (socket buffer plus queued events) past which a slow consumer is cut",
  ),
  CACHE_INVALIDATION_TIMEOUT_MS: describe(
    positiveInt.default(500),
    "longest a write waits for every other process to drop the cached entries it changed before it answers (read-your-writes across replicas); a process that does not answer in time is logged and counted",
  ),
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
  if (production && e.JWT_SECRET !== undefined && Buffer.byteLength(e.JWT_SECRET) < 32) {
    throw new ConfigError("JWT_SECRET: production needs at least 32 bytes (e.g. `openssl rand -base64 48`)");
  }
  if (e.REDIS_SENTINELS && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError("REDIS_SENTINELS, REDIS_CLUSTER_NODES: set one (Sentinel or Cluster), not both");
  }
  const secrets = headerSecrets(e, production);
  if (production && e.TRUST_PROXY?.trim() === "true") {
    throw new ConfigError(
      "TRUST_PROXY: production takes the addresses or CIDRs of the proxies in front (e.g. 10.0.0.0/8), not `true`, which lets any client name its own address and so its rate limits",
    );
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
      jwtSecret: e.JWT_SECRET ?? (production ? randomSecret() : DEVELOPMENT_JWT_SECRET),
      jwtTtlSeconds: e.JWT_TTL_SECONDS,
      sessionTtlSeconds: e.SESSION_TTL_SECONDS,
      /** With it, an edge (the REST adapter) names the client's address to the gateway. */
      edgeSecret: secrets.edge,
      /** With it, the gateway names the caller to the subgraphs. */
      internalSecret: secrets.internal,
      /** The secrets set in the environment (production refuses a process that uses one without it). */
      secretsSet: SECRETS.filter((variable) => e[variable] !== undefined),
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
      /** Generous: the legacy app polls, and many phones share one address behind a carrier's NAT. */
      readsPerIpPerMinute: e.RATE_LIMIT_READS_PER_IP_PER_MINUTE ?? (production ? 6000 : 1_000_000),
      /** Logins one account may take from one address per `loginLockoutSeconds` (every mode). */
      loginFailuresPerAccount: e.RATE_LIMIT_LOGIN_FAILURES_PER_ACCOUNT,
      /** Logins one account may take from addresses it does not know, all together, per `loginLockoutSeconds`. */
      loginAttemptsPerAccount: e.RATE_LIMIT_LOGIN_ATTEMPTS_PER_ACCOUNT,
      loginKnownAddressSeconds: e.RATE_LIMIT_LOGIN_KNOWN_ADDRESS_DAYS * 24 * 3600,
      loginLockoutSeconds: e.RATE_LIMIT_LOGIN_LOCKOUT_SECONDS,
      writesPerUserPerMinute: e.RATE_LIMIT_WRITES_PER_USER_PER_MINUTE ?? (production ? 300 : 100_000),
      /** Publishes per user an hour: each one holds the media workers for a while. */
      publishesPerUserPerHour: e.RATE_LIMIT_PUBLISHES_PER_USER_PER_HOUR ?? (production ? 60 : 100_000),
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    /** On SIGTERM, serve this long with /readyz answering 503 before closing (load balancers route around it meanwhile). */
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
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
      /** Whether MEDIA_PUBLIC_BASE_URL was set (the default is only right on one machine). */
      publicBaseUrlSet: e.MEDIA_PUBLIC_BASE_URL !== undefined,
    },
    media: {
      maxUploadBytes: e.MEDIA_MAX_UPLOAD_BYTES,
      maxDurationSeconds: e.MEDIA_MAX_DURATION_SECONDS,
      maxWidth: e.MEDIA_MAX_WIDTH,
      maxHeight: e.MEDIA_MAX_HEIGHT,
      publishTimeoutMs: e.MEDIA_PUBLISH_TIMEOUT_MS,
      workerConcurrency: e.MEDIA_WORKER_CONCURRENCY,
      /** Media jobs of one uploader processed at once across every worker (the rest are put back). */
      jobsPerUser: e.MEDIA_JOBS_PER_USER,
      /** Most video packets decoded in search of a cover when the first keyframe gives none. */
      coverMaxPackets: e.MEDIA_COVER_MAX_PACKETS,
      /** How long one ffprobe or ffmpeg run may take before it is killed and the upload refused. */
      toolTimeoutMs: e.MEDIA_TOOL_TIMEOUT_MS,
      /** A publish of the same file by the same author this soon after the first answers the first video. */
      publishDedupeWindowSeconds: e.PUBLISH_DEDUPE_WINDOW_SECONDS,
      tmpDir: e.MEDIA_TMP_DIR ? path.resolve(projectRoot, e.MEDIA_TMP_DIR) : os.tmpdir(),
      /** Uploads one user, and one client address, may be sending at once to one process (each front door counts its own). */
      uploadsPerUser: e.CONCURRENT_UPLOADS_PER_USER ?? (production ? 2 : 100),
      uploadsPerAddress: e.CONCURRENT_UPLOADS_PER_ADDRESS ?? (production ? 4 : 1000),
      /** How much of a refused upload's body is read and dropped after the answer, before the connection is closed. */
      refusedBodyDrainBytes: e.REFUSED_BODY_DRAIN_BYTES,
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
      /** Longest a writer waits for every other process to drop what its write changed. */
      invalidationTimeoutMs: e.CACHE_INVALIDATION_TIMEOUT_MS,
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

/** The two header secrets: each lets its holder say something else (the client's address; who the caller is). */
const HEADER_SECRETS = ["EDGE_SECRET", "INTERNAL_SECRET"] as const;
/** Every secret a process may hold; each process of a deployment is given only those it uses (ServiceNeeds). */
export const SECRETS = ["JWT_SECRET", ...HEADER_SECRETS] as const;
export type SecretName = (typeof SECRETS)[number];

/** `env` without the secrets a process does not use (`needsOf(...).secrets`): what a deployment hands that process. */
export function keepingSecrets<Env extends Record<string, string | undefined>>(env: Env, used: readonly SecretName[]): Env {
  const isSecret = (name: string): name is SecretName => (SECRETS as readonly string[]).includes(name);
  return Object.fromEntries(Object.entries(env).filter(([name]) => !isSecret(name) || used.includes(name))) as Env;
}

/** A secret no one else knows: one start's, outside production, or a stand-in for one a process never uses. */
const randomSecret = () => randomBytes(32).toString("hex");

/**
 * Outside production, `env` with a random EDGE_SECRET and INTERNAL_SECRET where they are unset:
 * a process that starts others calls it once and gives each of them the secrets it uses
 * (keepingSecrets), so that they believe each other and no one else (there is no shared
 * development value to know).
 */
export function withStartSecrets<Env extends Record<string, string | undefined>>(
  env: Env,
): Env & Partial<Record<(typeof HEADER_SECRETS)[number], string>> {
  if (env.NODE_ENV === "production") return env;
  const missing = HEADER_SECRETS.filter((variable) => !env[variable]);
  return { ...env, ...Object.fromEntries(missing.map((variable) => [variable, randomSecret()])) };
}

/**
 * An unset secret is random, so a process believes no header it did not make itself (and one that
 * never uses it holds nothing worth taking); production refuses, at start, a process that uses a
 * secret it was not given (refuseDevelopmentParts). Production also refuses the two set to the
 * same value, or holding one would grant both.
 */
function headerSecrets(env: Partial<Record<(typeof HEADER_SECRETS)[number], string>>, production: boolean) {
  if (production && env.EDGE_SECRET !== undefined && env.EDGE_SECRET === env.INTERNAL_SECRET) {
    throw new ConfigError(
      "EDGE_SECRET, INTERNAL_SECRET: production needs two different secrets (the edge one lets its holder name the client's address, the internal one the caller)",
    );
  }
  return { edge: env.EDGE_SECRET ?? randomSecret(), internal: env.INTERNAL_SECRET ?? randomSecret() };
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

/** What one process of the stack needs around it, for production's refusals. */
export interface ServiceNeeds {
  /** The subgraphs whose databases it opens. */
  databases: readonly string[];
  /** Whether it keeps files in object storage and builds their public URLs. */
  objectStorage: boolean;
  /** The secrets it uses: it signs or checks tokens (JWT_SECRET), makes or believes the edge's or the gateway's headers. */
  secrets: readonly SecretName[];
}

/** Why a process needs each secret, for the refusal that names a missing one. */
const SECRET_USES: Record<SecretName, string> = {
  JWT_SECRET:
    "this process signs or checks login tokens; set 32+ random bytes (e.g. `openssl rand -base64 48`), the same in every process that does",
  EDGE_SECRET:
    "this process vouches for, or believes, the client address an edge names; set a random value of 16+ characters (e.g. `openssl rand -hex 32`), the same in the REST adapter and the gateway",
  INTERNAL_SECRET:
    "the gateway vouches for callers to the subgraphs with it; set a random value of 16+ characters (e.g. `openssl rand -hex 32`), the same in the gateway and the subgraphs, not EDGE_SECRET",
};

/**
 * Production runs on real parts: every part a process needs that is still the development
 * stand-in (a secret it uses but was not given, the embedded database, the embedded object
 * storage and its keys, media URLs that only work on this machine) is refused at start, all of
 * them at once, one message each.
 */
export function refuseDevelopmentParts(config: Config, needs: ServiceNeeds): void {
  if (!config.production) return;
  const problems: string[] = [];
  for (const secret of needs.secrets) {
    if (!config.auth.secretsSet.includes(secret)) problems.push(`${secret}: production requires it here: ${SECRET_USES[secret]}`);
  }
  for (const name of needs.databases) {
    if (config.subgraphs[name]?.database.kind === "postgres") continue;
    problems.push(
      `${name.toUpperCase()}_DATABASE_URL: production keeps the ${name} subgraph's rows in PostgreSQL; the embedded database is for development (set the URL of its database)`,
    );
  }
  if (needs.objectStorage) {
    const { storage } = config;
    if (storage.embedded) {
      problems.push(
        "S3_ENDPOINT: production stores media in MinIO or S3; the embedded object storage is for development (set the storage's S3 API URL)",
      );
    }
    if (storage.accessKey === DEVELOPMENT_STORAGE_KEY || storage.secretKey === DEVELOPMENT_STORAGE_KEY) {
      problems.push("S3_ACCESS_KEY, S3_SECRET_KEY: production refuses the development storage keys (set the storage's credentials)");
    }
    if (!storage.publicBaseUrlSet) {
      problems.push(
        "MEDIA_PUBLIC_BASE_URL: production needs the address phones fetch media from (e.g. https://media.example.com/douyin-media); the default only works on this machine",
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
}

/** `host:port,host:port` as ioredis takes it. */
function hostPorts(list: string): { host: string; port: number }[] {
  return list.split(",").map((node) => {
    const at = node.lastIndexOf(":");
    return { host: node.slice(0, at), port: Number(node.slice(at + 1)) };
  });
}
