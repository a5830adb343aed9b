// Likes and comments through both front doors: idempotent actions, exact asynchronous
// counters (a storm, a redelivered event, reconciliation), caches that never change an answer.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import pg from "pg";
import { reconcile } from "../scripts/reconcile";
import { eventually, graphql, legacy, uniqueName } from "./client";
import { blockCounters, dropCached, pendingCounterChanges, startStack, withDatabase, type Stack } from "./stack";

let stack: Stack;
let nextVideoId = 2_000_000;

before(async () => {
  stack = await startStack({ COMMENT_TIME_ZONE: "Asia/Shanghai" });
});
after(async () => {
  await stack?.close();
});

async function register() {
  const answer = await legacy(stack, "/douyin/user/register/", { username: uniqueName("i"), password: "pw" }, { method: "POST" });
  assert.equal(answer.body.status_code, 0, answer.text);
  return { userId: answer.body.user_id as number, token: answer.body.token as string };
}

const videoDatabase = <T>(work: (client: pg.Client) => Promise<T>) => withDatabase(stack, "video", work);

/** A video row by `authorId` (the media pipeline is tested in videos.test.ts). */
async function seedVideo(authorId: number): Promise<number> {
  const id = nextVideoId++;
  await videoDatabase((client) =>
    client.query(
      `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height) VALUES ($1, $2, 'seeded', $3, $4, 1000, 320, 240)`,
      [id, authorId, `videos/${id}.mp4`, `covers/${id}.jpg`],
    ),
  );
  return id;
}

const favorite = (token: string, videoId: number | string, actionType: number | string) =>
  legacy(stack, "/douyin/favorite/action/", { token, video_id: videoId, action_type: actionType }, { method: "POST" });
const comment = (params: Record<string, string | number>) =>
  legacy(stack, "/douyin/comment/action/", params, { method: "POST", body: "form" });

async function videoCounts(videoId: number, token?: string) {
  const answer = await graphql(
    stack.graphqlUrl,
    `
      query ($id: ID!) {
        video(id: $id) {
          favoriteCount
          commentCount
          isFavorite
        }
      }
    `,
    { id: String(videoId) },
    { token },
  );
  return answer.data.video as { favoriteCount: number; commentCount: number; isFavorite: boolean };
}

async function userCounts(userId: number) {
  return (await legacy(stack, "/douyin/user/", { user_id: userId })).body.user as { favorite_count: number; total_favorited: number };
}

async function deleteCacheKeys(): Promise<void> {
  await dropCached(stack, "*", []);
}

