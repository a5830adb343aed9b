// Subscriptions over WebSocket at the gateway, against the real stack: messages sent through
// REST and GraphQL reach the recipient's socket and the sender's other devices, in both modes and
// from another replica; a like reaches a video's watchers as new counts; connections need a
// live session and close when it ends; every limit is enforced, counted, and said in words.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { messagesTopic } from "../lib/live-events";
import { RedisLivePublisher } from "../platform/live-events";
import { createLogger } from "../platform/logger";
import { eventually, graphql, legacy, readMetric, uniqueName } from "./client";
import { activeSubscriptions, LiveSocket, liveClient, Received, untilSubscribed } from "./live";
import { startReplica, startStack, stackModes, withDatabase, type Replica, type Stack } from "./stack";

const MESSAGE_RECEIVED = `
  subscription ($from: ID) {
    messageReceived(fromUserId: $from) { id fromUserId toUserId content createdAt }
  }
`;
const VIDEO_COUNTS = `
  subscription ($id: ID!) {
    videoCounts(videoId: $id) { videoId favoriteCount commentCount }
  }
`;

interface Account {
  userId: number;
  token: string;
}

type Door = Pick<Stack, "restUrl" | "graphqlUrl">;

async function register(door: Door): Promise<Account> {
  const answer = await legacy(door, "/douyin/user/register/", { username: uniqueName("live"), password: "pw" }, { method: "POST" });
  assert.equal(answer.body.status_code, 0, answer.text);
  return { userId: answer.body.user_id as number, token: answer.body.token as string };
}

async function sendOverRest(door: Door, from: Account, to: Account, content: string): Promise<void> {
  const answer = await legacy(
    door,
    "/douyin/message/action/",
    { token: from.token, to_user_id: to.userId, action_type: 1, content },
    { method: "POST" },
  );
  assert.equal(answer.body.status_code, 0, answer.text);
}

async function sendOverGraphql(door: Door, from: Account, to: Account, content: string): Promise<string> {
  const answer = await graphql(
    door.graphqlUrl,
    "mutation ($to: ID!, $content: String!) { sendMessage(toUserId: $to, content: $content) { id } }",
    { to: String(to.userId), content },
    { token: from.token },
  );
  assert.equal(answer.errors, undefined, JSON.stringify(answer.errors));
  return answer.data.sendMessage.id as string;
}

let nextVideoId = 3_000_000;
/** A video row (the media pipeline is tested elsewhere). */
async function seedVideo(stack: Stack, authorId: number): Promise<number> {
  const id = nextVideoId++;
  await withDatabase(stack, "video", (client) =>
    client.query(
      `INSERT INTO videos (id, author_id, title, play_key, cover_key, duration_ms, width, height) VALUES ($1, $2, 'live', $3, $4, 1000, 320, 240)`,
      [id, authorId, `videos/${id}.mp4`, `covers/${id}.jpg`],
    ),
  );
  return id;
}

