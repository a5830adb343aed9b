// The legacy /douyin/* API as a table: each route names its parameters, the GraphQL operation
// it runs on the gateway, and how the result maps to the legacy JSON. Adding a route is adding
// an entry here.
import { z } from "zod";
import { notFound, unauthenticated } from "../common/errors";
import { actionType, file, id, latestTime, optionalId, preMessageTime, text } from "./params";

export interface LegacyRoute<Params = any> {
  path: string;
  /** Whether a valid token is required; public routes use one only to personalise. */
  auth: boolean;
  /** Multipart fields that carry files (received onto disk, forwarded as GraphQL uploads). */
  files?: string[];
  params: z.ZodType<Params>;
  operation: string;
  variables(params: Params): Record<string, unknown>;
  /** The body besides the envelope; may throw an AppError to answer a failure. */
  respond(data: any, params: Params, env: RouteEnvironment): Record<string, unknown>;
}

/** What a route's mapping may need from the configuration. */
export interface RouteEnvironment {
  /** Formats a comment's creation time as the legacy "MM-DD". */
  commentDate(iso: string): string;
}


const define = <Params>(route: LegacyRoute<Params>) => route;

const LEGACY_USER = /* GraphQL */ `
  fragment LegacyUser on User {
    id name avatar backgroundImage signature
    followCount followerCount isFollow
    workCount favoriteCount totalFavorited
  }`;

export interface GraphQLUser {
  id: string;
  name: string;
  avatar: string | null;
  backgroundImage: string | null;
  signature: string | null;
  followCount: number;
  followerCount: number;
  isFollow: boolean;
  workCount: number;
  favoriteCount: number;
  totalFavorited: number;
}

export function legacyUser(user: GraphQLUser) {
  return {
    id: Number(user.id),
    name: user.name,
    follow_count: user.followCount,
    follower_count: user.followerCount,
    is_follow: user.isFollow,
    avatar: user.avatar ?? "",
    background_image: user.backgroundImage ?? "",
    signature: user.signature ?? "",
    total_favorited: user.totalFavorited,
    work_count: user.workCount,
    favorite_count: user.favoriteCount,
  };
}

const LEGACY_VIDEO = /* GraphQL */ `
  fragment LegacyVideo on Video {
    id title playUrl coverUrl favoriteCount commentCount isFavorite
    author { ...LegacyUser }
  }`;

export interface GraphQLVideo {
  id: string;
  title: string;
  playUrl: string;
  coverUrl: string;
  favoriteCount: number;
  commentCount: number;
  isFavorite: boolean;
  author: GraphQLUser;
}

export function legacyVideo(video: GraphQLVideo) {
  return {
    id: Number(video.id),
    author: legacyUser(video.author),
    play_url: video.playUrl,
    cover_url: video.coverUrl,
    favorite_count: video.favoriteCount,
    comment_count: video.commentCount,
    is_favorite: video.isFavorite,
    title: video.title,
  };
}

/** Legacy lists have no paging: they get the largest page the server allows (LIST_LIMIT_MAX). */
const WHOLE_LIST = 1_000_000;

const credentials = z.object({ username: text("username"), password: text("password") });

const authPayload = (field: "register" | "login") => (data: Record<typeof field, { token: string; user: { id: string } }>) => ({
  user_id: Number(data[field].user.id),
  token: data[field].token,
});

