// Resolvers of the video subgraph: parse, authorise, call the data module or the publisher.
import { GraphQLUpload } from "graphql-upload-minimal";
import { AppError, badInput } from "../../common/errors";
import { parseId } from "../../common/ids";
import { DateTimeScalar, pageSize } from "../../common/scalars";
import { requireViewer } from "../../common/subgraph-host";
import type { Resolvers } from "../../generated/graphql/video";
import { decodeCursor } from "./data";

function requireId(value: unknown, what: string): number {
  const id = parseId(value);
  if (id === undefined) throw badInput(`invalid ${what} id`);
  return id;
}

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Upload: GraphQLUpload,
  Query: {
    feed: async (_parent, { latestTime, limit }, context) => {
      const size = pageSize(limit, context.limits);
      const { rows, nextTime } = await context.videos.feed(latestTime ?? new Date(), size, context.viewer?.userId ?? null);
      context.loaders.primeFeedRows(rows);
      return { videos: rows.map((row) => row.video), nextTime };
    },
    video: (_parent, { id }, context) => context.loaders.videoById.load(requireId(id, "video")),
  },
  Mutation: {
    publishVideo: async (_parent, { file, title }, context) => {
      const videoId = await context.publisher.publish(requireViewer(context), file, title, context.log);
      const video = await context.loaders.videoById.load(videoId);
      if (!video) throw new AppError("INTERNAL_SERVER_ERROR", "the published video could not be read back");
      return video;
    },
  },
  User: {
    __resolveReference: (reference, context) => {
      const id = parseId(reference.id);
      return id === undefined ? null : context.loaders.userStats.load(id);
    },
    id: (user) => String(user.id),
    videos: (user, { first, after }, context) => {
      const cursor = after ? decodeCursor(after) : null;
      if (cursor === undefined) throw badInput("invalid cursor");
      return context.videos.videosByAuthor(user.id, pageSize(first, context.limits), cursor);
    },
  },
  Video: {
    __resolveReference: (reference, context) => {
      const id = parseId(reference.id);
      return id === undefined ? null : context.loaders.videoById.load(id);
    },
    id: (video) => String(video.id),
    author: (video, _args, context) => context.loaders.userStats.load(Number(video.authorId)),
    playUrl: (video, _args, context) => context.storage.publicUrl(video.playKey),
    coverUrl: (video, _args, context) => context.storage.publicUrl(video.coverKey),
    isFavorite: (video, _args, context) => context.loaders.isFavorite.load(Number(video.id)),
  },
};
