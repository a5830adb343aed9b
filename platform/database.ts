// Opens a subgraph's database: a pg pool on a real PostgreSQL (a database of its own), or its
// schema in the embedded PGlite instance (the `npm start` default; in memory for the fast
// tests). Both give a Prisma driver adapter and a raw SQL session for the migration runner.
import pg from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import type { SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";
import type { DatabaseConfig } from "./config";
import { openEmbeddedSchema } from "./embedded-postgres";

export interface SqlSession {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a script of several statements (no parameters). */
  exec(sql: string): Promise<void>;
}

export interface Database {
  readonly description: string;
  readonly adapter: SqlDriverAdapterFactory;
  /** Runs `work` on one connection (what advisory locks and transactions need). */
  withSession<T>(work: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

const UNDEFINED_DATABASE = "3D000";

export interface DatabaseOptions {
  poolSize: number;
  createIfMissing?: boolean;
  /** Statements running longer are cancelled by PostgreSQL (none when unset: tools, migrations). */
  statementTimeoutMs?: number;
  /** Longest wait for a connection, new or from the pool (unset: wait as long as it takes). */
  connectTimeoutMs?: number;
}

export async function openDatabase(spec: DatabaseConfig, options: DatabaseOptions): Promise<Database> {
  if (spec.kind === "postgres") return openPostgres(spec.url, options);
  return openEmbedded(
    spec.kind === "embedded" ? { dataDir: spec.dataDir, synchronousCommit: spec.synchronousCommit } : { memory: spec.instance },
    spec.schema,
  );
}

async function openPostgres(url: string, options: DatabaseOptions): Promise<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize,
    ...(options.statementTimeoutMs !== undefined && { statement_timeout: options.statementTimeoutMs }),
    ...(options.connectTimeoutMs !== undefined && { connectionTimeoutMillis: options.connectTimeoutMs }),
  });
  // An idle client losing its connection emits on the pool; without a listener that is a crash.
  pool.on("error", () => undefined);
  try {
    (await pool.connect()).release();
  } catch (error) {
    if ((error as { code?: string }).code !== UNDEFINED_DATABASE || !options.createIfMissing) throw error;
    await createDatabase(url);
  }
  return {
    description: describeUrl(url),
    adapter: new PrismaPg(pool),
    async withSession(work) {
      const client = await pool.connect();
      try {
        return await work({
          query: async (sql, params) => (await client.query(sql, params)).rows,
          exec: async (sql) => void (await client.query(sql)),
        });
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function createDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(url);
  maintenance.pathname = "/postgres";
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } catch (error) {
    // Another process created it between our check and now: that is what we wanted. Created
    // before our statement began it is 42P04 (duplicate_database); at the same instant (pods
    // of one rollout starting together), a unique violation on the catalogue (23505).
    const code = (error as { code?: string }).code;
    if (code !== "42P04" && code !== "23505") throw error;
  } finally {
    await client.end();
  }
}

async function openEmbedded(
  location: { dataDir: string; synchronousCommit: boolean } | { memory: string },
  schema: string,
): Promise<Database> {
  const embedded = await openEmbeddedSchema(location, schema);
  return {
    description: embedded.description,
    adapter: embedded.adapter,
    // The instance is one connection: a session has it alone (a migration's transaction is never interleaved).
    withSession: (work) =>
      embedded.run((db) =>
        work({
          query: async (sql, params) => (await db.query(sql, params)).rows as never,
          exec: async (sql) => void (await db.exec(sql)),
        }),
      ),
    close: () => embedded.close(),
  };
}

export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return "(unparseable database URL)";
  }
}

/**
 * True when a Prisma call failed on a unique constraint. Prisma reports it as P2002 through
 * @prisma/adapter-pg; the PGlite adapter, built for an older adapter interface, passes the raw
 * PostgreSQL code (23505) through instead.
 */
export function isUniqueViolation(error: unknown): boolean {
  const candidate = error as { code?: string; cause?: { kind?: string; code?: string; originalCode?: string } } | null;
  const cause = candidate?.cause;
  return (
    candidate?.code === "P2002" ||
    cause?.kind === "UniqueConstraintViolation" ||
    (cause?.kind === "postgres" && cause.code === "23505") ||
    cause?.originalCode === "23505"
  );
}
