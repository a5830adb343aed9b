// Opens a subgraph's own database, applying its pending migrations first when this process
// owns them (always for an embedded database, on request for PostgreSQL).
import path from "node:path";
import { projectRoot, type Config, type SubgraphName } from "./config";
import { openDatabase, type Database } from "./database";
import type { Logger } from "./logger";
import { migrate } from "./migrations";

export function migrationsDir(subgraph: SubgraphName): string {
  return path.join(projectRoot, "prisma", subgraph, "migrations");
}

export async function openSubgraphDatabase(config: Config, subgraph: SubgraphName, log: Logger): Promise<Database> {
  const spec = config.databases[subgraph];
  const shouldMigrate = config.migrateOnStart ?? spec.kind === "embedded";
  const started = Date.now();
  const database = await openDatabase(spec, { poolSize: config.databasePoolSize, createIfMissing: shouldMigrate });
  try {
    if (shouldMigrate) {
      const applied = await migrate(database, migrationsDir(subgraph));
      if (applied.length > 0) log.info({ applied }, `applied ${applied.length} migration(s) to the ${subgraph} database`);
    }
  } catch (error) {
    await database.close();
    throw error;
  }
  log.info({ database: database.description, ms: Date.now() - started }, `${subgraph} database ready`);
  return database;
}
