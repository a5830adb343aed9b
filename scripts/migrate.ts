// `npm run db:migrate`: applies pending migrations to each subgraph's database (creating a
// PostgreSQL database that does not exist yet). Embedded PGlite databases are migrated by their
// own subgraph at start; migrating them here works only while the stack is stopped.
import { loadConfig, SUBGRAPH_NAMES } from "../common/config";
import { openDatabase } from "../common/database";
import { migrate } from "../common/migrations";
import { migrationsDir } from "../common/subgraph-database";

async function main(): Promise<void> {
  const config = loadConfig();
  const only = process.argv.slice(2);
  let failed = false;
  for (const subgraph of SUBGRAPH_NAMES) {
    if (only.length > 0 && !only.includes(subgraph)) continue;
    const spec = config.databases[subgraph];
    try {
      const database = await openDatabase(spec, { poolSize: 1, createIfMissing: true });
      try {
        const applied = await migrate(database, migrationsDir(subgraph));
        const what = applied.length > 0 ? `applied ${applied.join(", ")}` : "up to date";
        process.stdout.write(`${subgraph} (${database.description}): ${what}\n`);
      } finally {
        await database.close();
      }
    } catch (error) {
      failed = true;
      process.stderr.write(`${subgraph}: ${(error as Error).message}\n`);
    }
  }
  process.exit(failed ? 1 : 0);
}

void main();
