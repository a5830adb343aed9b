// The live connection: the token it sends, the state screens follow, and a refused token forgotten.
import { ApolloClient } from "@apollo/client";
import { afterEach, describe, expect, it } from "vitest";
import { createTokenStore } from "../auth/token-store";
import { createApolloClient } from "./client";
import { MessageReceivedDocument as MessageReceived } from "../chat/ChatPage";
import { createLive, liveUrl } from "./live-link";
/** A server on the other end of the socket: what the client sent, and how to answer. */
class FakeSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  static opened: FakeSocket[] = [];
  readyState = FakeSocket.CONNECTING;
  readonly sent: { type: string; id?: string; payload?: { variables?: unknown } }[] = [];
  onopen?: () => void;
  onmessage?: (event: { data: string }) => void;
  onclose?: (event: { code: number; reason: string; wasClean: boolean }) => void;
  onerror?: (event: unknown) => void;

  constructor(
    readonly url: string,
    readonly protocol: string,
  ) {
    FakeSocket.opened.push(this);
    setTimeout(() => {
      this.readyState = FakeSocket.OPEN;
      this.onopen?.();
    });
  }

  send(data: string) {
    this.sent.push(JSON.parse(data));
  }

  reply(message: object) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  close(code = 1000, reason = "") {
    this.readyState = FakeSocket.CLOSED;
    this.onclose?.({ code, reason, wasClean: true });
  }
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(check()).toBe(true);
};

afterEach(() => {
  FakeSocket.opened = [];
});

function setup(token: string | null) {
  const tokens = createTokenStore(undefined, "test");
  if (token) tokens.set(token);
  const live = createLive(tokens, "ws://example.test/graphql", FakeSocket);
  const client: ApolloClient = createApolloClient(tokens, "http://example.test/graphql", live);
  return { tokens, live, client };
}

describe("the live connection", () => {
  it("opens a socket for a subscription, sends the token in connection_init, and is live once acknowledged", async () => {
    const { live, client } = setup("t1");
    expect(live.state()).toBe("idle");
    const received: unknown[] = [];
    const subscription = client
      .subscribe({ query: MessageReceived, variables: { fromUserId: "2" } })
      .subscribe((result) => received.push(result.data));
    await until(() => FakeSocket.opened.length === 1 && FakeSocket.opened[0]!.sent.length === 1);
    const socket = FakeSocket.opened[0]!;
    expect(socket.url).toBe("ws://example.test/graphql");
    expect(socket.protocol).toBe("graphql-transport-ws");
    expect(socket.sent[0]).toEqual({ type: "connection_init", payload: { authorization: "Bearer t1" } });
    expect(live.state()).toBe("connecting");
    socket.reply({ type: "connection_ack" });
    await until(() => socket.sent.length === 2);
    expect(live.state()).toBe("live");
    const subscribe = socket.sent[1]!;
    expect(subscribe.type).toBe("subscribe");
    expect(subscribe.payload?.variables).toEqual({ fromUserId: "2" });
    const message = {
      __typename: "Message",
      id: "9",
      fromUserId: "2",
      toUserId: "1",
      content: "hi",
      createdAt: "2026-12-01T00:00:00.000Z",
    };
    socket.reply({ id: subscribe.id, type: "next", payload: { data: { messageReceived: message } } });
    await until(() => received.length === 1);
    expect(received[0]).toEqual({ messageReceived: message });
    subscription.unsubscribe();
  });

  it("forgets a token the server refuses (4403) and is offline until it reconnects", async () => {
    const { tokens, live, client } = setup("stale");
    const subscription = client.subscribe({ query: MessageReceived, variables: {} }).subscribe(() => undefined);
    await until(() => FakeSocket.opened[0]?.sent.length === 1);
    FakeSocket.opened[0]!.close(4403, "Forbidden: session ended (logged out or expired), please log in again");
    await until(() => live.state() === "offline");
    expect(tokens.get()).toBeNull();
    subscription.unsubscribe();
  });
});

describe("the live URL", () => {
  it("is the page's own origin with ws: or wss:", () => {
    expect(liveUrl("/graphql", { href: "http://127.0.0.1:4000/chat/1" })).toBe("ws://127.0.0.1:4000/graphql");
    expect(liveUrl("/graphql", { href: "https://douyin.example/" })).toBe("wss://douyin.example/graphql");
  });
});
