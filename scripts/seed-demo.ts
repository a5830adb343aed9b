// `npm run seed:demo`: a realistic data set for trying the app and for `npm run bench`:
// 10,000 users, 2,000 videos (three small real clips, reused), 200,000 likes, 50,000 follows
// (a tenth of them mutual), 50,000 comments and 20,000 messages. It goes through each
// subgraph's store in bulk (the same tables, no counter events), then recomputes every counter
// from the rows (the same reconciliation as `npm run reconcile`), so counters are exact.
// Deterministic: ids, names and times come from fixed seeds, so running it twice adds nothing.
// The embedded database has one owner: seed it while the stack is stopped; with PostgreSQL it
// runs beside a running stack. SEED_SCALE (default 1) scales every count.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import argon2 from "argon2";
import { MultiBar, Presets } from "cli-progress";
import { loadConfig, type Config } from "../platform/config";
import { openDatabase, type Database } from "../platform/database";
import { createLogger } from "../platform/logger";
import { migrate } from "../platform/migrations";
import { EmbeddedDatabaseBusyError } from "../platform/embedded-postgres";
import { EVERYTHING } from "../platform/local-cache";
import { connectRedis } from "../platform/redis";
import { subgraphEntry } from "../platform/registry";
import { migrationsDir } from "../framework/subgraph-database";
import { coverKey, MediaStorage, videoKey } from "../media/storage";
import { startStorageServer } from "../media/storage-server";
import { PrismaClient as RelationClient } from "../generated/prisma/relation/client";
import { PrismaClient as UserClient } from "../generated/prisma/user/client";
import { PrismaClient as VideoClient } from "../generated/prisma/video/client";
import { reconcile } from "./reconcile";
import { resolveMediaTool } from "../media/tools";
import { DemoTables } from "./seed-tables";

const scale = Number(process.env.SEED_SCALE ?? 1);
const COUNTS = {
  users: Math.round(10_000 * scale),
  videos: Math.round(2_000 * scale),
  likes: Math.round(200_000 * scale),
  follows: Math.round(50_000 * scale),
  comments: Math.round(50_000 * scale),
  messages: Math.round(20_000 * scale),
};
const CLIPS = 3;
const BATCH = 2_000;
/** Every demo user's password: documented in scripts/README.md, never a real account. */
export const DEMO_PASSWORD = "demo-password";
/** Demo ids live in a range no generated id will reach again (milliseconds of early January 2024). */
const IDS = { user: 1_000_000_000_000, video: 2_000_000_000_000, comment: 3_000_000_000_000, message: 4_000_000_000_000 };
/** Demo times end here and go back 30 days: fixed, so a second run writes the same rows. */
const ANCHOR_MS = Date.UTC(2026, 10, 20);
const DAY_MS = 24 * 3600 * 1000;

export const demoUserId = (index: number) => IDS.user + index + 1;
export const demoUsername = (index: number) => `demo_${String(index + 1).padStart(5, "0")}`;
export const demoVideoId = (index: number) => IDS.video + index + 1;

/** A small deterministic PRNG (mulberry32): the same data on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An index in [0, n) skewed towards 0, as popularity is (a few videos get most likes). */
const skewed = (next: () => number, n: number) => Math.min(n - 1, Math.floor(n * next() ** 2.2));