for (const mode of stackModes(["colocated", "split"])) {
  describe(`live events (${mode})`, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack({}, mode);
    });
    after(async () => {
      await stack?.close();
    });

    it("delivers a message sent through REST to the recipient and to the sender's other device", async () => {
      const [alice, bob] = [await register(stack), await register(stack)];
      const bobClient = liveClient(stack, bob.token);
      const aliceOtherDevice = liveClient(stack, alice.token);
      try {
        const before = await activeSubscriptions(stack.metricsUrl("gateway"), "messageReceived");
        const toBob = new Received<any>(bobClient, MESSAGE_RECEIVED);
        const toAlice = new Received<any>(aliceOtherDevice, MESSAGE_RECEIVED);
        await untilSubscribed(stack.metricsUrl("gateway"), "messageReceived", before, 2);

        await sendOverRest(stack, alice, bob, "hello over rest");
        const delivered = [];
        for (const received of [toBob, toAlice]) {
          const { data, errors } = await received.next();
          assert.equal(errors, undefined);
          delivered.push(data.messageReceived);
        }
        // The same message as a poll reads it: the same id, fields and time.
        const chat = await graphql(
          stack.graphqlUrl,
          "query ($with: ID!) { chat(withUserId: $with) { id fromUserId toUserId content createdAt } }",
          { with: String(alice.userId) },
          { token: bob.token },
        );
        assert.equal(chat.data.chat.length, 1);
        assert.deepEqual(delivered, [chat.data.chat[0], chat.data.chat[0]]);
        assert.equal(delivered[0].content, "hello over rest");
        assert.equal(delivered[0].fromUserId, String(alice.userId));
        assert.ok(
          (await readMetric(stack.metricsUrl("gateway"), "subscription_events_delivered_total", { field: "messageReceived" })) >= 2,
        );
      } finally {
        await bobClient.dispose();
        await aliceOtherDevice.dispose();
      }
    });

    it("with fromUserId, delivers only that conversation (GraphQL sends), in the order sent", async () => {
      const [alice, bob, carol] = [await register(stack), await register(stack), await register(stack)];
      const client = liveClient(stack, bob.token);
      try {
        const before = await activeSubscriptions(stack.metricsUrl("gateway"), "messageReceived");
        const withAlice = new Received<any>(client, MESSAGE_RECEIVED, { from: String(alice.userId) });
        await untilSubscribed(stack.metricsUrl("gateway"), "messageReceived", before);

        await sendOverGraphql(stack, carol, bob, "not from alice");
        const first = await sendOverGraphql(stack, alice, bob, "one");
        await sendOverGraphql(stack, bob, carol, "bob to carol");
        const second = await sendOverGraphql(stack, bob, alice, "two, from bob's phone");
        assert.equal((await withAlice.next()).data.messageReceived.id, first);
        const own = (await withAlice.next()).data.messageReceived;
        assert.equal(own.id, second);
        assert.equal(own.fromUserId, String(bob.userId));
        await sendOverGraphql(stack, alice, bob, "three");
        assert.equal((await withAlice.next()).data.messageReceived.content, "three");
        assert.equal(withAlice.pending, 0, "carol's messages never arrive on the conversation with alice");
      } finally {
        await client.dispose();
      }
    });

    it("delivers a video's new counts after a like and a comment are applied, and refuses an unknown video", async () => {
      const [author, fan] = [await register(stack), await register(stack)];
      const videoId = await seedVideo(stack, author.userId);
      const client = liveClient(stack, author.token);
      try {
        const before = await activeSubscriptions(stack.metricsUrl("gateway"), "videoCounts");
        const counts = new Received<any>(client, VIDEO_COUNTS, { id: String(videoId) });
        await untilSubscribed(stack.metricsUrl("gateway"), "videoCounts", before);

        const like = await legacy(
          stack,
          "/douyin/favorite/action/",
          { token: fan.token, video_id: videoId, action_type: 1 },
          { method: "POST" },
        );
        assert.equal(like.body.status_code, 0, like.text);
        assert.deepEqual((await counts.next()).data.videoCounts, { videoId: String(videoId), favoriteCount: 1, commentCount: 0 });
        const comment = await graphql(
          stack.graphqlUrl,
          'mutation ($id: ID!) { addComment(videoId: $id, content: "live!") { id } }',
          { id: String(videoId) },
          { token: fan.token },
        );
        assert.equal(comment.errors, undefined);
        assert.deepEqual((await counts.next()).data.videoCounts, { videoId: String(videoId), favoriteCount: 1, commentCount: 1 });

        const unknown = new Received<any>(client, VIDEO_COUNTS, { id: "999999999" });
        const refused = await unknown.next();
        assert.equal(refused.errors?.[0]?.extensions?.code, "NOT_FOUND");
      } finally {
        await client.dispose();
      }
    });
  });
}

describe("live events across replicas", () => {
  let stack: Stack;
  let replica: Replica;
  before(async () => {
    stack = await startStack();
    replica = await startReplica(stack);
  });
  after(async () => {
    await replica?.close();
    await stack?.close();
  });

  it("a message sent to one replica reaches a subscriber on the other, and a logout there closes its socket", async () => {
    const [alice, bob] = [await register(stack), await register(stack)];
    const live = await LiveSocket.connect(stack, bob.token);
    try {
      const before = await activeSubscriptions(stack.metricsUrl("gateway"), "messageReceived");
      live.subscribe("1", MESSAGE_RECEIVED);
      await untilSubscribed(stack.metricsUrl("gateway"), "messageReceived", before);

      await sendOverGraphql(replica, alice, bob, "from the other replica");
      const next = await live.nextMessage();
      assert.equal(next.type, "next");
      assert.equal(next.payload.data.messageReceived.content, "from the other replica");

      // Bob logs out on the other replica (another device of his session, say): this socket hears it.
      const logout = await graphql(replica.graphqlUrl, "mutation { logout }", {}, { token: bob.token });
      assert.equal(logout.data?.logout, true);
      const closed = await live.closedWithin();
      assert.equal(closed.code, 4403);
      assert.match(closed.reason, /session ended/);
    } finally {
      live.close();
    }
  });
});

/** The slow consumer's flood: 8 MiB, more than a loopback connection's socket buffers hold. */
const EVENT_BYTES = 16 * 1024;
const BURST_EVENTS = 512;

/** Past the parser's GRAPHQL_MAX_TOKENS (2,000 by default). */
const LIMITS_TOKENS = 2_100;

