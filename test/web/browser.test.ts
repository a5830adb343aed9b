// The web client in a real browser against the real stack: two people sign up, one publishes a
// generated MP4 and watches it play in the feed, the other likes, comments and follows; they
// become friends and chat live over the WebSocket (by polling where it cannot connect), each
// message seen exactly once, and a watched video's counts move as others comment. Screens go to
// test-results/web/.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import { after, before, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { uniqueName } from "../client";
import { makeTextFile, makeVideo, removeMedia } from "../media";
import { activeSubscriptions } from "../live";
import { startStack, type Stack } from "../stack";
import {
  assertPrerequisites,
  DESKTOP,
  eventuallyAfterReload,
  JS_BUDGET_BYTES,
  launchChromium,
  measureFirstLoad,
  openPerson,
  recordCspViolations,
  waitInPage,
  PHONE,
  screenshot,
  TOKEN_STORAGE_KEY,
  type Person,
} from "./browser";

/** Small enough that the refused-file case uploads little; the test video is far below it. */
const MAX_UPLOAD_BYTES = 1_000_000;
const PASSWORD = "secret-pass1";

let stack: Stack;
let browser: Browser;
let appUrl: string;

before(async () => {
  assertPrerequisites();
  stack = await startStack({ MEDIA_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) });
  browser = await launchChromium();
  appUrl = new URL("/", stack.graphqlUrl).toString();
});

after(async () => {
  await browser?.close();
  await stack?.close();
  removeMedia();
});

/** The web client's LIVE_SETTLE_MS (web/src/config.ts): its last catch-up poll comes this long after connecting. */
const LIVE_SETTLE_MS = 1000;
/** Slack for that poll's answer. */
const POLL_ANSWER_MS = 1000;

/** Waits until `check` holds (an answer on screen, a moment passed), failing after a while. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What a page says over its WebSocket and how it polls its conversations. */
function watchTraffic(page: Page) {
  const frames: { at: number; text: string }[] = [];
  const sent: { at: number; text: string }[] = [];
  const chatPolls: number[] = [];
  page.on("websocket", (socket) => {
    socket.on("framereceived", ({ payload }) => frames.push({ at: Date.now(), text: String(payload) }));
    socket.on("framesent", ({ payload }) => sent.push({ at: Date.now(), text: String(payload) }));
  });
  page.on("request", (request) => {
    if (!request.url().endsWith("/graphql") || request.method() !== "POST") return;
    if ((JSON.parse(request.postData() ?? "{}") as { operationName?: string }).operationName === "Chat") chatPolls.push(Date.now());
  });
  return {
    /** When the server last acknowledged a live connection (waiting for one). */
    async acknowledged(): Promise<number> {
      await until(async () => frames.some((frame) => frame.text.includes('"connection_ack"')), "a live connection");
      return frames.filter((frame) => frame.text.includes('"connection_ack"')).at(-1)!.at;
    },
    /** When the page last subscribed to `operation` on an acknowledged connection (waiting for it). */
    async subscribed(operation: string): Promise<number> {
      const last = () =>
        sent.filter((frame) => frame.text.includes('"type":"subscribe"') && frame.text.includes(`"operationName":"${operation}"`)).at(-1);
      await until(async () => last() !== undefined, `a ${operation} subscription`);
      return Math.max(last()!.at, await this.acknowledged());
    },
    delivered: (text: string) => frames.some((frame) => frame.text.includes('"type":"next"') && frame.text.includes(text)),
    chatPollsSince: (since: number) => chatPolls.filter((at) => at >= since),
  };
}

const storedToken = (page: Page) => page.evaluate(`localStorage.getItem(${JSON.stringify(TOKEN_STORAGE_KEY)})`) as Promise<string | null>;
const slide = (page: Page) => page.locator('.slide[aria-current="true"]');
const likeCount = (page: Page) => slide(page).getByTestId("like-count");