describe("likes", () => {
  it("likes and unlikes over REST: the list shows it at once, repeats are harmless, counters settle", async () => {
    const author = await register();
    const fan = await register();
    const videoId = await seedVideo(author.userId);
    for (let i = 0; i < 3; i++) assert.deepEqual((await favorite(fan.token, videoId, 1)).body, { status_code: 0, status_msg: "success" });

    const list = await legacy(stack, "/douyin/favorite/list/", { user_id: fan.userId, token: fan.token });
    assert.equal(list.body.status_code, 0, list.text);
    assert.deepEqual(
      list.body.video_list.map((v: { id: number }) => v.id),
      [videoId],
    );
    assert.equal(list.body.video_list[0].is_favorite, true);
    assert.equal((await videoCounts(videoId, fan.token)).isFavorite, true);
    assert.equal((await videoCounts(videoId, author.token)).isFavorite, false);
    await eventually(async () => (await videoCounts(videoId)).favoriteCount === 1, "favorite_count 1");
    assert.equal((await userCounts(fan.userId)).favorite_count, 1);
    assert.equal((await userCounts(author.userId)).total_favorited, 1);

    for (let i = 0; i < 2; i++) assert.equal((await favorite(fan.token, videoId, 2)).body.status_code, 0);
    assert.deepEqual((await legacy(stack, "/douyin/favorite/list/", { user_id: fan.userId })).body.video_list, []);
    assert.equal((await videoCounts(videoId, fan.token)).isFavorite, false, "read your write, through the cache");
    await eventually(async () => (await videoCounts(videoId)).favoriteCount === 0, "favorite_count 0");
    await eventually(async () => (await userCounts(author.userId)).total_favorited === 0, "total_favorited 0");
  });

  it("refuses unknown videos, bad parameters and a missing token", async () => {
    const fan = await register();
    assert.equal((await favorite(fan.token, 987654321, 1)).body.status_code, 404);
    assert.match((await favorite(fan.token, "x", 1)).body.status_msg, /video_id/);
    assert.match((await favorite(fan.token, 5, 3)).body.status_msg, /action_type must be 1 \(like\) or 2 \(unlike\)/);
    assert.equal((await favorite("", 5, 1)).body.status_code, 401);
    const viaGraphQL = await graphql(
      stack.graphqlUrl,
      `
        mutation {
          likeVideo(videoId: "987654321") {
            id
          }
        }
      `,
      {},
      { token: fan.token },
    );
    assert.equal(viaGraphQL.errors?.[0]?.extensions?.code, "NOT_FOUND");
  });

  it("has GraphQL twins: likeVideo, unlikeVideo and a user's liked videos with a cursor", async () => {
    const author = await register();
    const fan = await register();
    const videoIds = [await seedVideo(author.userId), await seedVideo(author.userId), await seedVideo(author.userId)];
    for (const id of videoIds) {
      const answer = await graphql(
        stack.graphqlUrl,
        `
          mutation ($id: ID!) {
            likeVideo(videoId: $id) {
              id
              isFavorite
            }
          }
        `,
        { id: String(id) },
        { token: fan.token },
      );
      assert.deepEqual(answer.data.likeVideo, { id: String(id), isFavorite: true });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await graphql(
        stack.graphqlUrl,
        `
          query ($id: ID!, $after: String) {
            user(id: $id) {
              likedVideos(first: 2, after: $after) {
                nodes {
                  id
                }
                nextCursor
              }
            }
          }
        `,
        {
          id: String(fan.userId),
          after: cursor,
        },
      );
      seen.push(...page.data.user.likedVideos.nodes.map((n: { id: string }) => n.id));
      cursor = page.data.user.likedVideos.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, videoIds.map(String).reverse());
    const unliked = await graphql(
      stack.graphqlUrl,
      `
        mutation ($id: ID!) {
          unlikeVideo(videoId: $id) {
            isFavorite
          }
        }
      `,
      { id: String(videoIds[0]) },
      { token: fan.token },
    );
    assert.equal(unliked.data.unlikeVideo.isFavorite, false);
  });

  it("ends a concurrent like/unlike storm, with every cache dropped mid-run, with every counter equal to the rows", async () => {
    const author = await register();
    const videoId = await seedVideo(author.userId);
    const fans = await Promise.all(Array.from({ length: 15 }, () => register()));
    const storm = fans.flatMap((fan) => Array.from({ length: 6 }, () => () => favorite(fan.token, videoId, Math.random() < 0.5 ? 1 : 2)));
    const half = Math.floor(storm.length / 2);
    await Promise.all(storm.slice(0, half).map((run) => run()));
    await deleteCacheKeys();
    await Promise.all(storm.slice(half).map((run) => run()));

    const likers = await videoDatabase(async (client) =>
      (await client.query(`SELECT user_id FROM likes WHERE video_id = $1`, [videoId])).rows.map((r) => Number(r.user_id)),
    );
    await eventually(async () => (await videoCounts(videoId)).favoriteCount === likers.length, `favorite_count to equal ${likers.length}`);
    await eventually(async () => (await userCounts(author.userId)).total_favorited === likers.length, "total_favorited");
    for (const fan of fans) {
      const likes = likers.includes(fan.userId) ? 1 : 0;
      assert.equal((await userCounts(fan.userId)).favorite_count, likes);
      assert.equal((await videoCounts(videoId, fan.token)).isFavorite, likes === 1);
    }
    // Seeded videos bypass the work counter, so only the like counters are compared here.
    const { videoCounts: wrongVideos, likeCounts: wrongUsers } = await reconcile(stack.config);
    assert.deepEqual({ wrongVideos, wrongUsers }, { wrongVideos: 0, wrongUsers: 0 }, "nothing for reconcile to fix");
  });

  it("applies nothing of a drain that fails, and every change once when drains succeed again", async () => {
    const author = await register();
    const fans = [await register(), await register(), await register()];
    const videoId = await seedVideo(author.userId);
    const unblock = await blockCounters(stack, "video");
    try {
      for (const fan of fans) assert.equal((await favorite(fan.token, videoId, 1)).body.status_code, 0);
      // Drains keep failing: the changes wait in the outbox, counted nowhere yet.
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.equal(await pendingCounterChanges(stack, "video"), fans.length);
      assert.equal((await videoCounts(videoId)).favoriteCount, 0);
    } finally {
      await unblock();
    }
    await eventually(async () => (await pendingCounterChanges(stack, "video")) === 0, "the outbox to drain");
    await eventually(async () => (await videoCounts(videoId)).favoriteCount === fans.length, "favorite_count 3");
    assert.equal((await userCounts(author.userId)).total_favorited, fans.length, "each change applied once");
  });
});

describe("reconciliation", () => {
  it("is exact while counter changes wait to be applied, and they are not counted again after", async () => {
    const author = await register();
    const fans = [await register(), await register()];
    const videoId = await seedVideo(author.userId);
    const unblock = await blockCounters(stack, "video");
    // Holds the pending changes (the drainer skips locked rows) while reconciliation starts.
    const holder = new pg.Client({ connectionString: (stack.config.subgraphs.video!.database as { url: string }).url });
    await holder.connect();
    try {
      for (const fan of fans) assert.equal((await favorite(fan.token, videoId, 1)).body.status_code, 0);
      await holder.query("BEGIN");
      assert.equal((await holder.query("SELECT id FROM counter_outbox FOR UPDATE")).rowCount, fans.length);
      await unblock();
      const reconciling = reconcile(stack.config);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await holder.query("COMMIT");
      await reconciling;
    } finally {
      await holder.end();
    }
    assert.equal(await pendingCounterChanges(stack, "video"), 0, "reconciliation took the pending changes");
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await videoCounts(videoId)).favoriteCount, fans.length);
    assert.equal((await userCounts(author.userId)).total_favorited, fans.length);
    assert.equal((await userCounts(fans[0]!.userId)).favorite_count, 1);
  });
});

