// Traces end to end, recorded by the real OpenTelemetry SDK into memory (tracing-memory.ts is
// imported first, as tracing-boot.ts is in a service): one trace per legacy request from the
// REST adapter through the gateway's query plan to each subgraph and its SQL, in the co-located
// and the split mode; a publish's media job inside the publish's trace; the counter drain a
// like wakes, linked to the like; a subscription's start, and each delivery linked to the send
// that published it. The request id a response carries is its trace id.
import { recordedSpans, traceSpans, formatTrace, type RecordedSpan } from "../platform/tracing-memory";
import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, describe, it } from "node:test";
import { SpanKind } from "@opentelemetry/api";
import { eventually, uniqueName } from "./client";
import { activeSubscriptions, LiveSocket, untilSubscribed } from "./live";
import { makeVideo, removeMedia } from "./media";
import { stackModes, startStack, type Stack } from "./stack";

let clip: string;
before(() => {
  clip = makeVideo("traced.mp4");
});
after(() => removeMedia());

/** A legacy call answered with its trace id (the x-request-id header). */
async function call(stack: Stack, method: "GET" | "POST", path: string, params: Record<string, string>, body?: FormData) {
  const url = new URL(path, stack.restUrl);
  if (!body) for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  const response = await fetch(url, { method, body });
  const json = (await response.json()) as Record<string, any>;
  assert.equal(json.status_code, 0, JSON.stringify(json));
  const traceId = response.headers.get("x-request-id") ?? "";
  assert.match(traceId, /^[0-9a-f]{32}$/, "with tracing on, the request id is the trace id");
  return { json, traceId };
}

/** A trace once its root span (the REST adapter's server span) has ended. */
async function wholeTrace(traceId: string): Promise<RecordedSpan[]> {
  // Spans end a moment after the answer is read.
  let spans: RecordedSpan[] = [];
  await eventually(async () => {
    spans = traceSpans(traceId);
    return spans.some(
      (span) => span.kind === SpanKind.SERVER && !spans.some((s) => s.spanContext().spanId === span.parentSpanContext?.spanId),
    );
  }, `the end of trace ${traceId}`);
  return spans;
}

/** Checks what every trace of a legacy request shares, and returns a way to walk it. */
function checkShape(spans: RecordedSpan[], route: string, operation: string) {
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  const parent = (span: RecordedSpan) => byId.get(span.parentSpanContext?.spanId ?? "");
  const roots = spans.filter((span) => !parent(span));
  const explain = `\n${formatTrace(spans)}`;
  assert.equal(roots.length, 1, `one trace with one root${explain}`);
  const [root] = roots;
  assert.equal(root!.kind, SpanKind.SERVER, `the root is the REST adapter's server span${explain}`);
  const target = String(root!.attributes["http.target"] ?? root!.attributes["url.path"] ?? "");
  assert.ok(target.startsWith(route), `the root is the request for ${route}, not ${target}${explain}`);
  const named = (name: string) => spans.filter((span) => span.name === name);
  const under = (span: RecordedSpan, ancestor: RecordedSpan): boolean => {
    for (let up = parent(span); up; up = parent(up)) if (up === ancestor) return true;
    return false;
  };
  const routeSpan = spans.find((span) => span.name === "request" && span.attributes["http.route"] === route);
  assert.ok(routeSpan, `Fastify's span for ${route}${explain}`);
  const [request] = named("gateway.request").filter((span) => span.attributes["graphql.operation.name"] === operation);
  assert.ok(request, `the gateway's span for ${operation}${explain}`);
  assert.ok(
    named("gateway.plan").some((plan) => under(plan, request!)),
    `the query plan${explain}`,
  );
  const fetches = named("gateway.fetch").filter((fetch) => under(fetch, request!));
  /** The fetch to one subgraph, and the subgraph's own operation span under it. */
  const fetchTo = (subgraph: string) => {
    const fetch = fetches.find((span) => span.attributes["service"] === subgraph);
    assert.ok(fetch, `a fetch to ${subgraph}${explain}`);
    const execution = spans.find(
      (span) => /^(query|mutation) /.test(span.name) && span.name.includes(`__${subgraph}__`) && under(span, fetch!),
    );
    assert.ok(execution, `${subgraph} executes its part of the plan inside the fetch${explain}`);
    return { fetch: fetch!, execution: execution! };
  };
  /** SQL statements (Prisma's and the pg driver's) a span led to. */
  const sqlUnder = (span: RecordedSpan) =>
    spans.filter((s) => (s.name === "prisma:client:db_query" || s.name.startsWith("pg.query")) && under(s, span));
  return { root: root!, spans, explain, fetchTo, sqlUnder, under, named };
}

