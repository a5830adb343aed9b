// What a client may ask of the stack, and how it is told no: GraphQL errors with their HTTP
// status, queries bounded by what they could return, write routes that refuse GET, legacy lists
// that are whole, names that cannot hide characters, and rate limits that count every attempt.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { graphql, legacy, readMetric, settledMetric, uniqueName } from "./client";
import { startStack, withDatabase, type Stack } from "./stack";

let stack: Stack;

before(async () => {
  // Pages of 50, so the lists of 130 below take three pages each.
  stack = await startStack({ PASSWORD_MIN_LENGTH: "4", LIST_LIMIT_MAX: "50" });
});
after(async () => {
  await stack?.close();
});

async function register(prefix = "lim") {
  const answer = await legacy(stack, "/douyin/user/register/", { username: uniqueName(prefix), password: "pass" }, { method: "POST" });
  assert.equal(answer.body.status_code, 0, answer.text);
  return { userId: answer.body.user_id as number, token: answer.body.token as string };
}

describe("GraphQL request errors", () => {
  it("answers syntax errors, queries over the token limit and validation errors with HTTP 400 and a code", async () => {
    const syntax = await graphql(stack.graphqlUrl, "{ me { id ");
    assert.equal(syntax.httpStatus, 400);
    assert.equal(syntax.errors?.[0]?.extensions?.code, "GRAPHQL_PARSE_FAILED");

    const tokens = await graphql(stack.graphqlUrl, `{ ${Array.from({ length: 1500 }, (_, i) => `a${i}: __typename`).join(" ")} }`);
    assert.equal(tokens.httpStatus, 400);
    assert.equal(tokens.errors?.[0]?.extensions?.code, "GRAPHQL_PARSE_FAILED");
    assert.match(tokens.errors![0]!.message, /tokens/);

    const unknownField = await graphql(stack.graphqlUrl, "{ me { password } }");
    assert.equal(unknownField.httpStatus, 400);
    assert.equal(unknownField.errors?.[0]?.extensions?.code, "GRAPHQL_VALIDATION_FAILED");
  });

  it("answers malformed scalar input with BAD_USER_INPUT, literal or variable", async () => {
    const literal = await graphql(
      stack.graphqlUrl,
      `
        {
          feed(latestTime: "yesterday-ish") {
            nextTime
          }
        }
      `,
    );
    assert.equal(literal.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(literal.errors));
    assert.equal(literal.httpStatus, 400);
    const variable = await graphql(
      stack.graphqlUrl,
      `
        query ($t: DateTime!) {
          feed(latestTime: $t) {
            nextTime
          }
        }
      `,
      { t: "13/45/2026" },
    );
    assert.equal(variable.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(variable.errors));
    assert.equal(variable.httpStatus, 400);
  });
});

describe("bounded queries", () => {
  // Four levels of followers under ten aliases: with 12 ids and pages of 30 that could be
  // 10 × 12 × 30⁴ users. It must be refused before anything runs, whatever sets the page size.
  const nested = (first: string) => {
    const level = (depth: number): string => (depth === 0 ? "id" : `id followers(${first}) { nodes { ${level(depth - 1)} } }`);
    return Array.from({ length: 10 }, (_, i) => `a${i}: users(ids: $ids) { ${level(4)} }`).join(" ");
  };

  it("refuses a fan-out request before it runs, whether page sizes are literals, variables or defaults", async () => {
    const ids = Array.from({ length: 12 }, (_, i) => String(i + 1));
    for (const [label, query, variables] of [
      ["literal", `query ($ids: [ID!]!) { ${nested("first: 30")} }`, { ids }],
      ["variable", `query ($ids: [ID!]!, $n: Int) { ${nested("first: $n")} }`, { ids, n: 30 }],
      ["default", `query ($ids: [ID!]!) { ${nested("")} }`.replaceAll("followers()", "followers"), { ids }],
    ] as const) {
      const started = Date.now();
      const answer = await graphql(stack.graphqlUrl, query, variables);
      assert.equal(answer.httpStatus, 400, `${label}: ${JSON.stringify(answer.errors)}`);
      assert.equal(answer.errors?.[0]?.extensions?.code, "QUERY_TOO_COMPLEX", label);
      assert.equal(answer.data, undefined, label);
      // Refused on sight, not after running into a timeout.
      assert.ok(Date.now() - started < 2000, `${label} took ${Date.now() - started} ms`);
    }
    // Asking for small pages makes the same shape acceptable, and the stack is serving.
    const small = await graphql(stack.graphqlUrl, `query ($ids: [ID!]!) { ${nested("first: 2")} }`, { ids: ["1", "2"] });
    assert.equal(small.errors, undefined, JSON.stringify(small.errors));
    assert.equal((await graphql(stack.graphqlUrl, "{ __typename }")).data.__typename, "Query");
  });

  it("still serves what the legacy routes and the web client ask for", async () => {
    const user = await register();
    const feed = await legacy(stack, "/douyin/feed/", { token: user.token });
    assert.equal(feed.body.status_code, 0, feed.text);
    const lists = await legacy(stack, "/douyin/favorite/list/", { user_id: user.userId, token: user.token });
    assert.equal(lists.body.status_code, 0, lists.text);
  });
});

