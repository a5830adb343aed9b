// Query plans of the hot operations (fast tier): the real gateway over in-process subgraphs,
// counting which subgraphs each operation fetches and how many SQL statements each runs. A
// feed page or a list of users costs one fetch per subgraph, however long; the first time a
// few statements per subgraph (one per kind of thing, never one per item), and none once the
// hot entities are cached.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startInProcess, type InProcessStack } from "../test/in-process";

let stack: InProcessStack;
const SUBGRAPHS = ["user", "video", "relation"];

before(async () => {
  stack = await startInProcess({ gateway: true });
});
after(() => stack.close());

/** What running `work` cost, per subgraph: fetches from the gateway and SQL statements. */
async function cost(work: () => Promise<unknown>): Promise<Record<string, { fetches: number; statements: number }>> {
  await stack.settled();
  const read = () =>
    Promise.all(
      SUBGRAPHS.map(async (name) => ({
        fetches: await stack.metric("subgraph_fetches_total", { subgraph: name }),
        statements: await stack.metric("db_statements_total", { database: name }),
      })),
    );
  const before = await read();
  await work();
  const after = await read();
  return Object.fromEntries(
    SUBGRAPHS.map((name, i) => [
      name,
      { fetches: after[i]!.fetches - before[i]!.fetches, statements: after[i]!.statements - before[i]!.statements },
    ]),
  );
}

async function register(name: string): Promise<{ id: string; token: string }> {
  const result = await stack.graphql<{ register: { token: string; user: { id: string } } }>(
    `mutation ($u: String!) { register(username: $u, password: "secret1") { token user { id } } }`,
    { u: name },
  );
  assert.equal(result.errors, undefined, JSON.stringify(result.errors));
  return { id: result.data!.register.user.id, token: result.data!.register.token };
}

const USER_FIELDS = `id name avatar followCount followerCount isFollow workCount favoriteCount totalFavorited`;

describe("query plans", () => {
  const authors: { id: string; token: string }[] = [];
  let viewer: { id: string; token: string };

  before(async () => {
    viewer = await register("viewer");
    for (let i = 0; i < 30; i++) authors.push(await register(`author${i}`));
    await stack.settled();
    const now = Date.now();
    await stack.subgraph("video").database!.withSession(async (session) => {
      for (const [i, author] of authors.entries()) {
        await session.query(
          `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height, created_at)
           VALUES ($1, $2, 't', 'videos/x.mp4', 'covers/x.jpg', 1000, 320, 240, $3)`,
          [9_000_000 + i, author.id, new Date(now - i * 1000)],
        );
      }
    });
    for (const author of authors.slice(0, 10)) {
      await stack.graphql(`mutation ($id: ID!) { follow(userId: $id) { id } }`, { id: author.id }, viewer.token);
    }
  });

  it("serves a feed page of 30 videos by 30 authors with one fetch per subgraph, and no SQL once cached", async () => {
    const feed = async () => {
      const result = await stack.graphql<{ feed: { videos: unknown[] } }>(
        `{ feed(limit: 30) { nextTime videos { id title playUrl coverUrl favoriteCount commentCount isFavorite author { ${USER_FIELDS} } } } }`,
        {},
        viewer.token,
      );
      assert.equal(result.errors, undefined, JSON.stringify(result.errors));
      assert.equal(result.data!.feed.videos.length, 30);
    };
    const cold = await cost(feed);
    for (const name of SUBGRAPHS) assert.equal(cold[name]!.fetches, 1, `${name}: one fetch`);
    // The newest videos, their rows, their counts, their authors' counters, what the viewer likes.
    assert.ok(cold.video!.statements <= 5, `video: ${cold.video!.statements} statements`);
    assert.ok(cold.user!.statements <= 1, `user: ${cold.user!.statements} statements`);
    assert.ok(cold.relation!.statements <= 2, `relation: ${cold.relation!.statements} statements`);
    assert.deepEqual(await cost(feed), {
      video: { fetches: 1, statements: 0 },
      user: { fetches: 1, statements: 0 },
      relation: { fetches: 1, statements: 0 },
    });
  });

  it("serves a user's profile (the legacy user info) with one fetch to each subgraph", async () => {
    const spent = await cost(() =>
      stack.graphql(`query ($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, { id: authors[3]!.id }, viewer.token),
    );
    assert.deepEqual(Object.fromEntries(Object.entries(spent).map(([name, { fetches }]) => [name, fetches])), {
      user: 1,
      video: 1,
      relation: 1,
    });
  });

  it("serves a list of users (whom a user follows) with one fetch per subgraph hop", async () => {
    let listed = 0;
    const spent = await cost(async () => {
      const result = await stack.graphql<{ user: { following: { nodes: unknown[] } } }>(
        `query ($id: ID!) { user(id: $id) { following(first: 50) { nodes { ${USER_FIELDS} } } } }`,
        { id: viewer.id },
        viewer.token,
      );
      listed = result.data!.user.following.nodes.length;
    });
    assert.equal(listed, 10);
    // The list itself is a query each time; the users' fields come from the caches.
    for (const name of SUBGRAPHS) assert.ok(spent[name]!.statements <= 2, `${name}: ${spent[name]!.statements} statements`);
    assert.deepEqual(
      Object.fromEntries(Object.entries(spent).map(([name, { fetches }]) => [name, fetches])),
      { user: 2, video: 1, relation: 1 },
      "the user subgraph answers the root and the names of the list, in one fetch each",
    );
  });
});
