// Resolvers of the video subgraph: arguments in, one service call, result out.
import { GraphQLUpload } from "graphql-upload-minimal";
import { then } from "../../lib/maybe";
import { DateTimeScalar } from "../../lib/scalars";
import type { Resolvers } from "../../generated/graphql/video";

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  Upload: GraphQLUpload,
  Query: {
    feed: (_parent, { latestTime, limit }, { service }) => service.feed(latestTime, limit),
    video: (_parent, { id }, { service }) => service.video(id),
  },
  Mutation: {
    likeVideo: (_parent, { videoId }, { service }) => service.likeVideo(videoId),
    unlikeVideo: (_parent, { videoId }, { service }) => service.unlikeVideo(videoId),
    addComment: (_parent, { videoId, content }, { service }) => service.addComment(videoId, content),
    deleteComment: (_parent, { commentId }, { service }) => service.deleteComment(commentId),
    publishVideo: (_parent, { file, title }, { service }) => service.publishVideo(file, title),
  },
  User: {
    __resolveReference: (reference, { service }) => service.userReference(reference.id),
    id: (user) => String(user.id),
    videos: (user, { first, after }, { service }) => service.videosOf(user, first, after),
    likedVideos: (user, { first, after }, { service }) => service.likedVideosOf(user, first, after),
  },
  Video: {
    __resolveReference: (reference, { service }) => service.videoReference(reference.id),
    id: (video) => String(video.id),
    author: (video, _args, { service }) => service.user(video.authorId),
    playUrl: (video, _args, { service }) => service.playUrl(video),
    coverUrl: (video, _args, { service }) => service.coverUrl(video),
    isFavorite: (video, _args, { service }) => service.isFavorite(video),
    favoriteCount: (video, _args, { service }) => then(service.counts(video), (counts) => counts.favoriteCount),
    commentCount: (video, _args, { service }) => then(service.counts(video), (counts) => counts.commentCount),
    comments: (video, { first, after }, { service }) => service.comments(video, first, after),
  },
  Comment: {
    id: (comment) => String(comment.id),
    user: (comment, _args, { service }) => service.user(comment.userId),
  },
};