async function signUp(person: Person): Promise<void> {
  const { page } = person;
  await page.goto("/signup");
  await page.getByLabel("Username").fill(person.name);
  await page.getByLabel("Password").fill(PASSWORD);
  await screenshot(person, "signup");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  // The navigation names the viewer once the token works.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: person.name }).waitFor();
}

async function logIn(person: Person): Promise<void> {
  const { page } = person;
  await page.goto("/login");
  await page.getByLabel("Username").fill(person.name);
  await page.getByLabel("Password").fill(PASSWORD);
  await screenshot(person, "login");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: person.name }).waitFor();
}

async function myId(person: Person): Promise<string> {
  await person.page.goto("/me");
  await person.page.waitForURL(/\/users\/\d+$/);
  return new URL(person.page.url()).pathname.split("/")[2]!;
}

/** Publishes through the gateway as any GraphQL client would (the multipart request spec). */
async function publishDirectly(token: string, file: string, title: string): Promise<void> {
  const form = new FormData();
  const query = "mutation ($file: Upload!, $title: String!) { publishVideo(file: $file, title: $title) { id } }";
  form.set("operations", JSON.stringify({ query, variables: { file: null, title } }));
  form.set("map", JSON.stringify({ 0: ["variables.file"] }));
  form.set("0", await fs.openAsBlob(file, { type: "video/mp4" }), "clip.mp4");
  const response = await fetch(stack.graphqlUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "apollo-require-preflight": "true" },
    body: form,
  });
  const body = (await response.json()) as { data?: { publishVideo?: { id: string } }; errors?: unknown };
  assert.ok(body.data?.publishVideo?.id, JSON.stringify(body.errors));
}

async function publish(person: Person, file: string, title: string): Promise<void> {
  const { page } = person;
  await page.goto("/publish");
  await page.getByLabel("Video file").setInputFiles(file);
  await page.getByLabel("Title").fill(title);
  await page.getByRole("button", { name: "Publish" }).click();
}

