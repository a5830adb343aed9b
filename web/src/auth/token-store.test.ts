// The token: kept across reloads, and dropped when the server no longer accepts it.
import { ApolloLink } from "@apollo/client/link";
import { ServerError } from "@apollo/client/errors";
import { execute } from "@apollo/client/link";
import { ApolloClient, InMemoryCache } from "@apollo/client";
import { firstValueFrom, Observable } from "rxjs";
import { describe, expect, it } from "vitest";
import { createAuthLink } from "../apollo/auth-link";
import { ViewerDocument } from "./session";
import { createTokenStore } from "./token-store";

describe("the token store", () => {
  it("keeps the token in storage, so a new page (a reload) finds it", () => {
    const first = createTokenStore(localStorage, "douyin.token");
    first.set("abc");
    expect(createTokenStore(localStorage, "douyin.token").get()).toBe("abc");
    first.clear();
    expect(createTokenStore(localStorage, "douyin.token").get()).toBeNull();
  });

  it("tells subscribers of every change, including one made in another tab", () => {
    const store = createTokenStore(localStorage, "douyin.token", window);
    let calls = 0;
    const stop = store.subscribe(() => calls++);
    store.set("abc");
    window.dispatchEvent(new StorageEvent("storage", { key: "douyin.token" }));
    window.dispatchEvent(new StorageEvent("storage", { key: "something-else" }));
    stop();
    store.clear();
    expect(calls).toBe(2);
  });

  it("clears only the token a refusal was about", () => {
    const store = createTokenStore(localStorage, "douyin.token");
    store.set("new");
    store.clearIf("old");
    expect(store.get()).toBe("new");
    store.clearIf("new");
    expect(store.get()).toBeNull();
  });

  it("falls back to memory when storage throws", () => {
    const broken = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
      removeItem: () => undefined,
    } as unknown as Storage;
    const store = createTokenStore(broken, "douyin.token");
    store.set("abc");
    expect(store.get()).toBe("abc");
  });
});

describe("the auth link", () => {
  const client = new ApolloClient({ cache: new InMemoryCache(), link: ApolloLink.empty() });

  function run(
    tokens: ReturnType<typeof createTokenStore>,
    answer: (operation: ApolloLink.Operation) => ApolloLink.Result | Error,
    context = {},
  ) {
    let seen: ApolloLink.Operation | undefined;
    const server = new ApolloLink(
      (operation) =>
        new Observable((observer) => {
          seen = operation;
          const result = answer(operation);
          if (result instanceof Error) observer.error(result);
          else {
            observer.next(result);
            observer.complete();
          }
        }),
    );
    const link = createAuthLink(tokens).concat(server);
    const outcome = firstValueFrom(execute(link, { query: ViewerDocument, context }, { client })).catch((error: unknown) => error);
    return outcome.then((result) => ({ result, headers: seen?.getContext().headers as Record<string, string> | undefined }));
  }

  it("sends the token as a Bearer authorization header", async () => {
    const tokens = createTokenStore(undefined, "t");
    tokens.set("abc");
    const { headers } = await run(tokens, () => ({ data: { me: null } }));
    expect(headers?.authorization).toBe("Bearer abc");
    expect(tokens.get()).toBe("abc");
  });

  it("drops the token when the server answers UNAUTHENTICATED for it", async () => {
    const tokens = createTokenStore(undefined, "t");
    tokens.set("expired");
    await run(tokens, () => ({
      data: { me: null },
      errors: [{ message: "token expired, please log in again", extensions: { code: "UNAUTHENTICATED" } }],
    }));
    expect(tokens.get()).toBeNull();
  });

  it("drops the token on an HTTP 401", async () => {
    const tokens = createTokenStore(undefined, "t");
    tokens.set("revoked");
    await run(
      tokens,
      () =>
        new ServerError("Response not successful: Received status code 401", { response: new Response("", { status: 401 }), bodyText: "" }),
    );
    expect(tokens.get()).toBeNull();
  });

  it("keeps the token for other failures", async () => {
    const tokens = createTokenStore(undefined, "t");
    tokens.set("abc");
    await run(tokens, () => ({ data: null, errors: [{ message: "video 1 not found", extensions: { code: "NOT_FOUND" } }] }));
    await run(tokens, () => new TypeError("Failed to fetch"));
    expect(tokens.get()).toBe("abc");
  });

  it("sends nothing and clears nothing for anonymous operations (a wrong password on the login form)", async () => {
    const tokens = createTokenStore(undefined, "t");
    tokens.set("abc");
    const { headers } = await run(
      tokens,
      () => ({ data: null, errors: [{ message: "wrong username or password", extensions: { code: "UNAUTHENTICATED" } }] }),
      { anonymous: true },
    );
    expect(headers?.authorization).toBeUndefined();
    expect(tokens.get()).toBe("abc");
  });
});
