// The embedded S3-compatible server (s3rver) for `npm start` and tests: objects on disk under
// DATA_DIR/s3, served over HTTP with range requests. Never used when S3_ENDPOINT is set.
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import S3rver from "s3rver";
import type { Config } from "../platform/config";
import type { Logger } from "../platform/logger";
import type { RunningService } from "../platform/http";
import { MediaStorage } from "./storage";

export async function startStorageServer(config: Config, log: Logger, port = config.storage.port): Promise<RunningService> {
  fs.mkdirSync(config.storage.dataDir, { recursive: true });
  const server = new S3rver({
    address: config.host,
    port,
    directory: config.storage.dataDir,
    silent: true,
    // Phones and browsers fetch play_url/cover_url directly.
    configureBuckets: [],
  });
  const address = (await server.run()) as AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;
  const bucketConfig = { ...config, storage: { ...config.storage, endpoint: url } };
  await new MediaStorage(bucketConfig).ensureBucket();
  log.info({ port: address.port, directory: config.storage.dataDir }, "embedded object storage listening");
  return { name: "storage", url, port: address.port, close: () => server.close() as Promise<void> };
}
