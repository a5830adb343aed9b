// Starts the web client: the token store, the live connection, the Apollo Client speaking to the gateway, the app.
import { ApolloProvider } from "@apollo/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { createApolloClient } from "./apollo/client";
import { LiveProvider } from "./apollo/live-context";
import { createLive, liveUrl } from "./apollo/live-link";
import { SessionProvider } from "./auth/session";
import { createTokenStore } from "./auth/token-store";
import { GRAPHQL_PATH, TOKEN_STORAGE_KEY } from "./config";
import { ToastProvider } from "./ui/toast";
import "./styles.css";

function localStorageOrNothing(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    // Storage disabled: the session lasts as long as the page.
    return undefined;
  }
}

const tokens = createTokenStore(localStorageOrNothing(), TOKEN_STORAGE_KEY, window);
const live = createLive(tokens, liveUrl(GRAPHQL_PATH, window.location));
// Another person (or nobody) now: the live connection starts again with the new token.
tokens.subscribe(() => live.restart());
const client = createApolloClient(tokens, GRAPHQL_PATH, live);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <LiveProvider value={live}>
        <SessionProvider tokens={tokens}>
          <ToastProvider>
            <App />
          </ToastProvider>
        </SessionProvider>
      </LiveProvider>
    </ApolloProvider>
  </StrictMode>,
);