describe("comments", () => {
  it("posts, lists newest first, counts, masks words, and deletes only the author's own", async () => {
    const author = await register();
    const reader = await register();
    const videoId = await seedVideo(author.userId);
    const first = await comment({ token: reader.token, video_id: videoId, action_type: 1, comment_text: "nice clip" });
    assert.equal(first.body.status_code, 0, first.text);
    const posted = first.body.comment;
    assert.equal(posted.content, "nice clip");
    assert.equal(posted.user.id, reader.userId);
    const today = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", month: "2-digit", day: "2-digit" })
      .format(new Date())
      .replace("/", "-");
    assert.equal(posted.create_date, today);
    assert.match(posted.create_date, /^\d{2}-\d{2}$/);
    await comment({ token: author.token, video_id: videoId, action_type: 1, comment_text: "不要赌博" });

    const list = await legacy(stack, "/douyin/comment/list/", { video_id: videoId });
    assert.deepEqual(
      list.body.comment_list.map((c: { content: string }) => c.content),
      ["不要**", "nice clip"],
    );
    await eventually(async () => (await videoCounts(videoId)).commentCount === 2, "comment_count 2");

    const stranger = await comment({ token: author.token, video_id: videoId, action_type: 2, comment_id: posted.id });
    assert.equal(stranger.body.status_code, 403);
    const own = await comment({ token: reader.token, action_type: 2, comment_id: posted.id });
    assert.deepEqual(own.body, { status_code: 0, status_msg: "success" });
    assert.deepEqual(
      (await legacy(stack, "/douyin/comment/list/", { video_id: videoId })).body.comment_list
        .map((c: { id: number }) => c.id)
        .includes(posted.id),
      false,
    );
    await eventually(async () => (await videoCounts(videoId)).commentCount === 1, "comment_count 1");
    assert.equal((await comment({ token: reader.token, video_id: videoId, action_type: 2, comment_id: posted.id })).body.status_code, 404);
  });

  it("refuses empty and overlong comments, unknown videos and bad parameters", async () => {
    const reader = await register();
    const videoId = await seedVideo(reader.userId);
    assert.match(
      (await comment({ token: reader.token, video_id: videoId, action_type: 1, comment_text: "" })).body.status_msg,
      /comment_text/,
    );
    assert.match(
      (await comment({ token: reader.token, video_id: videoId, action_type: 1, comment_text: "字".repeat(501) })).body.status_msg,
      /too long/,
    );
    assert.match((await comment({ token: reader.token, video_id: videoId, action_type: 1 })).body.status_msg, /comment_text is required/);
    assert.equal((await comment({ token: reader.token, video_id: 987654321, action_type: 1, comment_text: "hi" })).body.status_code, 404);
    assert.match(
      (await comment({ token: reader.token, video_id: videoId, action_type: 7, comment_text: "hi" })).body.status_msg,
      /action_type/,
    );
    assert.equal((await comment({ video_id: videoId, action_type: 1, comment_text: "hi" })).body.status_code, 401);
    assert.equal((await legacy(stack, "/douyin/comment/list/", { video_id: 987654321 })).body.status_code, 404);
  });

  it("has GraphQL twins: addComment, deleteComment and Video.comments with a cursor", async () => {
    const reader = await register();
    const videoId = await seedVideo(reader.userId);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const answer = await graphql(
        stack.graphqlUrl,
        `
          mutation ($v: ID!, $c: String!) {
            addComment(videoId: $v, content: $c) {
              id
              content
              createdAt
              user {
                id
              }
            }
          }
        `,
        { v: String(videoId), c: `comment ${i}` },
        { token: reader.token },
      );
      assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
      ids.push(answer.data.addComment.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await graphql(
        stack.graphqlUrl,
        `
          query ($v: ID!, $after: String) {
            video(id: $v) {
              comments(first: 2, after: $after) {
                nodes {
                  id
                }
                nextCursor
              }
            }
          }
        `,
        { v: String(videoId), after: cursor },
      );
      seen.push(...page.data.video.comments.nodes.map((n: { id: string }) => n.id));
      cursor = page.data.video.comments.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, [...ids].reverse());
    const deleted = await graphql(
      stack.graphqlUrl,
      `
        mutation ($id: ID!) {
          deleteComment(commentId: $id)
        }
      `,
      { id: ids[0] },
      { token: reader.token },
    );
    assert.equal(deleted.data.deleteComment, true);
    const firstPage = await graphql(
      stack.graphqlUrl,
      `
        query ($v: ID!) {
          video(id: $v) {
            comments {
              nodes {
                id
              }
            }
          }
        }
      `,
      { v: String(videoId) },
    );
    assert.deepEqual(
      firstPage.data.video.comments.nodes.map((n: { id: string }) => n.id),
      ids.slice(1).reverse(),
      "the cached first page saw the delete",
    );
  });
});
