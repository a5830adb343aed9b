// The one Apollo Client of the app: the token on every request, automatic persisted queries
// (a SHA-256 of the query first, the full text only when the gateway has not seen it), uploads
// as multipart requests, and subscriptions over the live WebSocket. GraphQL to the gateway is
// the only thing the app speaks.
import { ApolloClient } from "@apollo/client";
import { ApolloLink } from "@apollo/client/link";
import { HttpLink } from "@apollo/client/link/http";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { sha256 } from "@noble/hashes/sha2.js";
import { OperationTypeNode } from "graphql";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import type { TokenStore } from "../auth/token-store";
import { createAuthLink } from "./auth-link";
import { createCache } from "./cache";
import type { Live } from "./live-link";
import { createUploadLink, hasFiles } from "./upload-link";

/** In JavaScript rather than crypto.subtle, which only exists on https or localhost pages. */
export const sha256Hex = (text: string) => bytesToHex(sha256(utf8ToBytes(text)));

export function createApolloClient(tokens: TokenStore, uri: string, live?: Pick<Live, "link">): ApolloClient {
  const http = ApolloLink.split(
    (operation) => hasFiles(operation.variables),
    // A file goes once, whole: a hash-first attempt would upload it twice.
    createUploadLink(uri),
    new PersistedQueryLink({ sha256: sha256Hex }).concat(new HttpLink({ uri })),
  );
  // The gateway runs subscriptions only over WebSocket (HTTP answers them 400).
  const network = live
    ? ApolloLink.split((operation) => operation.operationType === OperationTypeNode.SUBSCRIPTION, live.link, http)
    : http;
  return new ApolloClient({
    cache: createCache(),
    link: createAuthLink(tokens).concat(network),
  });
}
