// Every failure becomes a sentence a person can act on.
import { CombinedGraphQLErrors, ServerError, ServerParseError } from "@apollo/client/errors";
import { describe, expect, it } from "vitest";
import { describeError } from "./errors";

const graphQLError = (code: string, message: string) =>
  new CombinedGraphQLErrors({ data: null, errors: [{ message, extensions: { code } }] });
const httpError = (status: number) =>
  new ServerError(`Received status code ${status}`, { response: new Response("", { status }), bodyText: "" });

describe("describeError", () => {
  it("shows the server's own words for the caller's mistakes, as a sentence, without a pointless retry", () => {
    expect(describeError(graphQLError("BAD_USER_INPUT", "the file is not a playable video (no video stream found)"))).toEqual({
      kind: "refused",
      message: "The file is not a playable video (no video stream found).",
      retryable: false,
    });
    expect(describeError(graphQLError("UNAUTHENTICATED", "wrong username or password")).message).toBe("Wrong username or password.");
    expect(describeError(graphQLError("UNAUTHENTICATED", "login required")).kind).toBe("signed-out");
    expect(describeError(graphQLError("FORBIDDEN", "only the comment's author can delete it")).message).toBe(
      "Only the comment's author can delete it.",
    );
    expect(describeError(graphQLError("NOT_FOUND", "video 9 not found")).kind).toBe("not-found");
  });

  it("never shows an internal message, and offers a retry for server trouble", () => {
    const problem = describeError(graphQLError("INTERNAL_SERVER_ERROR", "TypeError: cannot read properties of undefined"));
    expect(problem).toEqual({ kind: "server", message: "Something went wrong on the server. Try again.", retryable: true });
    expect(describeError(graphQLError("RATE_LIMITED", "slow down")).kind).toBe("rate-limited");
    expect(describeError(graphQLError("GRAPHQL_VALIDATION_FAILED", 'Cannot query field "x"')).kind).toBe("outdated");
  });

  it("reads HTTP statuses", () => {
    expect(describeError(httpError(401)).kind).toBe("signed-out");
    expect(describeError(httpError(503))).toMatchObject({ kind: "unavailable", retryable: true });
    expect(describeError(httpError(502)).message).toMatch(/unavailable right now/);
    expect(describeError(httpError(500)).message).toBe("The server had a problem (HTTP 500). Try again.");
    expect(describeError(httpError(413)).message).toBe("That file is too large.");
  });

  it("tells a dead connection from being offline", () => {
    expect(describeError(new TypeError("Failed to fetch"), true)).toMatchObject({
      kind: "unavailable",
      message: "Cannot reach the server. Check your connection and try again.",
    });
    expect(describeError(new TypeError("Failed to fetch"), false).kind).toBe("offline");
    expect(
      describeError(new ServerParseError(new SyntaxError("Unexpected token <"), { response: new Response("<html>"), bodyText: "<html>" }))
        .kind,
    ).toBe("server");
    expect(describeError(new Error("anything")).message).toBe("Something went wrong. Try again.");
  });
});
