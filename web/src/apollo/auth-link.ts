// Sends the session token as `Authorization: Bearer`, and forgets it when the server says it is no
// longer good (HTTP 401, or UNAUTHENTICATED for a request that carried it), so the app logs out.
import { ApolloLink } from "@apollo/client/link";
import { ServerError } from "@apollo/client/errors";
import type { GraphQLFormattedError } from "graphql";
import { tap } from "rxjs";
import type { TokenStore } from "../auth/token-store";

declare module "@apollo/client" {
  interface DefaultContext {
    /** Sent without the token: logging in or signing up must not depend on an old session. */
    anonymous?: boolean;
  }
}

export function hasUnauthenticated(errors: ReadonlyArray<GraphQLFormattedError> | undefined): boolean {
  return errors?.some((error) => error.extensions?.code === "UNAUTHENTICATED") ?? false;
}

export function createAuthLink(tokens: TokenStore): ApolloLink {
  return new ApolloLink((operation, forward) => {
    const token = operation.getContext().anonymous ? null : tokens.get();
    if (!token) return forward(operation);
    operation.setContext(({ headers }) => ({ headers: { ...headers, authorization: `Bearer ${token}` } }));
    return forward(operation).pipe(
      tap({
        next: (result) => {
          if ("errors" in result && hasUnauthenticated(result.errors)) tokens.clearIf(token);
        },
        error: (error: unknown) => {
          if (ServerError.is(error) && error.statusCode === 401) tokens.clearIf(token);
        },
      }),
    );
  });
}
