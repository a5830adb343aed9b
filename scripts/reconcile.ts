// `npm run reconcile`: recomputes every counter of every subgraph from the rows it counts and
// reports what it fixed; running processes drop their cached counters (over the invalidation
// bus). Then each subgraph re-sends what others may have missed (every user's user-registered
// event, through the outbox, for the relation subgraph), relayed by the running stack. Safe while the stack runs on PostgreSQL (each subgraph's fix
// is one transaction, exact even while counter changes wait to be applied); with the embedded database, stop the stack
// first (it has one owner process).
import { loadConfig, type Config } from "../platform/config";
import { openDatabase } from "../platform/database";
import { createLogger } from "../platform/logger";
import { memoryPlatform, openPlatform } from "../server/runtime";
import { buildSubgraph, hasDatabase } from "../framework/subgraph";
import { KNOWN_SUBGRAPHS } from "../subgraphs";

/**
 * Runs every subgraph's reconciliation; each number is how many rows had a wrong counter.
 * `repaired` hears what each subgraph re-sent for the others.
 */
export async function reconcile(
  config: Config = loadConfig(),
  repaired: (what: string, count: number) => void = () => undefined,
): Promise<Record<string, number>> {
  const log = createLogger({ logLevel: "warn" }, "reconcile");
  // Redis carries the cache invalidations to running processes; without it, there are none to tell.
  const platform = await openPlatform(config, log, "reconcile").catch((error: Error) => {
    log.warn(`no Redis (${error.message}): running processes, if any, keep cached counters until they expire`);
    return memoryPlatform(config, log, "reconcile");
  });
  const report: Record<string, number> = {};
  try {
    for (const { entry, definition } of KNOWN_SUBGRAPHS.filter((known) => hasDatabase(known.entry))) {
      const database = await openDatabase(config.subgraphs[entry.name]!.database, { poolSize: 1 });
      try {
        const subgraph = await buildSubgraph(entry, definition, platform, database);
        try {
          Object.assign(report, await subgraph.reconcile());
          for (const [what, count] of Object.entries(await subgraph.repair())) repaired(what, count);
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
  reconcile(loadConfig(), (what, count) => process.stdout.write(`re-sent ${count} ${what} (relayed by the running stack)\n`)).then(
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
