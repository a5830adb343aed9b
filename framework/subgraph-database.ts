// Opens a subgraph's own database, applying its pending migrations first when this process
// owns them (always for an embedded database, on request for PostgreSQL).
import path from "node:path";
import type { Config } from "../platform/config";
import { openDatabase, type Database } from "../platform/database";
import type { Logger } from "../platform/logger";
import { migrate } from "../platform/migrations";
import type { SubgraphEntry } from "../platform/registry";

export function migrationsDir(entry: SubgraphEntry): string {
  return path.join(entry.prismaFolder, "migrations");
}

export async function openSubgraphDatabase(config: Config, entry: SubgraphEntry, log: Logger): Promise<Database> {
  const spec = config.subgraphs[entry.name]!.database;
  const shouldMigrate = config.migrateOnStart ?? spec.kind === "embedded";
  const started = Date.now();
  const database = await openDatabase(spec, {
    poolSize: config.databasePoolSize,
    createIfMissing: shouldMigrate,
    statementTimeoutMs: config.database.statementTimeoutMs,
    connectTimeoutMs: config.database.connectTimeoutMs,
  });
  try {
    if (shouldMigrate) {
      const applied = await migrate(database, migrationsDir(entry));
      if (applied.length > 0) log.info({ applied }, `applied ${applied.length} migration(s) to the ${entry.name} database`);
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  log.info({ database: database.description, ms: Date.now() - started }, `${entry.name} database ready`);
  return database;
}
