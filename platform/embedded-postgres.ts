// The embedded PostgreSQL (PGlite) of `npm start` and the fast tests: ONE instance per data
// directory (or per in-memory name) holding one schema per subgraph, instead of one ~250 MB
// instance per subgraph. Each subgraph still owns and migrates only its own schema: its
// Prisma client names the schema in every statement, and its raw SQL runs with the schema as
// search_path. PGlite is a single connection; every use goes through one queue here, which
// switches search_path only when the next user is another subgraph.
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PGlite, type PGliteOptions, type Transaction } from "@electric-sql/pglite";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { SqlDriverAdapter, SqlDriverAdapterFactory } from "@prisma/driver-adapter-utils";

/**
 * Small buffers: a development database holds megabytes, and PGlite's defaults cost about
 * 130 MB of memory more per instance. Unless `synchronousCommit`, a commit is acknowledged
 * before its WAL reaches the disk: a crash of the process may lose its last fraction of a
 * second of writes (a stop loses nothing, and nothing is ever corrupted), for about 15% more
 * writes per second on the one thread everything shares.
 */
const postgresqlConf = (synchronousCommit: boolean) =>
  ["shared_buffers=32MB", "work_mem=4MB", "maintenance_work_mem=16MB", `synchronous_commit=${synchronousCommit ? "on" : "off"}`].join("\n");

/** The queries a scoped handle offers: PGlite's own signatures, as the Prisma adapter calls them. */
type Queryable = Pick<PGlite, "query" | "exec">;

export const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** Another live process has the embedded database open (a data directory has one owner). */
export class EmbeddedDatabaseBusyError extends Error {
  override name = "EmbeddedDatabaseBusyError";
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
};

/**
 * Claims a data directory for this process with a lock file beside it (`<dir>.lock`, holding
 * the owner's pid), so a second process (a tool run while the stack is up) is refused with a
 * clear message instead of corrupting the database. A lock left by a dead process is taken over.
 */
function claimDataDir(dataDir: string): () => void {
  const lock = `${dataDir}.lock`;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => {
        if (fs.readFileSync(lock, "utf8") === String(process.pid)) fs.rmSync(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const owner = Number(fs.readFileSync(lock, "utf8"));
      if (owner && owner !== process.pid && isAlive(owner)) {
        throw new EmbeddedDatabaseBusyError(
          `the embedded database in ${dataDir} is open in process ${owner} (a running stack?): stop it first`,
        );
      }
      fs.rmSync(lock, { force: true });
    }
  }
}

class SharedInstance {
  private tail: Promise<unknown> = Promise.resolve();
  private activeSchema: string | null = null;
  private readonly createdSchemas = new Set<string>();
  users = 0;

  constructor(
    readonly db: PGlite,
    readonly description: string,
    /** Gives up the data directory's lock, if it has one. */
    readonly release: () => void = () => undefined,
  ) {}