describe("legacy write routes", () => {
  it("refuse GET with 405 and the envelope, and change nothing", async () => {
    const username = uniqueName("get");
    const answer = await legacy(stack, "/douyin/user/register/", { username, password: "pass" });
    assert.equal(answer.httpStatus, 405);
    assert.equal(answer.body.status_code, 405);
    assert.match(answer.body.status_msg, /POST/);
    const login = await legacy(stack, "/douyin/user/login/", { username, password: "pass" }, { method: "POST" });
    assert.equal(login.body.status_code, 401, "the GET registered nobody");

    const user = await register();
    for (const path of ["/douyin/favorite/action/", "/douyin/relation/action/", "/douyin/comment/action/", "/douyin/message/action/"]) {
      const refused = await legacy(stack, path, { token: user.token, action_type: 1 });
      assert.equal(refused.httpStatus, 405, path);
      assert.equal(refused.body.status_code, 405, path);
    }
    // Reads take GET, and POST too.
    const read = await legacy(stack, "/douyin/user/", { user_id: user.userId, token: user.token }, { method: "POST", body: "form" });
    assert.equal(read.body.status_code, 0, read.text);
  });
});

describe("whole legacy lists", () => {
  it("returns every follower, followee, friend, favorite, published video and comment past one page", async () => {
    const COUNT = 130;
    const star = await register("star");
    const fans = await Promise.all(Array.from({ length: COUNT }, () => register("fan")));
    for (const fan of fans) {
      assert.equal(
        (await legacy(stack, "/douyin/relation/action/", { token: fan.token, to_user_id: star.userId, action_type: 1 }, { method: "POST" }))
          .body.status_code,
        0,
      );
      assert.equal(
        (await legacy(stack, "/douyin/relation/action/", { token: star.token, to_user_id: fan.userId, action_type: 1 }, { method: "POST" }))
          .body.status_code,
        0,
      );
    }
    const ids = (list: { id: number }[]) => list.map((item) => item.id).sort();
    const fanIds = fans.map((fan) => fan.userId).sort();
    const followers = await legacy(stack, "/douyin/relation/follower/list/", { user_id: star.userId });
    assert.deepEqual(ids(followers.body.user_list), fanIds);
    const following = await legacy(stack, "/douyin/relation/follow/list/", { user_id: star.userId });
    assert.deepEqual(ids(following.body.user_list), fanIds);
    const friends = await legacy(stack, "/douyin/relation/friend/list/", { token: star.token });
    assert.deepEqual(ids(friends.body.user_list), fanIds);

    // Videos written straight into the database (publishing 130 files would only test ffmpeg).
    const base = 9_000_000_000_000 + Math.floor(Math.random() * 1e9);
    const videoIds = Array.from({ length: COUNT }, (_, i) => base + i);
    await withDatabase(stack, "video", (client) =>
      client.query(
        `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height, created_at)
         SELECT id, $2, 'bulk ' || id, 'videos/' || id || '.mp4', 'covers/' || id || '.jpg', 1000, 64, 64, now() - (id - $3) * interval '1 second'
         FROM unnest($1::bigint[]) AS id`,
        [videoIds, star.userId, base],
      ),
    );
    const published = await legacy(stack, "/douyin/publish/list/", { user_id: star.userId });
    assert.deepEqual(ids(published.body.video_list), [...videoIds].sort());
    for (const videoId of videoIds) {
      const like = await legacy(
        stack,
        "/douyin/favorite/action/",
        { token: star.token, video_id: videoId, action_type: 1 },
        { method: "POST" },
      );
      assert.equal(like.body.status_code, 0, like.text);
    }
    const favorites = await legacy(stack, "/douyin/favorite/list/", { user_id: star.userId });
    assert.deepEqual(ids(favorites.body.video_list), [...videoIds].sort());

    const target = videoIds[0]!;
    for (let i = 0; i < COUNT; i++) {
      const comment = await legacy(
        stack,
        "/douyin/comment/action/",
        { token: fans[i]!.token, video_id: target, action_type: 1, comment_text: `c${i}` },
        { method: "POST" },
      );
      assert.equal(comment.body.status_code, 0, comment.text);
    }
    const comments = await legacy(stack, "/douyin/comment/list/", { video_id: target });
    assert.equal(comments.body.comment_list.length, COUNT);
    assert.deepEqual(
      comments.body.comment_list.map((c: { content: string }) => c.content),
      Array.from({ length: COUNT }, (_, i) => `c${COUNT - 1 - i}`),
      "newest first, none repeated or lost at page boundaries",
    );
  });

  it("answers a repeated whole comment list from the cache, and exactly right after a comment is added or deleted", async () => {
    const COUNT = 120; // three pages of LIST_LIMIT_MAX (50)
    const author = await register("lister");
    const videoId = 9_100_000_000_000 + Math.floor(Math.random() * 1e9);
    const commentIds = Array.from({ length: COUNT }, (_, i) => videoId + 1 + i);
    // Written straight into the database, before anything read (and cached) the video's comments.
    await withDatabase(stack, "video", async (client) => {
      await client.query(
        `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height)
         VALUES ($1, $2, 'listed', 'videos/l.mp4', 'covers/l.jpg', 1000, 64, 64)`,
        [videoId, author.userId],
      );
      await client.query(
        `INSERT INTO comments (id, video_id, user_id, content, created_at)
         SELECT id, $2, $3, 'c' || (id - $4), now() - interval '1 hour' + (id - $4) * interval '1 second' FROM unnest($1::bigint[]) AS id`,
        [commentIds, videoId, author.userId, videoId + 1],
      );
    });
    const contents = async () =>
      (await legacy(stack, "/douyin/comment/list/", { video_id: videoId })).body.comment_list.map((c: { content: string }) => c.content);
    const expected = Array.from({ length: COUNT }, (_, i) => `c${COUNT - 1 - i}`);
    assert.deepEqual(await contents(), expected);

    // Repeated: the later pages come from the cached whole list, and the video database is not asked.
    const metrics = stack.metricsUrl("video");
    const hits = () => readMetric(metrics, "cache_lookups_total", { cache: "video:comment-lists", result: "hit" });
    const hitsBefore = await hits();
    const statementsBefore = await settledMetric(metrics, "db_statements_total", { database: "video" });
    assert.deepEqual(await contents(), expected);
    assert.equal((await hits()) - hitsBefore, 2, "pages 2 and 3 from the cached list");
    assert.equal((await readMetric(metrics, "db_statements_total", { database: "video" })) - statementsBefore, 0);

    // A new comment is on the very next list, and on the one right after it.
    const added = await legacy(
      stack,
      "/douyin/comment/action/",
      { token: author.token, video_id: videoId, action_type: 1, comment_text: "newest" },
      { method: "POST" },
    );
    assert.equal(added.body.status_code, 0, added.text);
    assert.deepEqual(await contents(), ["newest", ...expected]);
    assert.deepEqual(await contents(), ["newest", ...expected]);
    // A deleted comment on a later page is gone at once, from every page.
    const deleted = await legacy(
      stack,
      "/douyin/comment/action/",
      { token: author.token, video_id: videoId, action_type: 2, comment_id: String(commentIds[30]) },
      { method: "POST" },
    );
    assert.equal(deleted.body.status_code, 0, deleted.text);
    const withoutDeleted = ["newest", ...expected.filter((content) => content !== "c30")];
    assert.deepEqual(await contents(), withoutDeleted);
    assert.deepEqual(await contents(), withoutDeleted);
  });
});