describe("live connections: authentication and limits", () => {
  const LIMITS = {
    SUBSCRIPTIONS_PER_CONNECTION: 2,
    SUBSCRIPTION_CONNECTIONS_PER_USER: 2,
    SUBSCRIPTION_CONNECTIONS_PER_ADDRESS: 2,
    SUBSCRIPTION_PING_INTERVAL_MS: 250,
    SUBSCRIPTION_SESSION_CHECK_MS: 250,
    SUBSCRIPTION_INIT_TIMEOUT_MS: 1000,
    SUBSCRIPTION_MAX_BUFFERED_BYTES: 64 * 1024,
  };
  let stack: Stack;
  let addresses = 0;
  /** A client address of its own (the stack trusts X-Forwarded-For), so per-address limits stay per test. */
  const from = () => ({ "x-forwarded-for": `203.0.113.${++addresses}` });
  const closedFor = (reason: string) => readMetric(stack.metricsUrl("gateway"), "subscription_connections_closed_total", { reason });

  before(async () => {
    stack = await startStack({
      ...Object.fromEntries(Object.entries(LIMITS).map(([key, value]) => [key, String(value)])),
      TRUST_PROXY: "true",
    });
  });
  after(async () => {
    await stack?.close();
  });

  it("refuses a connection without a token (4401) and with a bad or logged-out one (4403), saying why", async () => {
    const anonymous = await LiveSocket.open(stack, { headers: from() });
    anonymous.send({ type: "connection_init", payload: {} });
    const noToken = await anonymous.closedWithin();
    assert.equal(noToken.code, 4401);
    assert.match(noToken.reason, /authorization/);

    const forged = await LiveSocket.open(stack, { headers: from() });
    forged.send({ type: "connection_init", payload: { Authorization: "Bearer not-a-token" } });
    assert.deepEqual(await forged.closedWithin(), { code: 4403, reason: "Forbidden: invalid token" });

    const account = await register(stack);
    await graphql(stack.graphqlUrl, "mutation { logout }", {}, { token: account.token });
    await assert.rejects(LiveSocket.connect(stack, account.token, { headers: from() }), /4403.*session ended/);

    const silent = await LiveSocket.open(stack, { headers: from() });
    assert.equal((await silent.closedWithin()).code, 4408, "connection_init must come within SUBSCRIPTION_INIT_TIMEOUT_MS");
    assert.ok((await closedFor("unauthenticated")) >= 1);
    assert.ok((await closedFor("forbidden")) >= 2);
  });

  it("answers a subscription over HTTP with 400 and a query over WebSocket with an error, not a crash", async () => {
    const account = await register(stack);
    const overHttp = await graphql(stack.graphqlUrl, MESSAGE_RECEIVED, {}, { token: account.token });
    assert.equal(overHttp.httpStatus, 400);
    assert.match(overHttp.errors?.[0]?.message ?? "", /WebSocket/);

    const live = await LiveSocket.connect(stack, account.token, { headers: from() });
    try {
      live.subscribe("q", "{ me { id } }");
      const error = await live.nextMessage();
      assert.equal(error.type, "error");
      assert.equal(error.payload[0].extensions.code, "BAD_REQUEST");
      assert.match(error.payload[0].message, /only subscriptions/);
      live.subscribe("bad", "subscription { messageReceived { nope } }");
      const invalid = await live.nextMessage();
      assert.equal(invalid.type, "error");
      assert.equal(invalid.payload[0].extensions.code, "GRAPHQL_VALIDATION_FAILED");
      assert.match(invalid.payload[0].message, /nope/);
      live.subscribe("huge", `subscription { messageReceived { ${"id ".repeat(LIMITS_TOKENS)} } }`);
      const tooLong = await live.nextMessage();
      assert.equal(tooLong.payload[0].extensions.code, "GRAPHQL_PARSE_FAILED");
    } finally {
      live.close();
    }
  });

  it("closes the socket when the session is logged out or expires", async () => {
    const account = await register(stack);
    const live = await LiveSocket.connect(stack, account.token, { headers: from() });
    await graphql(stack.graphqlUrl, "mutation { logout }", {}, { token: account.token });
    assert.equal((await live.closedWithin()).code, 4403);

    // Expiry: the session's key leaves Redis when its sliding TTL runs out; the periodic check notices.
    const other = await register(stack);
    const expiring = await LiveSocket.connect(stack, other.token, { headers: from() });
    const sessionId = JSON.parse(Buffer.from(other.token.split(".")[1]!, "base64url").toString()).sid as string;
    const redis = new Redis(stack.config.redis.url);
    try {
      assert.equal(await redis.del(`${stack.config.redis.prefix}:session:${sessionId}`), 1);
    } finally {
      redis.disconnect();
    }
    const closed = await expiring.closedWithin();
    assert.equal(closed.code, 4403);
    assert.match(closed.reason, /session ended/);
    assert.ok((await closedFor("session-ended")) >= 2);
  });

  it("holds at most SUBSCRIPTIONS_PER_CONNECTION subscriptions on one connection", async () => {
    const account = await register(stack);
    const live = await LiveSocket.connect(stack, account.token, { headers: from() });
    const metricsUrl = stack.metricsUrl("gateway");
    // The earlier tests' subscriptions may still be ending: count from a settled figure.
    let before = -1;
    await eventually(async () => before === (before = await activeSubscriptions(metricsUrl, "messageReceived")), "a settled count");
    try {
      live.subscribe("1", MESSAGE_RECEIVED);
      live.subscribe("2", MESSAGE_RECEIVED);
      await untilSubscribed(metricsUrl, "messageReceived", before, 2);
      live.subscribe("3", MESSAGE_RECEIVED);
      const refused = await live.nextMessage();
      assert.equal(refused.id, "3");
      assert.equal(refused.type, "error");
      assert.equal(refused.payload[0].extensions.code, "FORBIDDEN");
      assert.match(refused.payload[0].message, /at most 2 subscriptions per connection/);
      // Completing one makes room again.
      live.send({ id: "1", type: "complete" });
      await eventually(async () => (await activeSubscriptions(metricsUrl, "messageReceived")) === before + 1, "the completed one gone");
      live.subscribe("4", MESSAGE_RECEIVED);
      await untilSubscribed(metricsUrl, "messageReceived", before + 1);
      assert.equal(live.pending, 0);
    } finally {
      live.close();
    }
  });

  it("holds at most SUBSCRIPTION_CONNECTIONS_PER_USER connections per user and per address (4429)", async () => {
    const account = await register(stack);
    const address = from();
    const open = [
      await LiveSocket.connect(stack, account.token, { headers: address }),
      await LiveSocket.connect(stack, account.token, { headers: from() }),
    ];
    try {
      await assert.rejects(LiveSocket.connect(stack, account.token, { headers: from() }), /4429.*for this user/);
      const other = await register(stack);
      open.push(await LiveSocket.connect(stack, other.token, { headers: address }));
      const third = await LiveSocket.open(stack, { headers: address });
      const refused = await third.closedWithin();
      assert.equal(refused.code, 4429);
      assert.match(refused.reason, /from this address \(at most 2\)/);
      // A connection that ends gives its place back.
      open.shift()!.close();
      await eventually(
        async () =>
          LiveSocket.connect(stack, account.token, { headers: address }).then(
            (live) => (open.push(live), true),
            () => false,
          ),
        "a place freed",
      );
      assert.ok((await closedFor("connections-per-user")) >= 1);
      assert.ok((await closedFor("connections-per-address")) >= 1);
    } finally {
      for (const live of open) live.close();
    }
  });

  it("cuts a peer that stops answering pings", async () => {
    const account = await register(stack);
    const before = await closedFor("dead-peer");
    const deaf = await LiveSocket.connect(stack, account.token, { headers: from(), autoPong: false });
    assert.equal((await deaf.closedWithin()).code, 1006, "cut, not closed: a dead peer would not answer a close");
    assert.equal(await closedFor("dead-peer"), before + 1);
  });

  it("cuts a slow consumer instead of buffering without bound", async () => {
    const account = await register(stack);
    const slow = await LiveSocket.connect(stack, account.token, { headers: from() });
    const running = await activeSubscriptions(stack.metricsUrl("gateway"), "messageReceived");
    slow.subscribe("1", MESSAGE_RECEIVED);
    await untilSubscribed(stack.metricsUrl("gateway"), "messageReceived", running);
    const [before, deadBefore] = [await closedFor("slow-consumer"), await closedFor("dead-peer")];
    // The client stops reading; events keep coming (published as the relation subgraph does).
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const redis = new Redis(stack.config.redis.url);
    const publisher = new RedisLivePublisher(redis, stack.config.redis.prefix, createLogger(stack.config, "test"));
    const content = "x".repeat(EVENT_BYTES);
    try {
      // More than socket buffers hold, at once (a paused reader answers no pings either: it is
      // cut as a dead peer within two ping intervals if this were slower).
      for (let i = 0; i < BURST_EVENTS; i++) {
        publisher.publish(messagesTopic(account.userId), {
          id: String(i),
          fromUserId: "1",
          toUserId: String(account.userId),
          content,
          createdAt: new Date().toISOString(),
        });
      }
      await eventually(async () => (await closedFor("slow-consumer")) === before + 1, "the slow consumer cut");
      assert.equal(await closedFor("dead-peer"), deadBefore);
    } finally {
      redis.disconnect();
      slow.close();
    }
  });
});
