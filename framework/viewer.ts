// Who is calling a subgraph: established once by the gateway (a verified token and a live
// session) and handed to the subgraph with the request; subgraphs trust nothing else.
import { unauthenticated } from "../lib/errors";
import type { Deadline } from "../platform/deadline";
import type { Logger } from "../platform/logger";
import { describeTokenFailure } from "../platform/sessions";

export interface SignedIn {
  userId: number;
  sessionId: string;
}

export class Viewer {
  static readonly anonymous = new Viewer(null);

  constructor(
    /** The signed-in caller, or null. */
    readonly signedIn: SignedIn | null,
    /** Set when a token was sent but could not be used: explains an UNAUTHENTICATED error. */
    readonly tokenFailure?: string,
  ) {}

  get userId(): number | null {
    return this.signedIn?.userId ?? null;
  }

  /** The signed-in caller; UNAUTHENTICATED, saying what was wrong with the token, otherwise. */
  require(): SignedIn {
    if (!this.signedIn) throw unauthenticated(describeTokenFailure(this.tokenFailure));
    return this.signedIn;
  }

  /** Refuses a request whose token was sent but is unusable, even where signing in is optional. */
  refuseBadToken(): void {
    if (!this.signedIn && this.tokenFailure) throw unauthenticated(describeTokenFailure(this.tokenFailure));
  }
}

/** What every subgraph's per-request context is built from. */
export interface RequestScope {
  viewer: Viewer;
  requestId: string;
  /** The client's address as the edge saw it (null for internal calls): per-address limits in a subgraph. */
  clientIp: string | null;
  log: Logger;
  /** When the caller stops waiting; resolvers past it fail UNAVAILABLE instead of working on. */
  deadline: Deadline;
}

/** The per-request context of every subgraph: small, the same shape everywhere. */
export interface SubgraphContext<Loaders, Service> {
  viewer: Viewer;
  log: Logger;
  loaders: Loaders;
  service: Service;
}