describe("names and passwords", () => {
  it("stores usernames NFKC-normalised and refuses invisible and direction-changing characters", async () => {
    const plain = uniqueName("nfkc");
    const fullWidth = [...plain].map((c) => (/[a-z0-9]/.test(c) ? String.fromCodePoint(c.codePointAt(0)! + 0xfee0) : c)).join("");
    const registered = await legacy(stack, "/douyin/user/register/", { username: fullWidth, password: "pass" }, { method: "POST" });
    assert.equal(registered.body.status_code, 0, registered.text);
    const user = await legacy(stack, "/douyin/user/", { user_id: registered.body.user_id });
    assert.equal(user.body.user.name, plain);
    const again = await legacy(stack, "/douyin/user/register/", { username: plain, password: "pass" }, { method: "POST" });
    assert.equal(again.body.status_code, 400, "the plain form is the same name");
    assert.equal(
      (await legacy(stack, "/douyin/user/login/", { username: plain, password: "pass" }, { method: "POST" })).body.status_code,
      0,
    );

    for (const sneaky of [`admin\u202Egnp.exe`, `ad\u200Bmin${Date.now()}`, `\u2066x${Date.now()}\u2069`]) {
      const refused = await legacy(stack, "/douyin/user/register/", { username: sneaky, password: "pass" }, { method: "POST" });
      assert.equal(refused.body.status_code, 400, JSON.stringify(sneaky));
      assert.match(refused.body.status_msg, /invisible|direction/);
    }
  });

  it("refuses passwords shorter than the configured minimum", async () => {
    const short = await legacy(stack, "/douyin/user/register/", { username: uniqueName("pw"), password: "abc" }, { method: "POST" });
    assert.equal(short.body.status_code, 400);
    assert.match(short.body.status_msg, /at least 4/);
  });
});