  /** Runs `work` alone on the connection, with `schema` as search_path. */
  run<T>(schema: string, work: (db: PGlite) => Promise<T>): Promise<T> {
    const turn = this.tail.then(async () => {
      if (!this.createdSchemas.has(schema)) {
        await this.db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
        this.createdSchemas.add(schema);
      }
      if (this.activeSchema !== schema) {
        await this.db.exec(`SET search_path TO ${quoteIdentifier(schema)}`);
        this.activeSchema = schema;
      }
      return work(this.db);
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  /** A handle for the Prisma adapter that behaves like the instance, scoped to one schema. */
  scoped(schema: string): PGlite {
    const handle: Queryable & Pick<PGlite, "transaction"> = {
      query: ((...args: Parameters<PGlite["query"]>) => this.run(schema, (db) => db.query(...args))) as PGlite["query"],
      exec: ((...args: Parameters<PGlite["exec"]>) => this.run(schema, (db) => db.exec(...args))) as PGlite["exec"],
      transaction: (<T>(callback: (tx: Transaction) => Promise<T>) =>
        this.run(schema, (db) => db.transaction(callback))) as PGlite["transaction"],
    };
    return handle as PGlite;
  }
}

const instances = new Map<string, Promise<SharedInstance>>();

/** An initialised, empty data directory as a tarball: new in-memory instances skip initdb (seconds, hundreds of MB). */
async function emptyClusterTemplate(): Promise<Blob> {
  // The package exports no package.json; its version sits one folder above its entry point.
  const manifest = path.join(path.dirname(require.resolve("@electric-sql/pglite")), "..", "package.json");
  const version = (JSON.parse(fs.readFileSync(manifest, "utf8")) as { version: string }).version;
  const file = path.join(os.tmpdir(), `douyin-pglite-${version}-empty.tar`);
  if (!fs.existsSync(file)) {
    const db = new PGlite();
    await db.waitReady; // dumping before the instance is ready never finishes
    const tarball = await db.dumpDataDir("none");
    await db.close();
    const partial = `${file}.${randomUUID()}`;
    fs.writeFileSync(partial, Buffer.from(await tarball.arrayBuffer()));
    fs.renameSync(partial, file); // atomic: a concurrent process reads a whole file or none
  }
  return new Blob([fs.readFileSync(file)]);
}

async function openInstance(
  key: string,
  location: { dataDir: string; synchronousCommit: boolean } | { memory: true },
): Promise<SharedInstance> {
  const options: PGliteOptions = { postgresqlconf: postgresqlConf("synchronousCommit" in location && location.synchronousCommit) };
  if (!("dataDir" in location)) {
    const db = new PGlite({ ...options, loadDataDir: await emptyClusterTemplate() });
    await db.waitReady;
    return new SharedInstance(db, `in-memory PGlite "${key}"`);
  }
  fs.mkdirSync(location.dataDir, { recursive: true });
  const release = claimDataDir(location.dataDir);
  try {
    const db = new PGlite(location.dataDir, options);
    await db.waitReady;
    return new SharedInstance(db, `embedded PGlite at ${location.dataDir}`, release);
  } catch (error) {
    release();
    throw error;
  }
}

export interface EmbeddedDatabase {
  readonly description: string;
  readonly adapter: SqlDriverAdapterFactory;
  run<T>(work: (db: PGlite) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Opens `schema` on the shared instance for `location` (a data directory, or an in-memory
 * name), starting the instance for its first user and closing it after its last.
 */
export async function openEmbeddedSchema(
  location: { dataDir: string; synchronousCommit: boolean } | { memory: string },
  schema: string,
): Promise<EmbeddedDatabase> {
  const key = "dataDir" in location ? path.resolve(location.dataDir) : `memory:${location.memory}`;
  let opening = instances.get(key);
  if (!opening) {
    opening = openInstance(key, "dataDir" in location ? { dataDir: key, synchronousCommit: location.synchronousCommit } : { memory: true });
    instances.set(key, opening);
    opening.catch(() => instances.delete(key));
  }
  const instance = await opening;
  instance.users += 1;
  const base = new PrismaPGlite(instance.scoped(schema));
  // Prisma names the schema from the adapter's connection info in every statement it writes.
  const adapter: SqlDriverAdapterFactory = {
    provider: "postgres",
    adapterName: base.adapterName,
    connect: async () => {
      const connection = (await base.connect()) as unknown as SqlDriverAdapter;
      connection.getConnectionInfo = () => ({ schemaName: schema, supportsRelationJoins: true });
      return connection;
    },
  } as unknown as SqlDriverAdapterFactory;
  let closed = false;
  return {
    description: `${instance.description}, schema ${schema}`,
    adapter,
    run: (work) => instance.run(schema, work),
    close: async () => {
      if (closed) return;
      closed = true;
      instance.users -= 1;
      if (instance.users > 0) return;
      instances.delete(key);
      await instance.db.close();
      instance.release();
    },
  };
}