export const routes: LegacyRoute[] = [
  define({
    path: "/douyin/user/register/",
    auth: false,
    params: credentials,
    operation: `mutation Register($username: String!, $password: String!) {
      register(username: $username, password: $password) { token user { id } } }`,
    variables: (p) => p,
    respond: authPayload("register"),
  }),
  define({
    path: "/douyin/user/login/",
    auth: false,
    params: credentials,
    operation: `mutation Login($username: String!, $password: String!) {
      login(username: $username, password: $password) { token user { id } } }`,
    variables: (p) => p,
    respond: authPayload("login"),
  }),
  define({
    path: "/douyin/user/",
    auth: false,
    params: z.object({ user_id: optionalId("user_id") }),
    operation: `query LegacyUserInfo($id: ID!, $byId: Boolean!) {
      user(id: $id) @include(if: $byId) { ...LegacyUser }
      me @skip(if: $byId) { ...LegacyUser } } ${LEGACY_USER}`,
    variables: (p) => ({ id: String(p.user_id ?? 0), byId: p.user_id !== undefined }),
    respond: (data: { user?: GraphQLUser | null; me?: GraphQLUser | null }, p) => {
      const user = p.user_id !== undefined ? data.user : data.me;
      if (!user) throw p.user_id !== undefined ? notFound(`user ${p.user_id} not found`) : unauthenticated("user_id or a valid token is required");
      return { user: legacyUser(user) };
    },
  }),
  define({
    path: "/douyin/feed/",
    auth: false,
    params: z.object({ latest_time: latestTime }),
    operation: `query LegacyFeed($latestTime: DateTime!) {
      feed(latestTime: $latestTime, limit: 30) { nextTime videos { ...LegacyVideo } } } ${LEGACY_VIDEO} ${LEGACY_USER}`,
    variables: (p) => ({ latestTime: new Date(p.latest_time.ms).toISOString() }),
    respond: (data: { feed: { nextTime: string | null; videos: GraphQLVideo[] } }, p) => {
      const nextMs = data.feed.nextTime ? Date.parse(data.feed.nextTime) : p.latest_time.ms;
      return {
        video_list: data.feed.videos.map(legacyVideo),
        // In the unit the client sent (milliseconds when it sent none), to pass back as latest_time.
        next_time: p.latest_time.unit === "s" ? Math.floor(nextMs / 1000) : nextMs,
      };
    },
  }),
  define({
    path: "/douyin/publish/action/",
    auth: true,
    files: ["data"],
    params: z.object({ data: file("data"), title: text("title") }),
    operation: `mutation LegacyPublish($file: Upload!, $title: String!) { publishVideo(file: $file, title: $title) { id } }`,
    variables: (p) => ({ file: p.data, title: p.title }),
    respond: () => ({}),
  }),
  define({
    path: "/douyin/publish/list/",
    auth: false,
    params: z.object({ user_id: id("user_id") }),
    operation: `query LegacyPublishList($id: ID!, $first: Int!) {
      user(id: $id) { videos(first: $first) { nodes { ...LegacyVideo } } } } ${LEGACY_VIDEO} ${LEGACY_USER}`,
    variables: (p) => ({ id: String(p.user_id), first: WHOLE_LIST }),
    respond: (data: { user: { videos: { nodes: GraphQLVideo[] } } | null }, p) => {
      if (!data.user) throw notFound(`user ${p.user_id} not found`);
      return { video_list: data.user.videos.nodes.map(legacyVideo) };
    },
  }),
  define({
    path: "/douyin/relation/action/",
    auth: true,
    params: z.object({ to_user_id: id("to_user_id"), action_type: actionType("action_type", { "1": "follow", "2": "unfollow" }) }),
    operation: `mutation LegacyRelationAction($id: ID!, $follow: Boolean!) {
      follow(userId: $id) @include(if: $follow) { id }
      unfollow(userId: $id) @skip(if: $follow) { id } }`,
    variables: (p) => ({ id: String(p.to_user_id), follow: p.action_type === "follow" }),
    respond: () => ({}),
  }),
  ...(["following", "followers"] as const).map((direction) =>
    define({
      path: direction === "following" ? "/douyin/relation/follow/list/" : "/douyin/relation/follower/list/",
      auth: false,
      params: z.object({ user_id: id("user_id") }),
      operation: `query LegacyFollowList($id: ID!, $first: Int!) {
        user(id: $id) { ${direction}(first: $first) { nodes { ...LegacyUser } } } } ${LEGACY_USER}`,
      variables: (p) => ({ id: String(p.user_id), first: WHOLE_LIST }),
      respond: (data: { user: Record<string, { nodes: GraphQLUser[] }> | null }, p) => {
        if (!data.user) throw notFound(`user ${p.user_id} not found`);
        return { user_list: data.user[direction]!.nodes.map(legacyUser) };
      },
    }),
  ),
  define({
    path: "/douyin/relation/friend/list/",
    auth: true,
    params: z.object({ user_id: optionalId("user_id") }),
    // With user_id, the relation subgraph refuses anyone but the caller (FORBIDDEN).
    operation: `query LegacyFriendList($id: ID!, $byId: Boolean!, $first: Int!) {
      user(id: $id) @include(if: $byId) { ...LegacyFriends }
      me @skip(if: $byId) { ...LegacyFriends } }
      fragment LegacyFriends on User { id friends(first: $first) { nodes { user { ...LegacyUser } latestMessage { fromUserId content } } } }
      ${LEGACY_USER}`,
    variables: (p) => ({ id: String(p.user_id ?? 0), byId: p.user_id !== undefined, first: WHOLE_LIST }),
    respond: (data: { user?: LegacyFriendsOwner | null; me?: LegacyFriendsOwner | null }, p) => {
      const owner = p.user_id !== undefined ? data.user : data.me;
      if (!owner) throw p.user_id !== undefined ? notFound(`user ${p.user_id} not found`) : unauthenticated("token is required");
      return {
        user_list: owner.friends.nodes.map(({ user, latestMessage }) => ({
          ...legacyUser(user),
          message: latestMessage?.content ?? "",
          // 1 when the caller sent the latest message, 0 when they received it (or there is none).
          msgType: latestMessage && latestMessage.fromUserId === owner.id ? 1 : 0,
        })),
      };
    },
  }),
  define({
    path: "/douyin/message/action/",
    auth: true,
    params: z.object({ to_user_id: id("to_user_id"), action_type: actionType("action_type", { "1": "send" }), content: text("content") }),
    operation: `mutation LegacySendMessage($to: ID!, $content: String!) { sendMessage(toUserId: $to, content: $content) { id } }`,
    variables: (p) => ({ to: String(p.to_user_id), content: p.content }),
    respond: () => ({}),
  }),
  define({
    path: "/douyin/message/chat/",
    auth: true,
    params: z.object({ to_user_id: id("to_user_id"), pre_msg_time: preMessageTime }),
    operation: `query LegacyChat($with: ID!, $after: DateTime) {
      chat(withUserId: $with, after: $after) { id fromUserId toUserId content createdAt } }`,
    variables: (p) => ({ with: String(p.to_user_id), after: p.pre_msg_time === null ? null : new Date(p.pre_msg_time).toISOString() }),
    respond: (data: { chat: { id: string; fromUserId: string; toUserId: string; content: string; createdAt: string }[] }) => ({
      message_list: data.chat.map((m) => ({
        id: Number(m.id),
        to_user_id: Number(m.toUserId),
        from_user_id: Number(m.fromUserId),
        content: m.content,
        create_time: Date.parse(m.createdAt),
      })),
    }),
  }),
  define({
    path: "/douyin/favorite/action/",
    auth: true,
    params: z.object({ video_id: id("video_id"), action_type: actionType("action_type", { "1": "like", "2": "unlike" }) }),
    operation: `mutation LegacyFavoriteAction($id: ID!, $like: Boolean!) {
      likeVideo(videoId: $id) @include(if: $like) { id }
      unlikeVideo(videoId: $id) @skip(if: $like) { id } }`,
    variables: (p) => ({ id: String(p.video_id), like: p.action_type === "like" }),
    respond: () => ({}),
  }),
  define({
    path: "/douyin/favorite/list/",
    auth: false,
    params: z.object({ user_id: id("user_id") }),
    operation: `query LegacyFavoriteList($id: ID!, $first: Int!) {
      user(id: $id) { likedVideos(first: $first) { nodes { ...LegacyVideo } } } } ${LEGACY_VIDEO} ${LEGACY_USER}`,
    variables: (p) => ({ id: String(p.user_id), first: WHOLE_LIST }),
    respond: (data: { user: { likedVideos: { nodes: GraphQLVideo[] } } | null }, p) => {
      if (!data.user) throw notFound(`user ${p.user_id} not found`);
      return { video_list: data.user.likedVideos.nodes.map(legacyVideo) };
    },
  }),
  define({
    path: "/douyin/comment/action/",
    auth: true,
    params: z.discriminatedUnion("action_type", [
      z.object({ action_type: z.literal("1", { error: "action_type must be 1 (post) or 2 (delete)" }), video_id: id("video_id"), comment_text: text("comment_text") }),
      // The comment id alone names what to delete; the app also sends video_id, which is not needed.
      z.object({ action_type: z.literal("2"), video_id: optionalId("video_id"), comment_id: id("comment_id") }),
    ], { error: (issue) => (issue.input === undefined ? "action_type is required" : "action_type must be 1 (post) or 2 (delete)") }),
    operation: `mutation LegacyCommentAction($videoId: ID!, $text: String!, $commentId: ID!, $post: Boolean!) {
      addComment(videoId: $videoId, content: $text) @include(if: $post) { id content createdAt user { ...LegacyUser } }
      deleteComment(commentId: $commentId) @skip(if: $post) } ${LEGACY_USER}`,
    variables: (p) =>
      p.action_type === "1"
        ? { videoId: String(p.video_id), text: p.comment_text, commentId: "0", post: true }
        : { videoId: "0", text: "", commentId: String(p.comment_id), post: false },
    respond: (data: { addComment?: GraphQLComment }, _p, env) => (data.addComment ? { comment: legacyComment(data.addComment, env) } : {}),
  }),
  define({
    path: "/douyin/comment/list/",
    auth: false,
    params: z.object({ video_id: id("video_id") }),
    operation: `query LegacyCommentList($id: ID!) {
      video(id: $id) { comments { nodes { id content createdAt user { ...LegacyUser } } } } } ${LEGACY_USER}`,
    variables: (p) => ({ id: String(p.video_id) }),
    respond: (data: { video: { comments: { nodes: GraphQLComment[] } } | null }, p, env) => {
      if (!data.video) throw notFound(`video ${p.video_id} not found`);
      return { comment_list: data.video.comments.nodes.map((comment) => legacyComment(comment, env)) };
    },
  }),
];

interface GraphQLComment {
  id: string;
  content: string;
  createdAt: string;
  user: GraphQLUser;
}

function legacyComment(comment: GraphQLComment, env: RouteEnvironment) {
  return { id: Number(comment.id), user: legacyUser(comment.user), content: comment.content, create_date: env.commentDate(comment.createdAt) };
}

interface LegacyFriendsOwner {
  id: string;
  friends: { nodes: { user: GraphQLUser; latestMessage: { fromUserId: string; content: string } | null }[] };
}

