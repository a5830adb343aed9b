// Resolvers of the video subgraph: parse, authorise, call the data module or the publisher.
import { GraphQLUpload } from "graphql-upload-minimal";
import { AppError, badInput } from "../../common/errors";
import { parseId } from "../../common/ids";
import { DateTimeScalar, pageSize } from "../../common/scalars";
import { requireViewer } from "../../common/subgraph-host";
import type { Resolvers } from "../../generated/graphql/video";
import { decodeCursor } from "../../common/pagination";

function requireId(value: unknown, what: string): number {
  const id = parseId(value);
  if (id === undefined) throw badInput(`invalid ${what} id`);
  return id;
}

function cursorOf(after: string | null | undefined) {
  const cursor = after ? decodeCursor(after) : null;
  if (cursor === undefined) throw badInput("invalid cursor");
  return cursor;
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
    likeVideo: async (_parent, { videoId }, context) => {
      const id = requireId(videoId, "video");
      await context.interactions.like(requireViewer(context).userId, id);
      return context.interactions.requireVideo(id);
    },
    unlikeVideo: async (_parent, { videoId }, context) => {
      const id = requireId(videoId, "video");
      await context.interactions.unlike(requireViewer(context).userId, id);
      return context.interactions.requireVideo(id);
    },
    addComment: (_parent, { videoId, content }, context) =>
      context.interactions.addComment(requireViewer(context).userId, requireId(videoId, "video"), content),
    deleteComment: (_parent, { commentId }, context) =>
      context.interactions.deleteComment(requireViewer(context).userId, requireId(commentId, "comment")),
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
    videos: (user, { first, after }, context) => context.videos.videosByAuthor(user.id, pageSize(first, context.limits), cursorOf(after)),
    likedVideos: (user, { first, after }, context) => context.videos.likedVideos(user.id, pageSize(first, context.limits), cursorOf(after)),
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
    // Counters may dip below zero for a moment while counter events apply out of order.
    favoriteCount: (video) => Math.max(0, video.favoriteCount),
    commentCount: (video) => Math.max(0, video.commentCount),
    comments: async (video, { first, after }, context) => {
      const size = pageSize(first, context.limits);
      const videoId = Number(video.id);
      // The first page at the default size is what apps open: served from the cache.
      if (!after && size === context.limits.listDefault) {
        const [page] = await context.caches.firstCommentPages.loadMany([videoId], async () => [await context.videos.comments(videoId, size, null)]);
        if (page) return page;
      }
      return context.videos.comments(videoId, size, cursorOf(after));
    },
  },
  Comment: {
    id: (comment) => String(comment.id),
    user: (comment, _args, context) => context.loaders.userStats.load(Number(comment.userId)),
  },
};
