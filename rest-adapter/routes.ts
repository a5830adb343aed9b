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
  respond(data: any, params: Params): Record<string, unknown>;
}

/** A route whose feature has not landed yet: it answers a clear failure, never a 404 page. */
export interface PendingRoute {
  path: string;
  feature: string;
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
];

interface LegacyFriendsOwner {
  id: string;
  friends: { nodes: { user: GraphQLUser; latestMessage: { fromUserId: string; content: string } | null }[] };
}

export const pendingRoutes: PendingRoute[] = [
  { path: "/douyin/favorite/action/", feature: "likes" },
  { path: "/douyin/favorite/list/", feature: "liked-video lists" },
  { path: "/douyin/comment/action/", feature: "comments" },
  { path: "/douyin/comment/list/", feature: "comment lists" },
];