function* chunks<T>(items: T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** Unique pairs drawn until there are `count` of them. */
function uniquePairs(count: number, draw: () => [number, number]): [number, number][] {
  const seen = new Set<string>();
  const pairs: [number, number][] = [];
  while (pairs.length < count) {
    const [a, b] = draw();
    const key = `${a}:${b}`;
    if (a === b || seen.has(key)) continue;
    seen.add(key);
    pairs.push([a, b]);
  }
  return pairs;
}

const WORDS = [
  "nice",
  "love",
  "this",
  "clip",
  "so",
  "good",
  "wow",
  "again",
  "funny",
  "cute",
  "great",
  "music",
  "dance",
  "cat",
  "city",
  "sunset",
];
const sentence = (next: () => number, words: number) =>
  Array.from({ length: words }, () => WORDS[Math.floor(next() * WORDS.length)]).join(" ");

async function openStoreDatabase(config: Config, name: string): Promise<Database> {
  const database = await openDatabase(config.subgraphs[name]!.database, { poolSize: 4, createIfMissing: true });
  await migrate(database, migrationsDir(subgraphEntry(name)));
  return database;
}

/** Three short real clips and their covers, uploaded once; every demo video points at one. */
async function uploadClips(config: Config): Promise<void> {
  const ffmpeg = resolveMediaTool("ffmpeg", config.media).path;
  const storage = new MediaStorage(config);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "demo-clips-"));
  try {
    for (let clip = 0; clip < CLIPS; clip++) {
      const key = videoKey(`demo-${clip}`);
      if (await storage.exists(key).catch(() => false)) continue;
      const video = path.join(dir, `clip-${clip}.mp4`);
      const cover = path.join(dir, `cover-${clip}.jpg`);
      const pattern = ["testsrc", "smptebars", "rgbtestsrc"][clip]!;
      execFileSync(ffmpeg, [
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        `${pattern}=duration=3:size=360x640:rate=24`,
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        video,
      ]);
      execFileSync(ffmpeg, ["-loglevel", "error", "-y", "-i", video, "-frames:v", "1", "-q:v", "4", cover]);
      await storage.putFile(key, video, "video/mp4");
      await storage.putFile(coverKey(`demo-${clip}`), cover, "image/jpeg");
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Tells running processes (if any) to forget what they cached: seeded rows bypassed the writers that invalidate. */
async function dropCaches(config: Config): Promise<void> {
  const redis = await connectRedis(config, { name: "seed-demo" });
  try {
    await redis.publish(`${config.redis.prefix}:cache-invalidation`, JSON.stringify({ origin: "seed-demo", cache: EVERYTHING, keys: [] }));
  } finally {
    await redis.quit();
  }
}

/** How a seeding tells its progress: a counter per table, and a closing summary. */
export interface SeedProgress {
  table(what: string, total: number): { increment(count: number): void };
  done(summary: string): void;
}

/** Progress for a terminal (a bar per table) or a log (a line per table). */
function consoleProgress(): SeedProgress & { stop(): void } {
  const bars = process.stderr.isTTY
    ? new MultiBar(
        { format: " {bar} {percentage}% | {what} {value}/{total}", hideCursor: true, clearOnComplete: false },
        Presets.shades_classic,
      )
    : undefined;
  return {
    table: (what, total) => {
      if (bars) return bars.create(total, 0, { what: what.padEnd(9) });
      let done = 0;
      return { increment: (count: number) => void ((done += count) === total && process.stderr.write(`seeded ${what}: ${total}\n`)) };
    },
    done: (summary) => {
      bars?.stop();
      process.stdout.write(`\n${summary}\n`);
    },
    stop: () => bars?.stop(),
  };
}

export async function seedDemo(config: Config, report: SeedProgress): Promise<Record<string, number>> {
  const log = createLogger({ logLevel: "warn" }, "seed-demo");
  const started = Date.now();
  const progress = (what: string, total: number) => report.table(what, total);
  const inserted: Record<string, number> = {};

  // Media first: with the embedded storage and no stack running, serve it for the upload.
  let storageServer: { close(): Promise<void> } | undefined;
  if (
    config.storage.embedded &&
    !(await fetch(config.storage.endpoint).then(
      () => true,
      () => false,
    ))
  ) {
    storageServer = await startStorageServer(config, log);
  }
  try {
    await uploadClips(config);
  } finally {
    await storageServer?.close();
  }

  const [userDb, videoDb, relationDb] = await Promise.all(["user", "video", "relation"].map((name) => openStoreDatabase(config, name)));
  const userClient = new UserClient({ adapter: userDb!.adapter });
  const videoClient = new VideoClient({ adapter: videoDb!.adapter });
  const relationClient = new RelationClient({ adapter: relationDb!.adapter });
  const tables = new DemoTables(userClient, videoClient, relationClient);
  try {
    const next = random(20261126);
    const timeIn = (fromMs: number, toMs: number) => new Date(Math.floor(fromMs + next() * (toMs - fromMs)));
    const start = ANCHOR_MS - 30 * DAY_MS;

    // One hash for every demo user: argon2 at full cost 10,000 times would take minutes.
    const passwordHash = await argon2.hash(DEMO_PASSWORD, { type: argon2.argon2id, ...config.auth.argon2 });
    const userBar = progress("users", COUNTS.users);
    inserted.users = 0;
    const userIds = Array.from({ length: COUNTS.users }, (_, i) => demoUserId(i));
    for (const batch of chunks(userIds, BATCH)) {
      inserted.users += await tables.insertUsers(batch.map((id) => ({ id, username: demoUsername(id - IDS.user - 1), passwordHash })));
      // The relation subgraph learns of them as it would from their user-registered events.
      await tables.rememberUsers(batch);
      userBar.increment(batch.length);
    }

    const videoBar = progress("videos", COUNTS.videos);
    const demoVideos = Array.from({ length: COUNTS.videos }, (_, i) => {
      const clip = i % CLIPS;
      // Index 0 is the newest video; skewed() favours low indexes, so new videos are the popular ones.
      return {
        id: demoVideoId(i),
        authorId: userIds[Math.floor(next() * userIds.length)]!,
        title: sentence(next, 3 + Math.floor(next() * 4)),
        playKey: videoKey(`demo-${clip}`),
        coverKey: coverKey(`demo-${clip}`),
        durationMs: 3000,
        width: 360,
        height: 640,
        createdAt: new Date(ANCHOR_MS - i * Math.floor((30 * DAY_MS) / COUNTS.videos)),
      };
    });
    inserted.videos = 0;
    for (const batch of chunks(demoVideos, BATCH)) {
      inserted.videos += await tables.insertVideos(batch);
      videoBar.increment(batch.length);
    }

    const likeBar = progress("likes", COUNTS.likes);
    const likes = uniquePairs(COUNTS.likes, () => [Math.floor(next() * COUNTS.users), skewed(next, COUNTS.videos)]);
    inserted.likes = 0;
    for (const batch of chunks(likes, BATCH)) {
      inserted.likes += await tables.insertLikes(
        batch.map(([user, video]) => ({ userId: userIds[user]!, videoId: demoVideoId(video), createdAt: timeIn(start, ANCHOR_MS) })),
      );
      likeBar.increment(batch.length);
    }

    const followBar = progress("follows", COUNTS.follows);
    // A tenth of the follows are returned (friends, who can chat); the rest are one way.
    const mutualPairs = uniquePairs(Math.round(COUNTS.follows * 0.05), () => [
      Math.floor(next() * COUNTS.users),
      Math.floor(next() * COUNTS.users),
    ]);
    const followKeys = new Set(mutualPairs.flatMap(([a, b]) => [`${a}:${b}`, `${b}:${a}`]));
    const follows: [number, number][] = mutualPairs.flatMap(
      ([a, b]) =>
        [
          [a, b],
          [b, a],
        ] as [number, number][],
    );
    while (follows.length < COUNTS.follows) {
      const [a, b] = [Math.floor(next() * COUNTS.users), skewed(next, COUNTS.users)];
      if (a === b || followKeys.has(`${a}:${b}`)) continue;
      followKeys.add(`${a}:${b}`);
      follows.push([a, b]);
    }
    inserted.follows = 0;
    for (const batch of chunks(follows, BATCH)) {
      inserted.follows += await tables.insertFollows(
        batch.map(([a, b]) => ({ followerId: userIds[a]!, followeeId: userIds[b]!, createdAt: timeIn(start, ANCHOR_MS) })),
      );
      followBar.increment(batch.length);
    }

    const commentBar = progress("comments", COUNTS.comments);
    const comments = Array.from({ length: COUNTS.comments }, (_, i) => {
      const video = demoVideos[skewed(next, COUNTS.videos)]!;
      return {
        id: IDS.comment + i + 1,
        videoId: video.id,
        userId: userIds[Math.floor(next() * userIds.length)]!,
        content: sentence(next, 2 + Math.floor(next() * 8)),
        createdAt: timeIn(video.createdAt.getTime(), ANCHOR_MS + DAY_MS),
      };
    });
    inserted.comments = 0;
    for (const batch of chunks(comments, BATCH)) {
      inserted.comments += await tables.insertComments(batch);
      commentBar.increment(batch.length);
    }

    const messageBar = progress("messages", COUNTS.messages);
    // Conversations between friends, ten messages each, times strictly increasing within one.
    const messages = Array.from({ length: COUNTS.messages }, (_, i) => {
      const [a, b] = mutualPairs[Math.floor(i / 10) % mutualPairs.length]!;
      const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
      return {
        id: IDS.message + i + 1,
        fromUserId: userIds[from]!,
        toUserId: userIds[to]!,
        content: sentence(next, 3 + (i % 6)),
        createdAt: new Date(start + i * 60_000),
      };
    });
    inserted.messages = 0;
    for (const batch of chunks(messages, BATCH)) {
      inserted.messages += await tables.insertMessages(batch);
      messageBar.increment(batch.length);
    }
  } finally {
    await Promise.all([userClient.$disconnect(), videoClient.$disconnect(), relationClient.$disconnect()]);
    await Promise.all([userDb!.close(), videoDb!.close(), relationDb!.close()]);
  }

  const fixed = await reconcile(config);
  await dropCaches(config);
  report.done(
    `seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: ` +
      Object.entries(inserted)
        .map(([what, count]) => `${count} ${what}`)
        .join(", ") +
      ` new; counters recomputed (${Object.values(fixed).reduce((a, b) => a + b, 0)} rows set); caches dropped\n` +
      `log in as demo_00001 … demo_${String(COUNTS.users).padStart(5, "0")} with the password "${DEMO_PASSWORD}"`,
  );
  return inserted;
}

if (require.main === module) {
  const config = loadConfig();
  const progress = consoleProgress();
  seedDemo(config, progress).catch((error: Error) => {
    progress.stop();
    // The embedded database has one owner process: a running `npm start` holds it.
    const hint =
      error instanceof EmbeddedDatabaseBusyError
        ? "\nthe embedded database is open in a running stack: stop it (Ctrl-C), seed, then start it again — or run the stack on PostgreSQL (docs/production.md), which may be seeded while it runs"
        : "";
    process.stderr.write(`seed:demo failed: ${error.message}${hint}\n`);
    process.exit(1);
  });
}
