// `npm run reconcile`: recomputes every counter from the rows it counts and reports what it
// fixed (cached video rows expire within CACHE_TTL_SECONDS). Safe while the stack runs on PostgreSQL (each fix is one statement); with embedded
// databases, stop the stack first (a PGlite directory has one owner).
import { loadConfig } from "../common/config";
import { openDatabase } from "../common/database";
import { PrismaClient as RelationClient } from "../generated/prisma/relation/client";
import { PrismaClient as VideoClient } from "../generated/prisma/video/client";
import { reconcileFollowCounts } from "../subgraphs/relation/data";
import { reconcileInteractionCounts, reconcileWorkCounts } from "../subgraphs/video/data";

export interface ReconcileReport {
  workCount: number;
  videoCounts: number;
  likeCounts: number;
  followCounts: number;
}

/** Runs every reconciliation; each number is how many rows had a wrong counter. */
export async function reconcile(config = loadConfig()): Promise<ReconcileReport> {
  const videoDb = await openDatabase(config.databases.video, { poolSize: 1 });
  const relationDb = await openDatabase(config.databases.relation, { poolSize: 1 });
  const video = new VideoClient({ adapter: videoDb.adapter });
  const relation = new RelationClient({ adapter: relationDb.adapter });
  try {
    const workCount = await reconcileWorkCounts(video);
    const interactions = await reconcileInteractionCounts(video);
    return { workCount, videoCounts: interactions.videos, likeCounts: interactions.users, followCounts: await reconcileFollowCounts(relation) };
  } finally {
    await video.$disconnect();
    await relation.$disconnect();
    await videoDb.close();
    await relationDb.close();
  }
}

if (require.main === module) {
  reconcile().then(
    (report) => {
      for (const [counter, fixed] of Object.entries(report)) process.stdout.write(`${counter}: ${fixed === 0 ? "all exact" : `fixed ${fixed} row(s)`}\n`);
    },
    (error: Error) => {
      process.stderr.write(`reconcile failed: ${error.message}\n`);
      process.exit(1);
    },
  );
}
