// `npm run db:migrate [subgraph...]`: applies pending migrations to each subgraph's database
// (creating a PostgreSQL database that does not exist yet). Embedded PGlite databases are
// migrated by their own subgraph at start; migrating them here works only while the stack is
// stopped.
import { loadConfig } from "../platform/config";
import { openDatabase } from "../platform/database";
import { migrate } from "../platform/migrations";
import { SUBGRAPHS } from "../platform/registry";
import { hasDatabase } from "../framework/subgraph";
import { migrationsDir } from "../framework/subgraph-database";

async function main(): Promise<void> {
  const config = loadConfig();
  const only = process.argv.slice(2);
  let failed = false;
  for (const entry of SUBGRAPHS.filter(hasDatabase)) {
    if (only.length > 0 && !only.includes(entry.name)) continue;
    try {
      const database = await openDatabase(config.subgraphs[entry.name]!.database, { poolSize: 1, createIfMissing: true });
      try {
        const applied = await migrate(database, migrationsDir(entry));
        const what = applied.length > 0 ? `applied ${applied.join(", ")}` : "up to date";
        process.stdout.write(`${entry.name} (${database.description}): ${what}\n`);
      } finally {
        await database.close();
      }
    } catch (error) {
      failed = true;
      process.stderr.write(`${entry.name}: ${(error as Error).message}\n`);
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