test("two people use the web client end to end, on a phone and a desktop", { timeout: 180_000 }, async (t) => {
  const alice = await openPerson(browser, appUrl, uniqueName("alice"), PHONE);
  const bob = await openPerson(browser, appUrl, uniqueName("bob"), DESKTOP);
  const traffic = new Map([alice, bob].map((person) => [person, watchTraffic(person.page)]));
  let aliceId = "";
  let bobId = "";
  let coverUrl = "";

  await t.test("the empty feed, then signing up keeps the token across a reload", async () => {
    await alice.page.goto("/");
    await alice.page.getByText("No videos yet.").waitFor();
    await screenshot(alice, "feed-empty");
    await signUp(alice);
    await signUp(bob);
    assert.ok(await storedToken(alice.page), "the token is stored");
    await alice.page.reload();
    await alice.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: alice.name }).waitFor();
    aliceId = await myId(alice);
    bobId = await myId(bob);
  });

  await t.test("the web client runs under its Content-Security-Policy, which blocks what it must", async () => {
    const context = await browser.newContext({ ...PHONE, baseURL: appUrl });
    const violations = await recordCspViolations(context);
    try {
      const page = await context.newPage();
      const loaded = await page.goto("/");
      const policy = (await loaded!.allHeaders())["content-security-policy"] ?? "";
      assert.match(policy, /script-src 'self'/, "the page came with its policy");
      await page.getByText("No videos yet.").waitFor();
      // A WebSocket to the page's own /graphql (subscriptions): CSP3's 'self' allows ws: to the same host and port.
      const opened = await page.evaluate(`new Promise((resolve) => {
        try {
          const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/graphql", "graphql-transport-ws");
          socket.onopen = socket.onerror = socket.onclose = () => resolve("attempted");
        } catch (error) {
          resolve("refused: " + error.message);
        }
      })`);
      assert.equal(opened, "attempted");
      await page.waitForTimeout(300);
      assert.deepEqual(violations, [], "the feed and a same-origin WebSocket break no rule");
      // What the policy is for: an injected inline script does not run, and the breach is reported.
      await page.evaluate(`(() => {
        const script = document.createElement("script");
        script.textContent = "window.__injectedRan = true";
        document.body.append(script);
      })()`);
      await page.waitForTimeout(300);
      assert.equal(await page.evaluate("window.__injectedRan === true"), false, "the injected script did not run");
      assert.ok(
        (violations as string[]).some((violation) => violation.startsWith("script-src")),
        `the breach was reported: ${JSON.stringify(violations)}`,
      );
    } finally {
      await context.close();
    }
  });

  await t.test("publishing refuses a file that is not a video and one that is too large, in words", async () => {
    await publish(alice, makeTextFile("notes.mp4"), "not a video");
    await alice.page
      .getByRole("alert")
      .filter({ hasText: /not a playable video/ })
      .waitFor();
    await screenshot(alice, "publish-refused");
    const oversized = makeTextFile("big.mp4");
    fs.writeFileSync(oversized, randomBytes(MAX_UPLOAD_BYTES + 4096));
    await publish(alice, oversized, "too big");
    await alice.page
      .getByRole("alert")
      .filter({ hasText: /too large/ })
      .waitFor();
  });

  await t.test("publishing a video shows the upload's progress, then the video with its cover", async () => {
    const { page } = alice;
    await publish(alice, makeVideo("clip.mp4", { seconds: 4, width: 360, height: 640 }), "my first clip");
    await page.getByLabel("Upload progress").waitFor();
    await screenshot(alice, "publish-progress");
    await page.waitForURL(/\/videos\/\d+$/, { timeout: 60_000 });
    coverUrl = (await page.locator("video").getAttribute("poster")) ?? "";
    assert.match(coverUrl, /^http.*\.jpg$/, "the cover is the poster");
    const cover = await fetch(coverUrl);
    assert.equal(cover.status, 200);
    assert.equal(cover.headers.get("content-type"), "image/jpeg");
    await screenshot(alice, "video");
  });

  await t.test("the feed plays the new video: the cover until it plays, then currentTime advances", async () => {
    const { page } = alice;
    await page.goto("/");
    await slide(page).getByText("my first clip").waitFor();
    assert.equal(await slide(page).locator("video").getAttribute("poster"), coverUrl, "the cover shows until the video plays");
    await waitInPage(
      page,
      `(() => { const video = document.querySelector('.slide[aria-current="true"] video'); return video && !video.paused && video.currentTime > 0.5; })()`,
      20_000,
    );
    await screenshot(alice, "feed");
  });

  await t.test("a video and its cover opened on their own show, under the media server's CSP", async () => {
    const playUrl = (await slide(alice.page).locator("video").getAttribute("src")) ?? "";
    assert.match(playUrl, /^http.*\.mp4$/);
    const context = await browser.newContext({ ...DESKTOP });
    const violations = await recordCspViolations(context);
    try {
      const page = await context.newPage();
      const video = await page.goto(playUrl);
      assert.match((await video!.allHeaders())["content-security-policy"] ?? "", /sandbox/);
      await waitInPage(page, `(() => { const video = document.querySelector("video"); return !!video && video.videoWidth > 0; })()`);
      await page.goto(coverUrl);
      await waitInPage(page, `(() => { const image = document.querySelector("img"); return !!image && image.naturalWidth > 0; })()`);
      assert.deepEqual(violations, []);
    } finally {
      await context.close();
    }
  });

  await t.test("a like counts at once, before the server answers, and stays after a reload on both screens", async () => {
    const { page } = bob;
    await page.goto("/");
    await slide(page).getByText("my first clip").waitFor();
    assert.equal(await likeCount(page).textContent(), "0");
    // Hold the like on its way so the count seen is the optimistic one.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route("**/graphql", async (route) => {
      if (route.request().postData()?.includes("LikeVideo")) await held;
      await route.continue();
    });
    const answered = page.waitForResponse((response) => response.request().postData()?.includes("LikeVideo") ?? false);
    await slide(page).getByRole("button", { name: "Like" }).click();
    assert.equal(await likeCount(page).textContent(), "1", "optimistic count");
    assert.equal(await slide(page).getByRole("button", { name: "Like" }).getAttribute("aria-pressed"), "true");
    release();
    await answered;
    await page.unroute("**/graphql");
    assert.equal(await likeCount(page).textContent(), "1", "the answer keeps the count");
    await eventuallyAfterReload(
      page,
      async () => (await likeCount(page).textContent({ timeout: 10_000 })) === "1",
      "bob's count after reload",
    );
    assert.equal(await slide(page).getByRole("button", { name: "Like" }).getAttribute("aria-pressed"), "true");
    await eventuallyAfterReload(
      alice.page,
      async () => (await likeCount(alice.page).textContent({ timeout: 10_000 })) === "1",
      "alice's count after reload",
    );
  });

  await t.test("comments: newest first, added and deleted by their author, seen by the other person", async () => {
    const { page } = bob;
    await slide(page).getByRole("button", { name: "Comments" }).click();
    const drawer = page.getByRole("dialog", { name: "Comments" });
    await drawer.getByText("No comments yet.").waitFor();
    for (const text of ["nice clip", "typo, delete me"]) {
      await drawer.getByLabel("Comment", { exact: true }).fill(text);
      await drawer.getByRole("button", { name: "Post" }).click();
      await drawer.getByTestId("comment").filter({ hasText: text }).waitFor();
    }
    assert.deepEqual(
      await drawer.getByTestId("comment").locator(".comment-text").allTextContents(),
      ["typo, delete me", "nice clip"],
      "newest first",
    );
    await screenshot(bob, "comments");
    await drawer.getByTestId("comment").filter({ hasText: "typo" }).getByRole("button", { name: "Delete comment" }).click();
    await drawer.getByTestId("comment").filter({ hasText: "typo" }).waitFor({ state: "detached" });
    await page.keyboard.press("Escape");
    await drawer.waitFor({ state: "detached" });

    await alice.page.reload();
    await slide(alice.page).getByRole("button", { name: "Comments" }).click();
    const hers = alice.page.getByRole("dialog", { name: "Comments" });
    await hers.getByTestId("comment").filter({ hasText: "nice clip" }).waitFor();
    assert.equal(await hers.getByTestId("comment").count(), 1);
    assert.equal(await hers.getByRole("button", { name: "Delete comment" }).count(), 0, "only the author may delete");
    await screenshot(alice, "comments");
    await alice.page.keyboard.press("Escape");
  });

  await t.test("following from the feed, and following back from the followers list", async () => {
    const { page } = bob;
    await slide(page)
      .getByRole("link", { name: `Profile of ${alice.name}` })
      .click();
    await page.waitForURL(new RegExp(`/users/${aliceId}$`));
    await page.getByRole("button", { name: `Follow ${alice.name}` }).click();
    await page.getByRole("button", { name: `Unfollow ${alice.name}` }).waitFor();
    assert.equal(await page.getByTestId("count-followers").locator("dd").textContent(), "1");
    await page.getByRole("list", { name: "Videos" }).getByRole("link", { name: "my first clip" }).waitFor();
    await screenshot(bob, "profile");

    await alice.page.goto(`/users/${aliceId}/followers`);
    const followers = alice.page.getByRole("list", { name: "Followers" });
    await followers.getByText(bob.name).waitFor();
    await screenshot(alice, "followers");
    await followers.getByRole("button", { name: `Follow ${bob.name}` }).click();
    await followers.getByRole("button", { name: `Unfollow ${bob.name}` }).waitFor();
    await alice.page.goto(`/users/${aliceId}/liked`);
    await alice.page.getByText("No liked videos yet.").waitFor();
    await bob.page.goto(`/users/${bobId}/liked`);
    await bob.page.getByRole("list", { name: "Liked videos" }).getByRole("link", { name: "my first clip" }).waitFor();
  });

  await t.test(
    "friends chat, live: each message arrives over the WebSocket without a reload, once, and nobody polls meanwhile",
    async () => {
      await bob.page.goto("/friends");
      await bob.page.getByTestId("friend").filter({ hasText: alice.name }).click();
      await bob.page.waitForURL(new RegExp(`/chat/${aliceId}$`));
      await bob.page.getByLabel("Message", { exact: true }).fill("hi alice");
      await bob.page.getByRole("button", { name: "Send" }).click();
      await bob.page.getByTestId("message").filter({ hasText: "hi alice" }).waitFor();

      await alice.page.goto("/friends");
      await alice.page
        .getByTestId("friend")
        .filter({ hasText: bob.name })
        .getByTestId("latest-message")
        .filter({ hasText: "hi alice" })
        .waitFor();
      await screenshot(alice, "friends");
      await alice.page.getByTestId("friend").filter({ hasText: bob.name }).click();
      await alice.page.getByTestId("message").filter({ hasText: "hi alice" }).waitFor();
      // Past both conversations' catch-up polls (at once and LIVE_SETTLE_MS after going live): from here on, only the socket.
      const liveAt = Math.max(...(await Promise.all([alice, bob].map((person) => traffic.get(person)!.subscribed("MessageReceived")))));
      await until(async () => Date.now() > liveAt + LIVE_SETTLE_MS + POLL_ANSWER_MS, "the catch-up polls done");
      const quietFrom = Date.now();
      await alice.page.getByLabel("Message", { exact: true }).fill("hi bob");
      await alice.page.getByRole("button", { name: "Send" }).click();
      // Bob's open conversation receives it as a subscription event.
      await bob.page.getByTestId("message").filter({ hasText: "hi bob" }).waitFor({ timeout: 5_000 });
      assert.ok(traffic.get(bob)!.delivered("hi bob"), "the message came over the WebSocket");
      await screenshot(alice, "live-chat");
      await screenshot(bob, "live-chat");
      // Longer than two polling intervals (CHAT_POLL_MS): a conversation that is live does not poll, and nothing repeats.
      await bob.page.waitForTimeout(5_000);
      for (const person of [alice, bob]) {
        assert.deepEqual(await person.page.getByTestId("message").locator("p").allTextContents(), ["hi alice", "hi bob"], person.name);
        assert.deepEqual(traffic.get(person)!.chatPollsSince(quietFrom), [], `${person.name} polled while live`);
      }
      await screenshot(alice, "chat");
      await screenshot(bob, "chat");
      await bob.page.goto("/friends");
      await bob.page.getByTestId("latest-message").filter({ hasText: "hi bob" }).waitFor();
      await screenshot(bob, "friends");
    },
  );

  await t.test("where the WebSocket cannot connect, the chat polls instead", async () => {
    // Bob on another device whose network lets no WebSocket through.
    const offline = await openPerson(browser, appUrl, bob.name, PHONE);
    const token = await storedToken(bob.page);
    await offline.context.addInitScript(`localStorage.setItem(${JSON.stringify(TOKEN_STORAGE_KEY)}, ${JSON.stringify(token)})`);
    await offline.page.routeWebSocket(/\/graphql$/, (socket) => socket.close({ code: 1011, reason: "no WebSockets here" }));
    const watched = watchTraffic(offline.page);
    try {
      await offline.page.goto(`/chat/${aliceId}`);
      await offline.page.getByTestId("message").filter({ hasText: "hi bob" }).waitFor();
      const since = Date.now();
      await alice.page.getByLabel("Message", { exact: true }).fill("are you there?");
      await alice.page.getByRole("button", { name: "Send" }).click();
      await offline.page.getByTestId("message").filter({ hasText: "are you there?" }).waitFor({ timeout: 10_000 });
      assert.ok(watched.chatPollsSince(since).length > 0, "it arrived by polling");
      assert.deepEqual(offline.pageErrors, []);
    } finally {
      await offline.context.close();
    }
  });

  await t.test("the watched video's counts change live when someone else comments", async () => {
    const { page } = alice;
    // Counts are announced once, to the subscriptions running then: first nobody watches a video
    // (profiles show grids, not slides), then alice's slide subscribes, and only once the
    // gateway runs that subscription (Redis confirmed its channel) does bob comment.
    const watched = () => activeSubscriptions(stack.metricsUrl("gateway"), "videoCounts");
    for (const person of [alice, bob]) await myId(person);
    await until(async () => (await watched()) === 0, "no video watched");
    await page.goto("/");
    await slide(page).getByText("my first clip").waitFor();
    const comments = slide(page).getByTestId("comment-count");
    assert.equal(await comments.textContent(), "1");
    await until(async () => (await watched()) === 1, "alice's slide subscribed to its counts");
    const feed = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ feed(limit: 1) { videos { id } } }" }),
    });
    const videoId = ((await feed.json()) as { data: { feed: { videos: { id: string }[] } } }).data.feed.videos[0]!.id;
    const token = (await storedToken(bob.page))!;
    const added = await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: 'mutation ($id: ID!) { addComment(videoId: $id, content: "live") { id } }',
        variables: { id: videoId },
      }),
    });
    const commentId = ((await added.json()) as { data: { addComment: { id: string } } }).data.addComment.id;
    await until(async () => (await comments.textContent()) === "2", "the comment count at 2 without a reload");
    await fetch(stack.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "mutation ($id: ID!) { deleteComment(commentId: $id) }", variables: { id: commentId } }),
    });
    await until(async () => (await comments.textContent()) === "1", "back to 1 without a reload");
  });

  await t.test("a network failure reads as a sentence with a retry that works", async () => {
    const { page } = bob;
    await page.route("**/graphql", (route) => route.abort("connectionrefused"));
    await page.goto("/");
    const problem = page.getByRole("alert").filter({ hasText: "Cannot reach the server" });
    await problem.waitFor();
    await screenshot(bob, "error");
    await page.unroute("**/graphql");
    await problem.getByRole("button", { name: "Retry" }).click();
    await slide(page).getByText("my first clip").waitFor();
  });

  await t.test("a token the server no longer accepts is dropped; logging out and in works", async () => {
    const { page } = bob;
    const sent = page.waitForRequest((request) => request.url().endsWith("/graphql"));
    await page.reload();
    assert.match((await sent).headers().authorization ?? "", /^Bearer \S+$/, "the token goes as Authorization: Bearer");
    await page.evaluate(`localStorage.setItem(${JSON.stringify(TOKEN_STORAGE_KEY)}, "not-a-valid-token")`);
    await page.reload();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Log in" }).waitFor();
    assert.equal(await storedToken(page), null, "cleared after the server refused it");
    await logIn(bob);

    await alice.page.goto(`/users/${aliceId}`);
    await alice.page.getByRole("button", { name: "Log out" }).click();
    await alice.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Log in" }).waitFor();
    assert.equal(await storedToken(alice.page), null);
    await alice.page.reload();
    await alice.page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Log in" }).waitFor();
  });

  await t.test("arrow keys move through the feed, pausing what leaves the screen, and the next page loads as the end nears", async () => {
    const { page } = bob;
    const token = (await storedToken(page))!;
    // With the first video, one more than a feed page (FEED_PAGE_SIZE = 10 in web/src/config.ts).
    // One after another, so "clip 11" is the newest; each a different file, since the same file
    // again from the same author is the same publish.
    for (let i = 1; i <= 11; i++)
      await publishDirectly(token, makeVideo(`short-${i}.mp4`, { seconds: 1, width: 320 + 2 * i }), `clip ${i}`);
    const pages: unknown[] = [];
    page.on("request", (request) => {
      const body = request.url().endsWith("/graphql") ? JSON.parse(request.postData() ?? "{}") : {};
      if (body.operationName === "Feed") pages.push(body.variables?.latestTime ?? null);
    });
    await page.goto("/");
    await slide(page).getByText("clip 11").waitFor();
    for (let index = 1; index < 12; index++) {
      await page.keyboard.press("ArrowDown");
      await page.locator(`.slide[data-index="${index}"][aria-current="true"]`).waitFor();
    }
    await slide(page).getByText("my first clip").waitFor();
    await page.getByText("You have seen every video.").waitFor();
    assert.equal(await page.locator(".slide").count(), 12);
    assert.equal(
      await page.evaluate(`document.querySelector('.slide[data-index="0"] video').paused`),
      true,
      "a video out of view is paused",
    );
    const cursors = [...new Set(pages)];
    assert.equal(cursors[0], null, "the first page has no cursor");
    assert.ok(
      cursors.length >= 2 && cursors.slice(1).every((cursor) => typeof cursor === "string"),
      `later pages follow nextTime: ${JSON.stringify(cursors)}`,
    );
    await page.keyboard.press("ArrowUp");
    await page.locator('.slide[data-index="10"][aria-current="true"]').waitFor();
  });

  await t.test("the first load of the feed stays within budget, using persisted queries", async () => {
    const hashes: unknown[] = [];
    const context = await browser.newContext({ ...PHONE, baseURL: appUrl });
    const page = await context.newPage();
    page.on("request", (request) => {
      if (request.url().endsWith("/graphql") && request.method() === "POST") hashes.push(JSON.parse(request.postData() ?? "{}"));
    });
    await page.goto("/");
    await slide(page).waitFor();
    await context.close();
    const feed = hashes.find((body: any) => body.operationName === "Feed") as any;
    assert.ok(feed?.extensions?.persistedQuery?.sha256Hash, "the feed query goes as a persisted query");
    assert.equal(feed.query, undefined, "a query the gateway has seen goes by hash alone");

    const phone = await measureFirstLoad(browser, appUrl, PHONE);
    const desktop = await measureFirstLoad(browser, appUrl, DESKTOP);
    for (const [device, load] of Object.entries({ phone, desktop })) {
      process.stdout.write(
        `# web budget (${device}): first load ${(load.javascriptBytes / 1024).toFixed(1)} kB of JavaScript (gzip) in ${load.scripts} files ` +
          `[budget ${JS_BUDGET_BYTES / 1024} kB]; feed interactive at ${load.feedReadyMs} ms, DOMContentLoaded at ${load.domContentLoadedMs} ms [target 2000 ms]\n`,
      );
      assert.ok(
        load.javascriptBytes > 0 && load.javascriptBytes < JS_BUDGET_BYTES,
        `${device}: ${load.javascriptBytes} bytes of JavaScript`,
      );
    }
  });

  await t.test("every screen on both viewports", async () => {
    await logIn(alice);
    const screens: [string, string][] = [
      ["feed", "/"],
      ["profile", `/users/${aliceId}`],
      ["following", `/users/${aliceId}/following`],
      ["publish", "/publish"],
      ["friends", "/friends"],
      ["chat", `/chat/${bobId}`],
    ];
    for (const device of [PHONE, DESKTOP]) {
      await alice.page.setViewportSize(device.viewport);
      for (const [name, path] of screens) {
        await alice.page.goto(path);
        await alice.page.locator(".spinner").first().waitFor({ state: "detached", timeout: 10_000 });
        // Covers and avatars finish loading.
        await alice.page.waitForTimeout(500);
        await screenshot({ ...alice, device }, `all-${name}`);
      }
    }
  });

  for (const person of [alice, bob]) {
    assert.deepEqual(person.pageErrors, [], `${person.name}'s page threw`);
    assert.deepEqual(person.cspViolations, [], `${person.name}'s pages broke their Content-Security-Policy`);
  }
  await alice.context.close();
  await bob.context.close();
});
