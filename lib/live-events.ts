// Live events: what writers publish after their commit for the gateway to deliver to GraphQL
// subscriptions. The topics and payload shapes are the contract between the subgraphs that
// publish and the gateway that delivers (neither imports the other); payloads are the public
// schema's types as they travel, generated from it.
import type { Message, VideoCounts } from "../generated/api/types";

/** A topic and, in its type, the payload it carries. */
export type Topic<Payload> = string & { readonly __payload?: Payload };

/** A message as `Subscription.messageReceived` delivers it: every field of Message. */
export type LiveMessage = Required<Message>;
/** A video's counts as `Subscription.videoCounts` delivers them. */
export type LiveVideoCounts = Required<VideoCounts>;

export interface SessionEnded {
  sessionId: string;
}

/** Messages a user sends or receives (published by the relation subgraph to both users' topics). */
export const messagesTopic = (userId: number | string): Topic<LiveMessage> => `messages:${userId}`;

/** A video's counts after a change was applied (published by the video subgraph's counter drainer). */
export const videoCountsTopic = (videoId: number | string): Topic<LiveVideoCounts> => `video-counts:${videoId}`;

/** A session that ended (logout): every gateway closes the live connections opened with it. */
export const SESSIONS_ENDED: Topic<SessionEnded> = "sessions-ended";
