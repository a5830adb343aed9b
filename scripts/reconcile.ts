// `npm run reconcile`: recomputes every counter of every subgraph from the rows it counts and
// reports what it fixed (cached video rows expire within CACHE_TTL_SECONDS). Safe while the
// stack runs on PostgreSQL (each fix is one statement); with embedded databases, stop the
// stack first (a PGlite directory has one owner).
import { loadConfig, type Config } from "../platform/config";
import { openDatabase } from "../platform/database";
import { createLogger } from "../platform/logger";
import { SUBGRAPHS } from "../platform/registry";
import { memoryPlatform } from "../platform/runtime";
import { buildSubgraph, hasDatabase, loadDefinition } from "../platform/subgraph";

/** Runs every subgraph's reconciliation; each number is how many rows had a wrong counter. */
export async function reconcile(config: Config = loadConfig()): Promise<Record<string, number>> {
  const log = createLogger({ logLevel: "warn" }, "reconcile");
  // Only SQL runs here: no queues, no cache.
  const platform = memoryPlatform(config, log, "reconcile");
  const report: Record<string, number> = {};
  try {
    for (const entry of SUBGRAPHS.filter(hasDatabase)) {
      const database = await openDatabase(config.subgraphs[entry.name]!.database, { poolSize: 1 });
      try {
        const subgraph = await buildSubgraph(entry, loadDefinition(entry), platform, database);
        try {
          Object.assign(report, await subgraph.reconcile());
        } finally {
          await subgraph.close();
        }
      } finally {
        await database.close();
      }
    }
  } finally {
    await platform.close();
  }
  return report;
}

if (require.main === module) {
  reconcile().then(
    (report) => {
      for (const [counter, fixed] of Object.entries(report))
        process.stdout.write(`${counter}: ${fixed === 0 ? "all exact" : `fixed ${fixed} row(s)`}\n`);
    },
    (error: Error) => {
      process.stderr.write(`reconcile failed: ${error.message}\n`);
      process.exit(1);
    },
  );
}
