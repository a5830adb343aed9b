// The video subgraph's queues and the shapes of their jobs.
import type { ErrorCode } from "../../lib/errors";

/** Uploaded videos waiting to be probed and given a cover (see workers.ts). */
export const MEDIA_QUEUE = "video-media";

export interface MediaJob {
  videoId: number;
  authorId: number;
  /** Already checked and passed through the sensitive-word filter. */
  title: string;
}

/**
 * How a media job ended, as data: a file the worker refused is an answer for the uploader,
 * not a job failure to retry. Failures of ours (storage down) are thrown and retried.
 */
export type MediaOutcome = { published: true } | { published: false; error: { code: ErrorCode; message: string } };

export const mediaJobId = (videoId: number) => `publish-${videoId}`;
