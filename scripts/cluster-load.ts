// A steady load on the legacy door, as many phones make it: reads (user info, the feed) and
// writes (like toggles, follow toggles, comments) in a few lanes at once, each request
// counted as answered (HTTP 200, status_code 0) or failed, every acknowledged write kept to be
// checked against the database afterwards. Used by the cluster tests (rolling restarts,
// crashes) and `npm run cluster:faults`, which reports their figures.
import { randomBytes } from "node:crypto";
import pg from "pg";

export interface LoadUser {
  userId: number;
  token: string;
}

export interface LoadFailure {
  at: number;
  what: string;
}

export interface LoadReport {
  requests: number;
  seconds: number;
  failures: LoadFailure[];
  /** Requests that failed may have been applied or not: their pairs are not checked. */
  uncertain: Set<string>;
  /** The last acknowledged state of each like and follow ("userId:videoId", "followerId:followeeId"). */
  likes: Map<string, boolean>;
  follows: Map<string, boolean>;
  /** Comments the service acknowledged, by id. */
  comments: number[];
  /** Latency of each answered request, ms. */
  latencies: number[];
}

/** A legacy answer: the envelope and what the route adds. */
type LegacyBody = { status_code: number; comment?: { id: number } } & Record<string, unknown>;

export interface RunningLoad {
  /** Requests sent and not answered yet. */
  inFlight(): number;
  /** Requests answered or failed so far. */
  done(): number;
  stop(): Promise<LoadReport>;
}

/** Registers `count` users through the door. */
export async function registerUsers(restUrl: string, count: number, prefix = "load"): Promise<LoadUser[]> {
  const tag = randomBytes(3).toString("hex");
  return Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const response = await fetch(`${restUrl}/douyin/user/register/`, {
        method: "POST",
        body: new URLSearchParams({ username: `${prefix}_${tag}_${index}`, password: "load-password-1" }),
      });
      const body = (await response.json()) as { status_code: number; status_msg: string; user_id: number; token: string };
      if (body.status_code !== 0) throw new Error(`registration failed: ${body.status_msg}`);
      return { userId: body.user_id, token: body.token };
    }),
  );
}

/** Videos written straight into the video database (the load is not about ffmpeg), newest first in the feed. */
export async function insertVideos(videoDatabaseUrl: string, authorId: number, count: number): Promise<number[]> {
  const base = 7_000_000_000_000 + Math.floor(Math.random() * 1e12);
  const ids = Array.from({ length: count }, (_, index) => base + index);
  const client = new pg.Client({ connectionString: videoDatabaseUrl });
  await client.connect();
  try {
    for (const id of ids) {
      await client.query(
        `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height, created_at)
         VALUES ($1, $2, 'load', $3, $4, 1000, 320, 240, now() - interval '1 second')`,
        [id, authorId, `videos/${id}.mp4`, `covers/${id}.jpg`],
      );
    }
  } finally {
    await client.end();
  }
  return ids;
}

export function steadyLoad(restUrl: string, users: LoadUser[], videoIds: number[], lanes: number): RunningLoad {
  const report: LoadReport = {
    requests: 0,
    seconds: 0,
    failures: [],
    uncertain: new Set(),
    likes: new Map(),
    follows: new Map(),
    comments: [],
    latencies: [],
  };
  let inFlight = 0;
  let stopping = false;
  const started = Date.now();

  /** One request; true when answered with status_code 0. */
  async function call(
    method: "GET" | "POST",
    route: string,
    params: Record<string, string | number>,
    pair?: string,
  ): Promise<LegacyBody | undefined> {
    const strings = Object.fromEntries(Object.entries(params).map(([key, value]) => [key, String(value)]));
    const url = method === "GET" ? `${restUrl}${route}?${new URLSearchParams(strings)}` : `${restUrl}${route}`;
    inFlight += 1;
    report.requests += 1;
    const sent = performance.now();
    try {
      const response = await fetch(url, { method, ...(method === "POST" && { body: new URLSearchParams(strings) }) });
      const text = await response.text();
      const body = response.status === 200 ? (JSON.parse(text) as LegacyBody) : undefined;
      if (!body || body.status_code !== 0) throw new Error(`HTTP ${response.status} ${text.slice(0, 120)}`);
      report.latencies.push(performance.now() - sent);
      return body;
    } catch (error) {
      report.failures.push({ at: Date.now(), what: `${method} ${route}: ${(error as Error).message}` });
      if (pair) report.uncertain.add(pair);
      return undefined;
    } finally {
      inFlight -= 1;
    }
  }

  async function lane(index: number): Promise<void> {
    const user = users[index % users.length]!;
    for (let round = 0; !stopping; round++) {
      const video = videoIds[(index + round) % videoIds.length]!;
      const other = users[(index + round + 1) % users.length]!;
      switch (round % 5) {
        case 0:
          await call("GET", "/douyin/user/", { user_id: other.userId, token: user.token });
          break;
        case 1:
          await call("GET", "/douyin/feed/", { token: user.token });
          break;
        case 2: {
          const key = `${user.userId}:${video}`;
          const liking = !(report.likes.get(key) ?? false);
          const answer = await call(
            "POST",
            "/douyin/favorite/action/",
            { token: user.token, video_id: video, action_type: liking ? 1 : 2 },
            key,
          );
          if (answer) report.likes.set(key, liking);
          break;
        }
        case 3: {
          if (other.userId === user.userId) break;
          const key = `${user.userId}:${other.userId}`;
          const following = !(report.follows.get(key) ?? false);
          const answer = await call(
            "POST",
            "/douyin/relation/action/",
            { token: user.token, to_user_id: other.userId, action_type: following ? 1 : 2 },
            `follow ${key}`,
          );
          if (answer) report.follows.set(key, following);
          break;
        }
        case 4: {
          const answer = await call("POST", "/douyin/comment/action/", {
            token: user.token,
            video_id: video,
            action_type: 1,
            comment_text: `load ${index}.${round}`,
          });
          if (answer?.comment) report.comments.push(answer.comment.id);
          break;
        }
      }
    }
  }

  const running = Promise.all(Array.from({ length: lanes }, (_, index) => lane(index)));
  return {
    inFlight: () => inFlight,
    done: () => report.requests - inFlight,
    stop: async () => {
      stopping = true;
      await running;
      report.seconds = (Date.now() - started) / 1000;
      return report;
    },
  };
}

