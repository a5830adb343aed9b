// The gateway's subscription schema (fast tier): built from the composed API schema, every
// Subscription field served from live events, and payloads that a live event can carry whole.
import assert from "node:assert/strict";
import fs from "node:fs";
import { describe, it } from "node:test";
import { buildSchema, parse, subscribe, type ExecutionResult } from "graphql";
import { API_SCHEMA_FILE } from "../framework/supergraph";
import type { LiveEvent } from "../platform/live-events";
import { buildSubscriptionSchema } from "./subscriptions";

const apiSchema = buildSchema(fs.readFileSync(API_SCHEMA_FILE, "utf8"));

/** A subscription that delivers `events` and ends. */
const deliver = (events: unknown[]) => ({
  subscribe: async () =>
    (async function* () {
      for (const payload of events) yield { payload, publishedAt: Date.now(), bytes: 0 } satisfies LiveEvent<unknown>;
    })(),
});

describe("the subscription schema", () => {
  it("serves every Subscription field of the composed API schema from its events, selections and aliases as GraphQL does", async () => {
    const message = { id: "7", fromUserId: "1", toUserId: "2", content: "hi", createdAt: "2026-12-01T00:00:00.000Z" };
    const schema = buildSubscriptionSchema(apiSchema, { messageReceived: deliver([message]), videoCounts: deliver([]) });
    assert.deepEqual(Object.keys(schema.getSubscriptionType()!.getFields()).sort(), ["messageReceived", "videoCounts"]);
    const stream = (await subscribe({
      schema,
      document: parse("subscription { messageReceived { __typename text: content id } }"),
      contextValue: { signedIn: { userId: 2, sessionId: "s" } },
    })) as AsyncIterableIterator<ExecutionResult>;
    const first = await stream.next();
    assert.deepEqual(JSON.parse(JSON.stringify(first.value)), {
      data: { messageReceived: { __typename: "Message", text: "hi", id: "7" } },
    });
  });

  it("refuses to start when a Subscription field has no live events, or a payload field an event cannot carry", () => {
    assert.throws(
      () => buildSubscriptionSchema(apiSchema, { messageReceived: deliver([]) }),
      /Subscription\.videoCounts .* no live events/,
    );
    const federated = buildSchema(`
      type User { id: ID! name: String! }
      type Message { id: ID! from: User! }
      type Query { me: User }
      type Subscription { messageReceived: Message! }
    `);
    assert.throws(
      () => buildSubscriptionSchema(federated, { messageReceived: deliver([]) }),
      /returns Message, whose field from is not a scalar/,
    );
  });
});
