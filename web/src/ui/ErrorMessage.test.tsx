// A failure on screen: readable, with the way forward that fits it.
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ErrorMessage } from "./ErrorMessage";

afterEach(cleanup);

describe("ErrorMessage", () => {
  it("says what happened and retries on request", () => {
    const retry = vi.fn();
    render(<ErrorMessage error={new TypeError("Failed to fetch")} onRetry={retry} />);
    expect(screen.getByRole("alert").textContent).toContain("Cannot reach the server.");
    fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(retry).toHaveBeenCalledOnce();
  });

  it("offers to log in, not to retry, when the session is gone", () => {
    render(
      <ErrorMessage
        error={new CombinedGraphQLErrors({ data: null, errors: [{ message: "login required", extensions: { code: "UNAUTHENTICATED" } }] })}
        onRetry={() => undefined}
      />,
    );
    expect(screen.getByRole("link", { name: "Log in" }).getAttribute("href")).toBe("/login?next=%2F");
    expect(screen.queryByRole("button", { name: "Retry" })).toBeNull();
  });

  it("does not offer to send refused input again unchanged", () => {
    render(
      <ErrorMessage
        error={
          new CombinedGraphQLErrors({
            data: null,
            errors: [{ message: "the video file is too large", extensions: { code: "BAD_USER_INPUT" } }],
          })
        }
        onRetry={() => undefined}
      />,
    );
    expect(screen.getByRole("alert").textContent).toContain("The video file is too large.");
    expect(screen.queryByRole("button", { name: "Retry" })).toBeNull();
  });
});