describe("published text", () => {
  // A right-to-left override that makes "txt.exe" read as "exe.txt", a zero-width space that
  // splits a listed word past the sensitive-word filter, and an isolate pair.
  const SNEAKY = ["see \u202Etxt.exe", "gam\u200Bbling", "\u2067hidden\u2069"];

  async function publishGraphQL(token: string, title: string) {
    const form = new FormData();
    const query = "mutation ($file: Upload!, $title: String!) { publishVideo(file: $file, title: $title) { id } }";
    form.set("operations", JSON.stringify({ query, variables: { file: null, title } }));
    form.set("map", JSON.stringify({ 0: ["variables.file"] }));
    form.set("0", new Blob(["not even a video"], { type: "video/mp4" }), "clip.mp4");
    const response = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "apollo-require-preflight": "true" },
      body: form,
    });
    return (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
  }

  it("refuses bidi and invisible format characters in titles, comments and messages, through REST and GraphQL", async () => {
    const author = await register("bidi");
    const friend = await register("bidi");
    const videoId = 9_100_000_000_000 + Math.floor(Math.random() * 1e9);
    await withDatabase(stack, "video", (client) =>
      client.query(
        `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height, created_at)
         VALUES ($1, $2, 'plain', $3, $4, 1000, 64, 64, now())`,
        [videoId, author.userId, `videos/${videoId}.mp4`, `covers/${videoId}.jpg`],
      ),
    );
    for (const text of SNEAKY) {
      const label = JSON.stringify(text);
      const form = new FormData();
      form.set("token", author.token);
      form.set("title", text);
      form.set("data", new Blob(["not even a video"], { type: "video/mp4" }), "clip.mp4");
      const publish = (await (await fetch(`${stack.restUrl}/douyin/publish/action/`, { method: "POST", body: form })).json()) as {
        status_code: number;
        status_msg: string;
      };
      assert.equal(publish.status_code, 400, `legacy title ${label}: ${JSON.stringify(publish)}`);
      assert.match(publish.status_msg, /title contains invisible or direction-changing characters/);
      const published = await publishGraphQL(author.token, text);
      assert.equal(published.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", `GraphQL title ${label}: ${JSON.stringify(published)}`);

      const comment = await legacy(
        stack,
        "/douyin/comment/action/",
        { token: friend.token, video_id: videoId, action_type: 1, comment_text: text },
        { method: "POST", body: "form" },
      );
      assert.equal(comment.body.status_code, 400, `legacy comment ${label}: ${comment.text}`);
      assert.match(comment.body.status_msg, /invisible or direction-changing/);
      const added = await graphql(
        stack.graphqlUrl,
        "mutation ($v: ID!, $c: String!) { addComment(videoId: $v, content: $c) { id } }",
        { v: String(videoId), c: text },
        { token: friend.token },
      );
      assert.equal(added.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", `GraphQL comment ${label}: ${JSON.stringify(added.errors)}`);

      const message = await legacy(
        stack,
        "/douyin/message/action/",
        { token: friend.token, to_user_id: author.userId, action_type: 1, content: text },
        { method: "POST", body: "form" },
      );
      assert.equal(message.body.status_code, 400, `legacy message ${label}: ${message.text}`);
      const sent = await graphql(
        stack.graphqlUrl,
        "mutation ($to: ID!, $c: String!) { sendMessage(toUserId: $to, content: $c) { id } }",
        { to: String(author.userId), c: text },
        { token: friend.token },
      );
      assert.equal(sent.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", `GraphQL message ${label}: ${JSON.stringify(sent.errors)}`);
    }
    // Nothing was written; emoji joined by zero-width joiners are still welcome.
    assert.deepEqual((await legacy(stack, "/douyin/comment/list/", { video_id: videoId })).body.comment_list, []);
    const chat = await legacy(stack, "/douyin/message/chat/", { token: friend.token, to_user_id: author.userId });
    assert.deepEqual(chat.body.message_list, [], chat.text);
    const family = "family \u{1F468}\u200D\u{1F469}\u200D\u{1F467}";
    const emoji = await legacy(
      stack,
      "/douyin/comment/action/",
      { token: friend.token, video_id: videoId, action_type: 1, comment_text: family },
      { method: "POST", body: "form" },
    );
    assert.equal(emoji.body.status_code, 0, emoji.text);
    assert.equal(emoji.body.comment.content, family);
  });
});

describe("rate limits", () => {
  let limited: Stack;
  // The stack believes X-Forwarded-For from this machine, so each test speaks from addresses of its own.
  const from = (address: string) => ({ headers: { "x-forwarded-for": address } });
  before(async () => {
    limited = await startStack({
      TRUST_PROXY: "127.0.0.1",
      RATE_LIMIT_LOGIN_PER_IP_PER_MINUTE: "12",
      RATE_LIMIT_WRITES_PER_USER_PER_MINUTE: "5",
      RATE_LIMIT_READS_PER_IP_PER_MINUTE: "20",
    });
  });
  after(async () => {
    await limited?.close();
  });

  it("counts each aliased login of one GraphQL request as an attempt, and answers 429 with Retry-After", async () => {
    const logins = Array.from({ length: 15 }, (_, i) => `l${i}: login(username: "nobody${i}", password: "guess") { token }`).join(" ");
    const response = await fetch(limited.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": "203.0.113.1" },
      body: JSON.stringify({ query: `mutation { ${logins} }` }),
    });
    const body = (await response.json()) as { data?: unknown; errors: { extensions: { code: string; retryAfter: number } }[] };
    assert.equal(response.status, 429);
    assert.equal(body.errors[0]!.extensions.code, "RATE_LIMITED");
    assert.ok(body.errors[0]!.extensions.retryAfter >= 1);
    assert.ok(Number(response.headers.get("retry-after")) >= 1);
    assert.equal(body.data, undefined, "no attempt ran");
    // The legacy door counts the same address the same way.
    const legacyLogin = await legacy(
      limited,
      "/douyin/user/login/",
      { username: "nobody", password: "guess" },
      { method: "POST", ...from("203.0.113.1") },
    );
    assert.equal(legacyLogin.body.status_code, 429, legacyLogin.text);
    assert.ok(Number(legacyLogin.body.retry_after) >= 1);
  });

  it("limits reads per address, legacy and GraphQL alike, while another address reads on", async () => {
    const reader = "192.0.2.50";
    const user = (
      await legacy(limited, "/douyin/user/register/", { username: uniqueName("read"), password: "right-one" }, { method: "POST" })
    ).body;
    const read = (address: string) => legacy(limited, "/douyin/user/", { user_id: user.user_id }, from(address));
    for (let i = 0; i < 20; i++) {
      const answer = await read(reader);
      assert.equal(answer.body.status_code, 0, `read ${i + 1}: ${answer.text}`);
    }
    const refused = await read(reader);
    assert.equal(refused.body.status_code, 429, refused.text);
    assert.ok(Number(refused.body.retry_after) >= 1, refused.text);
    const query = await graphql(limited.graphqlUrl, "{ __typename }", {}, from(reader));
    assert.equal(query.httpStatus, 429);
    assert.equal(query.errors?.[0]?.extensions?.code, "RATE_LIMITED");
    const other = await read("192.0.2.51");
    assert.equal(other.body.status_code, 0, other.text);
  });

  it("believes the address an edge names (x-client-ip) with the edge secret only, not with the internal one", async () => {
    // Thirteen logins from one real address, each naming an address of its own (limit: 12 a
    // minute), each for an account of its own so that no account lock-out answers 429 instead.
    const loginsNaming = async (subnet: number, realAddress: string, secret: Record<string, string>) => {
      const statuses: number[] = [];
      for (let i = 0; i < 13; i++) {
        const answer = await graphql(
          limited.graphqlUrl,
          `mutation { login(username: "${uniqueName("spoof")}", password: "guess") { token } }`,
          {},
          { headers: { "x-forwarded-for": realAddress, "x-client-ip": `198.18.${subnet}.${i + 1}`, ...secret } },
        );
        statuses.push(answer.httpStatus);
      }
      return statuses;
    };
    // The internal secret is the gateway's own, for the subgraphs: it does not make an edge.
    const internal = await loginsNaming(0, "203.0.113.50", { "x-internal-secret": limited.config.auth.internalSecret });
    assert.equal(internal.at(-1), 429, `counted against the real address: ${internal.join(",")}`);
    // The REST adapter's way: each named address is counted on its own.
    const edge = await loginsNaming(1, "203.0.113.51", { "x-edge-secret": limited.config.auth.edgeSecret });
    assert.ok(!edge.includes(429), `counted against the named addresses: ${edge.join(",")}`);
  });

  it("limits each user's writes per minute", async () => {
    const user = (
      await legacy(limited, "/douyin/user/register/", { username: uniqueName("writer"), password: "right-one" }, { method: "POST" })
    ).body;
    const target = (
      await legacy(limited, "/douyin/user/register/", { username: uniqueName("t"), password: "right-one" }, { method: "POST" })
    ).body;
    const codes: number[] = [];
    for (let i = 0; i < 7; i++) {
      const answer = await legacy(
        limited,
        "/douyin/relation/action/",
        { token: user.token, to_user_id: target.user_id, action_type: (i % 2) + 1 },
        { method: "POST", ...from(`192.0.2.${i + 1}`) },
      );
      codes.push(answer.body.status_code);
    }
    assert.deepEqual(codes, [0, 0, 0, 0, 0, 429, 429]);
  });
});

