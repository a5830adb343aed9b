// Starts the web client: the token store, the Apollo Client speaking to the gateway, the app.
import { ApolloProvider } from "@apollo/client/react";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./app";
import { createApolloClient } from "./apollo/client";
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
const client = createApolloClient(tokens, GRAPHQL_PATH);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <SessionProvider tokens={tokens}>
        <ToastProvider>
          <App />
        </ToastProvider>
      </SessionProvider>
    </ApolloProvider>
  </StrictMode>,
);
