// Read-your-writes across replicas. Two replicas of the co-located stack (this process's and a
// process of its own) share one PostgreSQL and one Redis and keep caches of their own; every
// round writes through one and reads at once through the other, alternating. A write answered
// by any replica must be seen by the next read on any other: follows, likes, comments, chat,
// logout and published videos (counters may trail and are checked once drained).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually, graphql, legacy, publishLegacy, readMetric, registerUser } from "./client";
import { makeVideo, removeMedia } from "./media";
import { dropCached, pendingCounterChanges, startReplica, startStack, withDatabase, type Replica, type Stack } from "./stack";

/** Write-here/read-there rounds per kind (the target: 0 stale answers in 1,000). */
const ROUNDS = Number(process.env.CONSISTENCY_ROUNDS ?? 1000);
/** Publishing runs ffmpeg on every round: fewer of them. */
const PUBLISH_ROUNDS = Number(process.env.CONSISTENCY_PUBLISH_ROUNDS ?? 20);
/** Rounds run in this many independent lanes at once (each lane its own users). */
const LANES = 8;

let stack: Stack;
let replica: Replica;
/** The two doors: this process's stack and the other replica. */
let doors: [{ restUrl: string; graphqlUrl: string }, { restUrl: string; graphqlUrl: string }];

before(async () => {
  stack = await startStack();
  replica = await startReplica(stack);
  doors = [stack, replica];
});
after(async () => {
  await replica?.stop();
  await stack?.close();
  removeMedia();
});

/** Where round `round` writes and where it reads: alternating between the two replicas. */
const sides = (round: number) => (round % 2 === 0 ? ([doors[0], doors[1]] as const) : ([doors[1], doors[0]] as const));

/** Runs `rounds` rounds over LANES lanes at once; returns the stale answers seen, with the first few described. */
async function rounds<Lane>(
  total: number,
  setUp: (lane: number) => Promise<Lane>,
  round: (lane: Lane, index: number, stale: (what: string) => void) => Promise<void>,
): Promise<string[]> {
  const stale: string[] = [];
  const lanes = Math.min(LANES, total);
  await Promise.all(
    Array.from({ length: lanes }, async (_, laneIndex) => {
      const lane = await setUp(laneIndex);
      for (let index = laneIndex; index < total; index += lanes) await round(lane, index, (what) => stale.push(`round ${index}: ${what}`));
    }),
  );
  return stale;
}

const ok = (answer: { body: { status_code: number }; text: string }) => assert.equal(answer.body.status_code, 0, answer.text);
const report = (stale: string[]) => `${stale.length} stale answers: ${stale.slice(0, 5).join("; ")}`;

/** A video written straight into the database, newest of all (the feed's first page shows it). */
async function seedVideo(authorId: number): Promise<number> {
  const id = 9_000_000_000_000 + Math.floor(Math.random() * 1e12);
  await withDatabase(stack, "video", (client) =>
    client.query(
      `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height, created_at)
       VALUES ($1, $2, 'seeded', $3, $4, 1000, 320, 240, now() - interval '1 second')`,
      [id, authorId, `videos/${id}.mp4`, `covers/${id}.jpg`],
    ),
  );
  // Rows written behind the stack's back: every replica forgets its newest videos.
  await dropCached(stack, "video:newest-videos", ["newest"]);
  return id;
}