describe("login limits per account", () => {
  let guarded: Stack;
  const from = (address: string) => ({ headers: { "x-forwarded-for": address } });
  const LOGIN = "mutation ($u: String!, $p: String!) { login(username: $u, password: $p) { token } }";
  /** The legacy status of one login from `address`. */
  const legacyLogin = async (username: string, password: string, address: string) =>
    (await legacy(guarded, "/douyin/user/login/", { username, password }, { method: "POST", ...from(address) })).body.status_code;
  /** The GraphQL error code of one login from `address` ("OK" when it signed in). */
  const graphqlLogin = async (username: string, password: string, address: string) => {
    const answer = await graphql(guarded.graphqlUrl, LOGIN, { u: username, p: password }, from(address));
    return answer.errors?.[0]?.extensions?.code ?? (answer.data?.login?.token ? "OK" : JSON.stringify(answer));
  };
  async function registerAccount(prefix: string): Promise<string> {
    const username = uniqueName(prefix);
    const answer = await legacy(guarded, "/douyin/user/register/", { username, password: "right-one" }, { method: "POST" });
    assert.equal(answer.body.status_code, 0, answer.text);
    return username;
  }

  before(async () => {
    // The per-address count keeps its default (20); the account-wide ceiling is small enough to reach.
    guarded = await startStack({ TRUST_PROXY: "127.0.0.1", RATE_LIMIT_LOGIN_ATTEMPTS_PER_ACCOUNT: "30" });
  });
  after(async () => {
    await guarded?.close();
  });

  it("refuses an address after 20 guesses at an account while the owner logs in from another, over REST and GraphQL", async () => {
    const attacker = "203.0.113.10";
    const owner = "203.0.113.20";
    const victim = await registerAccount("victim");
    const guesses = [];
    for (let i = 0; i < 20; i++) guesses.push(await legacyLogin(victim, "wrong", attacker));
    assert.deepEqual(new Set(guesses), new Set([401]), guesses.join(","));
    assert.equal(await legacyLogin(victim, "right-one", attacker), 429, "the guessing address waits, even with the right password");
    assert.equal(await legacyLogin(victim, "right-one", owner), 0, "the owner, elsewhere, is not locked out");

    // The same address cannot lock a second account either; over GraphQL alike.
    const second = await registerAccount("second");
    const graphqlGuesses = [];
    for (let i = 0; i < 20; i++) graphqlGuesses.push(await graphqlLogin(second, "wrong", attacker));
    assert.deepEqual(new Set(graphqlGuesses), new Set(["UNAUTHENTICATED"]), graphqlGuesses.join(","));
    assert.equal(await graphqlLogin(second, "right-one", attacker), "RATE_LIMITED");
    assert.equal(await graphqlLogin(second, "right-one", owner), "OK");
    assert.equal(await legacyLogin(second, "right-one", owner), 0);

    // A name nobody has is limited alike: the refusal tells nothing about who exists.
    const nobody = uniqueName("nobody");
    for (let i = 0; i < 20; i++) assert.equal(await legacyLogin(nobody, "wrong", attacker), 401);
    assert.equal(await legacyLogin(nobody, "wrong", attacker), 429);
  });

  it("stops guesses spread over many addresses at the account's ceiling, but not the owner's known address", async () => {
    const victim = await registerAccount("spread");
    const home = "198.51.100.250";
    // The owner signs in from home once (taking one of the ceiling's 30 points, as a new address).
    assert.equal(await legacyLogin(victim, "right-one", home), 0);
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => legacyLogin(victim, "wrong", `198.51.100.${i + 1}`)));
    // Each guess takes its point before the password is checked: exactly the 29 left reach argon2.
    assert.equal(flood.filter((code) => code === 401).length, 29, flood.join(","));
    assert.equal(flood.filter((code) => code === 429).length, 11, flood.join(","));
    assert.equal(await legacyLogin(victim, "right-one", "198.51.100.200"), 429, "a new address waits, even with the right password");
    assert.equal(await legacyLogin(victim, "right-one", home), 0, "the owner's known address still gets in");
    assert.equal(await graphqlLogin(victim, "right-one", home), "OK");
  });
});