for (const mode of stackModes(["colocated", "split"])) {
  describe(`traces (${mode})`, () => {
    let stack: Stack;
    let token: string;
    let userId: string;

    before(async () => {
      stack = await startStack({ COUNTER_KICK_DELAY_MS: "20" }, mode);
      const { json } = await call(stack, "POST", "/douyin/user/register/", { username: uniqueName("t"), password: "pw-traced" });
      token = json.token;
      userId = String(json.user_id);
    });
    after(() => stack?.close());

    it("follows a legacy user-info request from the REST adapter through the query plan to each subgraph's SQL", async () => {
      const { traceId } = await call(stack, "GET", "/douyin/user/", { user_id: userId, token });
      const trace = checkShape(await wholeTrace(traceId), "/douyin/user/", "LegacyUserById");
      for (const subgraph of ["user", "video", "relation"]) {
        const { fetch } = trace.fetchTo(subgraph);
        assert.ok(trace.sqlUnder(fetch).length > 0, `${subgraph} reads a fresh user's row with SQL${trace.explain}`);
      }
      if (mode === "split") {
        // Over the network: the gateway's client span, the subgraph's server span beneath it.
        const { fetch, execution } = trace.fetchTo("user");
        const client = trace.spans.find((span) => span.kind === SpanKind.CLIENT && trace.under(span, fetch));
        const server = trace.spans.find((span) => span.kind === SpanKind.SERVER && trace.under(span, client ?? fetch));
        assert.ok(client && server && trace.under(execution, server), `HTTP client -> subgraph server -> execution${trace.explain}`);
      }
    });

    it("puts a publish's media job inside the publish's trace, then traces the feed that lists it", async () => {
      const form = new FormData();
      form.set("token", token);
      form.set("title", "traced");
      form.set("data", new Blob([fs.readFileSync(clip)], { type: "video/mp4" }), "traced.mp4");
      const published = await call(stack, "POST", "/douyin/publish/action/", {}, form);
      const publish = checkShape(await wholeTrace(published.traceId), "/douyin/publish/action/", "LegacyPublish");
      const { execution } = publish.fetchTo("video");
      const added = publish.spans.find((span) => span.name.startsWith("add video-media") && publish.under(span, execution));
      assert.ok(added, `the media job is enqueued inside the publish${publish.explain}`);
      const processed = publish.spans.find((span) => span.name.startsWith("process video-media") && publish.under(span, added!));
      assert.ok(processed, `the worker's processing of the job is in the same trace${publish.explain}`);
      assert.ok(publish.sqlUnder(processed!).length > 0, `the worker writes the video row${publish.explain}`);

      const { traceId, json } = await call(stack, "GET", "/douyin/feed/", { token });
      assert.ok(json.video_list.length > 0);
      const feed = checkShape(await wholeTrace(traceId), "/douyin/feed/", "LegacyFeed");
      const video = feed.fetchTo("video");
      feed.fetchTo("user"); // the authors
      assert.ok(feed.sqlUnder(video.fetch).length > 0, `the first feed after a publish reads the videos with SQL${feed.explain}`);
    });

    it("traces a like, and links the counter drain it wakes back to it", async () => {
      const { json } = await call(stack, "GET", "/douyin/feed/", { token });
      const videoId = String(json.video_list[0].id);
      const { traceId } = await call(stack, "POST", "/douyin/favorite/action/", { token, video_id: videoId, action_type: "1" });
      const like = checkShape(await wholeTrace(traceId), "/douyin/favorite/action/", "LegacyLike");
      const { execution } = like.fetchTo("video");
      assert.ok(like.sqlUnder(execution).length > 0, `the like is written with SQL${like.explain}`);
      let drain: RecordedSpan | undefined;
      await eventually(async () => {
        drain = recordedSpans
          .getFinishedSpans()
          .find((span) => span.name === "video counters drain" && span.links.some((link) => link.context.traceId === traceId));
        return drain !== undefined;
      }, "a drain linked to the like");
      const drainTrace = traceSpans(drain!.spanContext().traceId);
      assert.notEqual(drain!.spanContext().traceId, traceId, "the drain is a trace of its own (it serves many requests)");
      assert.ok(
        drainTrace.some(
          (span) => span.name === "prisma:client:db_query" && /UPDATE videos/i.test(String(span.attributes["db.query.text"] ?? "")),
        ),
        `the drain applies the like to the video's count${`\n${formatTrace(drainTrace)}`}`,
      );
    });

    it("traces a subscription's start, and links each delivery back to the send that published it", async () => {
      const recipient = (await call(stack, "POST", "/douyin/user/register/", { username: uniqueName("t"), password: "pw-traced" })).json;
      const live = await LiveSocket.connect(stack, recipient.token);
      try {
        const before = await activeSubscriptions(stack.metricsUrl("gateway"), "messageReceived");
        live.subscribe("1", "subscription { messageReceived { id content } }");
        await untilSubscribed(stack.metricsUrl("gateway"), "messageReceived", before);
        assert.ok(
          recordedSpans.getFinishedSpans().some((span) => span.name === "subscription messageReceived"),
          "a span for the subscription's start",
        );
        const { traceId } = await call(stack, "POST", "/douyin/message/action/", {
          token,
          to_user_id: String(recipient.user_id),
          action_type: "1",
          content: "traced",
        });
        assert.equal((await live.nextMessage()).payload.data.messageReceived.content, "traced");
        await eventually(
          async () =>
            recordedSpans
              .getFinishedSpans()
              .some(
                (span) =>
                  span.name === "subscription messageReceived delivery" && span.links.some((link) => link.context.traceId === traceId),
              ),
          "a delivery span linked to the send",
        );
      } finally {
        live.close();
      }
    });
  });
}