describe("read-your-writes across two replicas", () => {
  it("follows: is_follow and the follow list, at once on the other replica", async () => {
    const stale = await rounds(
      ROUNDS,
      async () => ({ follower: await registerUser(doors[0], "rf"), followee: await registerUser(doors[0], "rt") }),
      async ({ follower, followee }, index, seen) => {
        const [writer, reader] = sides(index);
        const following = Math.floor(index / LANES) % 2 === 0;
        ok(
          await legacy(
            writer,
            "/douyin/relation/action/",
            { token: follower.token, to_user_id: followee.userId, action_type: following ? 1 : 2 },
            { method: "POST", body: "form" },
          ),
        );
        const info = await legacy(reader, "/douyin/user/", { user_id: followee.userId, token: follower.token });
        if (info.body.user?.is_follow !== following) seen(`is_follow ${info.body.user?.is_follow}, wanted ${following}`);
        const list = await legacy(reader, "/douyin/relation/follow/list/", { user_id: follower.userId, token: follower.token });
        const listed = (list.body.user_list as { id: number }[]).some((user) => user.id === followee.userId);
        if (listed !== following) seen(`follow list ${listed ? "has" : "lacks"} the followee`);
      },
    );
    assert.equal(stale.length, 0, report(stale));
  });

  it("likes: is_favorite in the feed and the favorite list, at once on the other replica", async () => {
    const stale = await rounds(
      ROUNDS,
      async () => {
        const user = await registerUser(doors[0], "rl");
        return { user, videoId: await seedVideo(user.userId) };
      },
      async ({ user, videoId }, index, seen) => {
        const [writer, reader] = sides(index);
        const liking = Math.floor(index / LANES) % 2 === 0;
        ok(
          await legacy(
            writer,
            "/douyin/favorite/action/",
            { token: user.token, video_id: videoId, action_type: liking ? 1 : 2 },
            { method: "POST", body: "form" },
          ),
        );
        const feed = await legacy(reader, "/douyin/feed/", { token: user.token });
        const inFeed = (feed.body.video_list as { id: number; is_favorite: boolean }[]).find((video) => video.id === videoId);
        if (inFeed?.is_favorite !== liking) seen(`feed is_favorite ${inFeed?.is_favorite}, wanted ${liking}`);
        const list = await legacy(reader, "/douyin/favorite/list/", { user_id: user.userId, token: user.token });
        const listed = (list.body.video_list as { id: number }[]).some((video) => video.id === videoId);
        if (listed !== liking) seen(`favorite list ${listed ? "has" : "lacks"} the video`);
      },
    );
    assert.equal(stale.length, 0, report(stale));
  });

  it("comments: a comment posted or deleted, at once in the other replica's list", async () => {
    const stale = await rounds(
      ROUNDS,
      async () => {
        const user = await registerUser(doors[0], "rc");
        return { user, videoId: await seedVideo(user.userId), commentId: 0 };
      },
      async (lane, index, seen) => {
        const [writer, reader] = sides(index);
        const posting = lane.commentId === 0;
        const answer = await legacy(
          writer,
          "/douyin/comment/action/",
          posting
            ? { token: lane.user.token, video_id: lane.videoId, action_type: 1, comment_text: `round ${index}` }
            : { token: lane.user.token, video_id: lane.videoId, action_type: 2, comment_id: lane.commentId },
          { method: "POST", body: "form" },
        );
        ok(answer);
        const commentId = posting ? (answer.body.comment.id as number) : lane.commentId;
        lane.commentId = posting ? commentId : 0;
        const list = await legacy(reader, "/douyin/comment/list/", { video_id: lane.videoId, token: lane.user.token });
        const listed = (list.body.comment_list as { id: number }[]).some((comment) => comment.id === commentId);
        if (listed !== posting) seen(`comment list ${listed ? "has" : "lacks"} comment ${commentId}`);
      },
    );
    assert.equal(stale.length, 0, report(stale));
  });

  it("chat: a message sent, at once in the other replica's poll", async () => {
    const stale = await rounds(
      ROUNDS,
      async () => ({ from: await registerUser(doors[0], "rm"), to: await registerUser(doors[0], "rn"), seenUpTo: 0 }),
      async (lane, index, seen) => {
        const [writer, reader] = sides(index);
        const content = `message ${index}`;
        ok(
          await legacy(
            writer,
            "/douyin/message/action/",
            { token: lane.from.token, to_user_id: lane.to.userId, action_type: 1, content },
            { method: "POST", body: "form" },
          ),
        );
        const poll = await legacy(reader, "/douyin/message/chat/", {
          token: lane.to.token,
          to_user_id: lane.from.userId,
          pre_msg_time: lane.seenUpTo,
        });
        const messages = poll.body.message_list as { content: string; create_time: number }[];
        if (!messages.some((message) => message.content === content)) seen(`the poll lacks "${content}"`);
        lane.seenUpTo = Math.max(lane.seenUpTo, ...messages.map((message) => message.create_time));
      },
    );
    assert.equal(stale.length, 0, report(stale));
  });

  it("logout: a session ended on one replica is refused at once by the other", async () => {
    const stale = await rounds(
      ROUNDS,
      async () => {
        const user = await registerUser(doors[0], "ro");
        return user;
      },
      async (user, index, seen) => {
        const [writer, reader] = sides(index);
        const login = await graphql<{ login: { token: string } }>(
          writer.graphqlUrl,
          `
            mutation ($name: String!) {
              login(username: $name, password: "pa55word") {
                token
              }
            }
          `,
          { name: (await legacy(writer, "/douyin/user/", { user_id: user.userId })).body.user.name },
        );
        const token = login.data!.login.token;
        const signedIn = await legacy(reader, "/douyin/user/", { token });
        if (signedIn.body.status_code !== 0) seen(`a fresh session refused: ${signedIn.text}`);
        const logout = await graphql(
          writer.graphqlUrl,
          `
            mutation {
              logout
            }
          `,
          {},
          { token },
        );
        assert.equal(logout.errors, undefined, JSON.stringify(logout.errors));
        const after = await legacy(reader, "/douyin/user/", { token });
        if (after.body.status_code === 0) seen("an ended session still answered");
      },
    );
    assert.equal(stale.length, 0, report(stale));
  });

  it("publishing: a published video, at once in the other replica's publish list and feed", async () => {
    const stale = await rounds(
      PUBLISH_ROUNDS,
      async (lane) => ({ user: await registerUser(doors[0], `rp${lane}`) }),
      async ({ user }, index, seen) => {
        const [writer, reader] = sides(index);
        // A file of its own each round: the same bytes again would be the same publish.
        const file = makeVideo(`replica-${index}.mp4`, { seconds: 1, width: 64 + 2 * index, height: 48 });
        const title = `replica round ${index}`;
        const published = await publishLegacy(writer, user.token, file, title);
        assert.equal(published.body.status_code, 0, JSON.stringify(published.body));
        const list = await legacy(reader, "/douyin/publish/list/", { user_id: user.userId, token: user.token });
        if (!(list.body.video_list as { title: string }[]).some((video) => video.title === title))
          seen(`the publish list lacks "${title}"`);
        const feed = await legacy(reader, "/douyin/feed/", { token: user.token });
        if (!(feed.body.video_list as { title: string }[]).some((video) => video.title === title)) seen(`the feed lacks "${title}"`);
      },
    );
    assert.equal(stale.length, 0, report(stale));
  });

  it("counters, once drained, are exact on both replicas", async () => {
    // Drainers run in both replicas; a change counts as applied once every process dropped what it made stale.
    const applied = async () =>
      (await readMetric(stack.metricsUrl("stack"), "counter_changes_applied_total", { subgraph: "relation" })) +
      (await readMetric(replica.metricsUrl, "counter_changes_applied_total", { subgraph: "relation" }));
    // What the earlier tests wrote is drained first, so each round below waits for its own change.
    await eventually(async () => (await pendingCounterChanges(stack, "relation")) === 0, "earlier changes to drain");
    let last = -1;
    await eventually(async () => last === (last = await applied()), "the applied count to settle");
    const follower = await registerUser(doors[0], "rk");
    const followees = await Promise.all(Array.from({ length: 6 }, () => registerUser(doors[1], "rk")));
    for (let round = 0; round < followees.length; round++) {
      const before = await applied();
      const [writer, reader] = sides(round);
      ok(
        await legacy(
          writer,
          "/douyin/relation/action/",
          { token: follower.token, to_user_id: followees[round]!.userId, action_type: 1 },
          { method: "POST", body: "form" },
        ),
      );
      // One outbox row per follow: drained once it is counted as applied.
      await eventually(async () => (await applied()) >= before + 1, "the follow's counter changes to be applied");
      const info = await legacy(reader, "/douyin/user/", { user_id: follower.userId });
      assert.equal(info.body.user.follow_count, round + 1, `follow_count on the other replica right after the drain (round ${round})`);
      const followee = await legacy(reader, "/douyin/user/", { user_id: followees[round]!.userId });
      assert.equal(followee.body.user.follower_count, 1, `follower_count on the other replica right after the drain (round ${round})`);
    }
  });
});