/** The acknowledged writes the databases lack, described (empty when every one is there). */
export async function missingWrites(report: LoadReport, databases: { video: string; relation: string }): Promise<string[]> {
  const missing: string[] = [];
  const video = new pg.Client({ connectionString: databases.video });
  const relation = new pg.Client({ connectionString: databases.relation });
  await video.connect();
  await relation.connect();
  try {
    const comments = await video.query("SELECT id FROM comments WHERE id = ANY($1::bigint[])", [report.comments]);
    const found = new Set(comments.rows.map((row: { id: string }) => Number(row.id)));
    for (const id of report.comments) if (!found.has(id)) missing.push(`comment ${id}`);
    for (const [key, liked] of report.likes) {
      if (report.uncertain.has(key)) continue;
      const [userId, videoId] = key.split(":");
      const row = await video.query("SELECT 1 FROM likes WHERE user_id = $1 AND video_id = $2", [userId, videoId]);
      if ((row.rowCount === 1) !== liked) missing.push(`like ${key} should be ${liked ? "there" : "gone"}`);
    }
    for (const [key, following] of report.follows) {
      if (report.uncertain.has(`follow ${key}`)) continue;
      const [followerId, followeeId] = key.split(":");
      const row = await relation.query("SELECT 1 FROM follows WHERE follower_id = $1 AND followee_id = $2", [followerId, followeeId]);
      if ((row.rowCount === 1) !== following) missing.push(`follow ${key} should be ${following ? "there" : "gone"}`);
    }
  } finally {
    await video.end();
    await relation.end();
  }
  return missing;
}

/** Counters that differ from the rows they count (after the outboxes drained), described. */
export async function wrongCounters(databases: { video: string; relation: string }): Promise<string[]> {
  const wrong: string[] = [];
  const video = new pg.Client({ connectionString: databases.video });
  const relation = new pg.Client({ connectionString: databases.relation });
  await video.connect();
  await relation.connect();
  try {
    const videos = await video.query(`
      SELECT v.id, v.favorite_count, v.comment_count,
             (SELECT count(*) FROM likes l WHERE l.video_id = v.id) AS likes,
             (SELECT count(*) FROM comments c WHERE c.video_id = v.id AND NOT c.is_deleted) AS comments
      FROM videos v`);
    for (const row of videos.rows) {
      if (Number(row.favorite_count) !== Number(row.likes))
        wrong.push(`video ${row.id} favorite_count ${row.favorite_count}, ${row.likes} likes`);
      if (Number(row.comment_count) !== Number(row.comments))
        wrong.push(`video ${row.id} comment_count ${row.comment_count}, ${row.comments} comments`);
    }
    const users = await relation.query(`
      SELECT s.user_id, s.follow_count, s.follower_count,
             (SELECT count(*) FROM follows f WHERE f.follower_id = s.user_id) AS follows,
             (SELECT count(*) FROM follows f WHERE f.followee_id = s.user_id) AS followers
      FROM user_stats s`);
    for (const row of users.rows) {
      if (Number(row.follow_count) !== Number(row.follows))
        wrong.push(`user ${row.user_id} follow_count ${row.follow_count}, ${row.follows} follows`);
      if (Number(row.follower_count) !== Number(row.followers))
        wrong.push(`user ${row.user_id} follower_count ${row.follower_count}, ${row.followers} followers`);
    }
  } finally {
    await video.end();
    await relation.end();
  }
  return wrong;
}

/** Resolves once neither subgraph's counter outbox holds anything. */
export async function drained(databases: { video: string; relation: string }, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let pending = 0;
    for (const url of [databases.video, databases.relation]) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      pending += Number((await client.query("SELECT count(*) AS n FROM counter_outbox")).rows[0].n);
      await client.end();
    }
    if (pending === 0) return;
    if (Date.now() > deadline) throw new Error(`${pending} counter changes still pending after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** p-th percentile of `values`, ms. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
