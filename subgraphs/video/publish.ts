// Publishing a video: receive the upload onto disk (size-limited while it streams), store it,
// and hand it to the media worker; answer when the worker has probed it, cut its cover and
// written the row, so a published video always has its cover.
import fs from "node:fs";
import type { Queue, QueueEvents } from "bullmq";
import type { FileUpload } from "graphql-upload-minimal";
import type { Config } from "../../common/config";
import { AppError, badInput } from "../../common/errors";
import type { IdGenerator } from "../../common/ids";
import type { Logger } from "../../common/logger";
import type { Viewer } from "../../common/subgraph-host";
import { checkText } from "../../common/text";
import type { SensitiveWordFilter } from "../../common/text-filter";
import { MediaStorage, videoKey } from "../../media/storage";
import { spoolToFile } from "../../media/upload";
import { receivedFileStream } from "../../common/uploads";
import { jobIdFor, type MediaJob } from "./queues";

/** Marks a media job failure that is the upload's fault, not ours (see worker.ts). */
export const REJECTED_PREFIX = "rejected: ";

export class Publisher {
  constructor(
    private readonly config: Pick<Config, "limits" | "media">,
    private readonly storage: MediaStorage,
    private readonly mediaQueue: Queue<MediaJob>,
    private readonly mediaEvents: QueueEvents,
    private readonly ids: IdGenerator,
    private readonly words: SensitiveWordFilter,
  ) {}

  async publish(viewer: Viewer, upload: Promise<FileUpload>, rawTitle: string, log: Logger): Promise<number> {
    let file: FileUpload;
    try {
      file = await upload;
    } catch (error) {
      throw badInput(`the video file could not be read: ${(error as Error).message}`);
    }
    const stream = receivedFileStream(file, this.config.media.maxUploadBytes);
    let title: string;
    try {
      title = this.words.mask(checkText(rawTitle, "title", { max: this.config.limits.title }));
    } catch (error) {
      stream.resume(); // drain the unread file so the request can finish
      throw error;
    }
    const { file: spooled, size } = await spoolToFile(stream, { dir: this.config.media.tmpDir, maxBytes: this.config.media.maxUploadBytes });
    const videoId = this.ids.next();
    try {
      await this.storage.putFile(videoKey(videoId), spooled, /^video\//.test(file.mimetype) ? file.mimetype : "video/mp4");
    } finally {
      await fs.promises.rm(spooled, { force: true });
    }
    log.info({ videoId, size }, "video stored, waiting for the media worker");
    const job = await this.mediaQueue.add("publish", { videoId, authorId: viewer.userId, title }, { jobId: jobIdFor(`publish:${videoId}`) });
    try {
      await job.waitUntilFinished(this.mediaEvents, this.config.media.publishTimeoutMs);
    } catch (error) {
      const message = (error as Error).message;
      if (message.startsWith(REJECTED_PREFIX)) throw badInput(message.slice(REJECTED_PREFIX.length));
      if (/timed out|timeout/i.test(message)) {
        throw new AppError("INTERNAL_SERVER_ERROR", "the video is still being processed; it will appear in your list shortly");
      }
      throw error;
    }
    return videoId;
  }
}
