// The legacy /douyin/* API as a table: each route names its parameters, the GraphQL operation
// it runs on the gateway (typed from the composed schema: a wrong field fails the build), and
// how the result maps to the legacy JSON. Adding a route is adding an entry here.
import { z } from "zod";
import { graphql } from "../generated/legacy";
import type { LegacyUserFragment, LegacyVideoFragment } from "../generated/legacy/graphql";
import { notFound, unauthenticated } from "../lib/errors";
import { actionType, file, id, latestTime, optionalId, preMessageTime, text } from "./params";

/** A typed GraphQL document as codegen emits it (a string carrying its result and variable types). */
export interface TypedDocument<Result, Variables> {
  toString(): string;
  __apiType?: (variables: Variables) => Result;
}

/** One operation with its variables, ready for the gateway. */
export interface Operation<Result> {
  document: TypedDocument<Result, never>;
  variables: Record<string, unknown>;
}

/** Binds a document to variables of its own type. */
export const operation = <Result, Variables extends Record<string, unknown>>(
  document: TypedDocument<Result, Variables>,
  variables: Variables,
): Operation<Result> => ({ document: document as TypedDocument<Result, never>, variables });

/** The result type of an operation, or the union of them when a route chooses between several. */
type ResultOf<Op> = Op extends Operation<infer Result> ? Result : never;

interface RouteDefinition<Params, Op extends Operation<unknown>> {
  path: string;
  /** POST for routes that change state (GET is refused: a link must not change anything); GET routes take POST too. */
  method: "GET" | "POST";
  /** Whether a valid token is required; public routes use one only to personalise. */
  auth: boolean;
  /** Multipart fields that carry files (received onto disk, forwarded as GraphQL uploads). */
  files?: string[];
  params: z.ZodType<Params>;
  /** The operation these parameters call for (a route may choose between several); `after` asks for the next page of a list. */
  call(params: Params, after?: string): Op;
  /** The body besides the envelope; may throw an AppError to answer a failure. */
  respond(data: ResultOf<Op>, params: Params, env: RouteEnvironment): Record<string, unknown>;
  /**
   * For a list the app cannot page: the cursor of the page after this one (null at the end).
   * The server asks for every page and joins their lists (up to LEGACY_LIST_MAX items).
   */
  nextPage?(data: ResultOf<Op>): string | null | undefined;
}

/** A route as the server runs it: the types have done their work in `define`. */
export type LegacyRoute = RouteDefinition<unknown, Operation<unknown>>;

/** What a route's mapping may need from the configuration. */
export interface RouteEnvironment {
  /** Formats a comment's creation time as the legacy "MM-DD". */
  commentDate(iso: string): string;
}

const define = <Params, Op extends Operation<unknown>>(route: RouteDefinition<Params, Op>) => route as unknown as LegacyRoute;

graphql(`
  fragment LegacyUser on User {
    id
    name
    avatar
    backgroundImage
    signature
    followCount
    followerCount
    isFollow
    workCount
    favoriteCount
    totalFavorited
  }
`);

export function legacyUser(user: LegacyUserFragment) {
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

graphql(`
  fragment LegacyVideo on Video {
    id
    title
    playUrl
    coverUrl
    favoriteCount
    commentCount
    isFavorite
    author {
      ...LegacyUser
    }
  }
`);

export function legacyVideo(video: LegacyVideoFragment) {
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

graphql(`
  fragment LegacyComment on Comment {
    id
    content
    createdAt
    user {
      ...LegacyUser
    }
  }
`);

function legacyComment(comment: { id: string; content: string; createdAt: string; user: LegacyUserFragment }, env: RouteEnvironment) {
  return {
    id: Number(comment.id),
    user: legacyUser(comment.user),
    content: comment.content,
    create_date: env.commentDate(comment.createdAt),
  };
}

/** Legacy lists have no paging: each page is the largest the server allows (LIST_LIMIT_MAX), and the server reads them all. */
const WHOLE_PAGE = 1_000_000;

const credentials = z.object({ username: text("username"), password: text("password") });

const Register = graphql(`
  mutation LegacyRegister($username: String!, $password: String!) {
    register(username: $username, password: $password) {
      token
      user {
        id
      }
    }
  }
`);

const Login = graphql(`
  mutation LegacyLogin($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      token
      user {
        id
      }
    }
  }
`);

const UserById = graphql(`
  query LegacyUserById($id: ID!) {
    user(id: $id) {
      ...LegacyUser
    }
  }
`);

const Me = graphql(`
  query LegacyMe {
    me {
      ...LegacyUser
    }
  }
`);

const Feed = graphql(`
  query LegacyFeed($latestTime: DateTime!) {
    feed(latestTime: $latestTime, limit: 30) {
      nextTime
      videos {
        ...LegacyVideo
      }
    }
  }
`);

const Publish = graphql(`
  mutation LegacyPublish($file: Upload!, $title: String!) {
    publishVideo(file: $file, title: $title) {
      id
    }
  }
`);

const PublishList = graphql(`
  query LegacyPublishList($id: ID!, $first: Int!, $after: String) {
    user(id: $id) {
      videos(first: $first, after: $after) {
        nextCursor
        nodes {
          ...LegacyVideo
        }
      }
    }
  }
`);

const Follow = graphql(`
  mutation LegacyFollow($id: ID!) {
    follow(userId: $id) {
      id
    }
  }
`);

const Unfollow = graphql(`
  mutation LegacyUnfollow($id: ID!) {
    unfollow(userId: $id) {
      id
    }
  }
`);

const Following = graphql(`
  query LegacyFollowing($id: ID!, $first: Int!, $after: String) {
    user(id: $id) {
      following(first: $first, after: $after) {
        nextCursor
        nodes {
          ...LegacyUser
        }
      }
    }
  }
`);

const Followers = graphql(`
  query LegacyFollowers($id: ID!, $first: Int!, $after: String) {
    user(id: $id) {
      followers(first: $first, after: $after) {
        nextCursor
        nodes {
          ...LegacyUser
        }
      }
    }
  }
`);

graphql(`
  fragment LegacyFriends on User {
    id
    friends(first: $first, after: $after) {
      nextCursor
      nodes {
        user {
          ...LegacyUser
        }
        latestMessage {
          fromUserId
          content
        }
      }
    }
  }
`);

const FriendsOf = graphql(`
  query LegacyFriendsOf($id: ID!, $first: Int!, $after: String) {
    user(id: $id) {
      ...LegacyFriends
    }
  }
`);

const MyFriends = graphql(`
  query LegacyMyFriends($first: Int!, $after: String) {
    me {
      ...LegacyFriends
    }
  }
`);

const SendMessage = graphql(`
  mutation LegacySendMessage($to: ID!, $content: String!) {
    sendMessage(toUserId: $to, content: $content) {
      id
    }
  }
`);

const Chat = graphql(`
  query LegacyChat($with: ID!, $after: DateTime) {
    chat(withUserId: $with, after: $after) {
      id
      fromUserId
      toUserId
      content
      createdAt
    }
  }
`);

const Like = graphql(`
  mutation LegacyLike($id: ID!) {
    likeVideo(videoId: $id) {
      id
    }
  }
`);

const Unlike = graphql(`
  mutation LegacyUnlike($id: ID!) {
    unlikeVideo(videoId: $id) {
      id
    }
  }
`);

const LikedVideos = graphql(`
  query LegacyLikedVideos($id: ID!, $first: Int!, $after: String) {
    user(id: $id) {
      likedVideos(first: $first, after: $after) {
        nextCursor
        nodes {
          ...LegacyVideo
        }
      }
    }
  }
`);

const AddComment = graphql(`
  mutation LegacyAddComment($videoId: ID!, $text: String!) {
    addComment(videoId: $videoId, content: $text) {
      ...LegacyComment
    }
  }
`);

const DeleteComment = graphql(`
  mutation LegacyDeleteComment($commentId: ID!) {
    deleteComment(commentId: $commentId)
  }
`);

const Comments = graphql(`
  query LegacyComments($id: ID!, $first: Int!, $after: String) {
    video(id: $id) {
      comments(first: $first, after: $after) {
        nextCursor
        nodes {
          ...LegacyComment
        }
      }
    }
  }
`);

const followList = (direction: "following" | "followers") =>
  define({
    path: direction === "following" ? "/douyin/relation/follow/list/" : "/douyin/relation/follower/list/",
    method: "GET",
    auth: false,
    params: z.object({ user_id: id("user_id") }),
    call: (p, after) =>
      direction === "following"
        ? operation(Following, { id: String(p.user_id), first: WHOLE_PAGE, after })
        : operation(Followers, { id: String(p.user_id), first: WHOLE_PAGE, after }),
    respond: (data, p) => {
      if (!data.user) throw notFound(`user ${p.user_id} not found`);
      const list = "following" in data.user ? data.user.following : data.user.followers;
      return { user_list: list.nodes.map(legacyUser) };
    },
    nextPage: (data) => data.user && ("following" in data.user ? data.user.following : data.user.followers).nextCursor,
  });

export const routes: LegacyRoute[] = [
  define({
    path: "/douyin/user/register/",
    method: "POST",
    auth: false,
    params: credentials,
    call: (p) => operation(Register, p),
    respond: (data) => ({ user_id: Number(data.register.user.id), token: data.register.token }),
  }),
  define({
    path: "/douyin/user/login/",
    method: "POST",
    auth: false,
    params: credentials,
    call: (p) => operation(Login, p),
    respond: (data) => ({ user_id: Number(data.login.user.id), token: data.login.token }),
  }),
  define({
    path: "/douyin/user/",
    method: "GET",
    auth: false,
    params: z.object({ user_id: optionalId("user_id") }),
    call: (p) => (p.user_id !== undefined ? operation(UserById, { id: String(p.user_id) }) : operation(Me, {})),
    respond: (data, p) => {
      const user = "user" in data ? data.user : data.me;
      if (!user)
        throw p.user_id !== undefined ? notFound(`user ${p.user_id} not found`) : unauthenticated("user_id or a valid token is required");
      return { user: legacyUser(user) };
    },
  }),
  define({
    path: "/douyin/feed/",
    method: "GET",
    auth: false,
    params: z.object({ latest_time: latestTime }),
    call: (p) => operation(Feed, { latestTime: new Date(p.latest_time.ms).toISOString() }),
    respond: (data, p) => {
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
    method: "POST",
    auth: true,
    files: ["data"],
    params: z.object({ data: file("data"), title: text("title") }),
    call: (p) => operation(Publish, { file: p.data, title: p.title }),
    respond: () => ({}),
  }),
  define({
    path: "/douyin/publish/list/",
    method: "GET",
    auth: false,
    params: z.object({ user_id: id("user_id") }),
    call: (p, after) => operation(PublishList, { id: String(p.user_id), first: WHOLE_PAGE, after }),
    respond: (data, p) => {
      if (!data.user) throw notFound(`user ${p.user_id} not found`);
      return { video_list: data.user.videos.nodes.map(legacyVideo) };
    },
    nextPage: (data) => data.user?.videos.nextCursor,
  }),
  define({
    path: "/douyin/relation/action/",
    method: "POST",
    auth: true,
    params: z.object({ to_user_id: id("to_user_id"), action_type: actionType("action_type", { "1": "follow", "2": "unfollow" }) }),
    call: (p) =>
      p.action_type === "follow" ? operation(Follow, { id: String(p.to_user_id) }) : operation(Unfollow, { id: String(p.to_user_id) }),
    respond: () => ({}),
  }),
  followList("following"),
  followList("followers"),
  define({
    path: "/douyin/relation/friend/list/",
    method: "GET",
    auth: true,
    params: z.object({ user_id: optionalId("user_id") }),
    // With user_id, the relation subgraph refuses anyone but the caller (FORBIDDEN).
    call: (p, after) =>
      p.user_id !== undefined
        ? operation(FriendsOf, { id: String(p.user_id), first: WHOLE_PAGE, after })
        : operation(MyFriends, { first: WHOLE_PAGE, after }),
    nextPage: (data) => ("user" in data ? data.user : data.me)?.friends.nextCursor,
    respond: (data, p) => {
      const owner = "user" in data ? data.user : data.me;
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
    method: "POST",
    auth: true,
    params: z.object({ to_user_id: id("to_user_id"), action_type: actionType("action_type", { "1": "send" }), content: text("content") }),
    call: (p) => operation(SendMessage, { to: String(p.to_user_id), content: p.content }),
    respond: () => ({}),
  }),
  define({
    path: "/douyin/message/chat/",
    method: "GET",
    auth: true,
    params: z.object({ to_user_id: id("to_user_id"), pre_msg_time: preMessageTime }),
    call: (p) =>
      operation(Chat, { with: String(p.to_user_id), after: p.pre_msg_time === null ? null : new Date(p.pre_msg_time).toISOString() }),
    respond: (data) => ({
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
    method: "POST",
    auth: true,
    params: z.object({ video_id: id("video_id"), action_type: actionType("action_type", { "1": "like", "2": "unlike" }) }),
    call: (p) => (p.action_type === "like" ? operation(Like, { id: String(p.video_id) }) : operation(Unlike, { id: String(p.video_id) })),
    respond: () => ({}),
  }),
  define({
    path: "/douyin/favorite/list/",
    method: "GET",
    auth: false,
    params: z.object({ user_id: id("user_id") }),
    call: (p, after) => operation(LikedVideos, { id: String(p.user_id), first: WHOLE_PAGE, after }),
    respond: (data, p) => {
      if (!data.user) throw notFound(`user ${p.user_id} not found`);
      return { video_list: data.user.likedVideos.nodes.map(legacyVideo) };
    },
    nextPage: (data) => data.user?.likedVideos.nextCursor,
  }),
  define({
    path: "/douyin/comment/action/",
    method: "POST",
    auth: true,
    params: z.discriminatedUnion(
      "action_type",
      [
        z.object({
          action_type: z.literal("1", { error: "action_type must be 1 (post) or 2 (delete)" }),
          video_id: id("video_id"),
          comment_text: text("comment_text"),
        }),
        // The comment id alone names what to delete; the app also sends video_id, which is not needed.
        z.object({ action_type: z.literal("2"), video_id: optionalId("video_id"), comment_id: id("comment_id") }),
      ],
      { error: (issue) => (issue.input === undefined ? "action_type is required" : "action_type must be 1 (post) or 2 (delete)") },
    ),
    call: (p) =>
      p.action_type === "1"
        ? operation(AddComment, { videoId: String(p.video_id), text: p.comment_text })
        : operation(DeleteComment, { commentId: String(p.comment_id) }),
    respond: (data, _p, env) => ("addComment" in data ? { comment: legacyComment(data.addComment, env) } : {}),
  }),
  define({
    path: "/douyin/comment/list/",
    method: "GET",
    auth: false,
    params: z.object({ video_id: id("video_id") }),
    call: (p, after) => operation(Comments, { id: String(p.video_id), first: WHOLE_PAGE, after }),
    respond: (data, p, env) => {
      if (!data.video) throw notFound(`video ${p.video_id} not found`);
      return { comment_list: data.video.comments.nodes.map((comment) => legacyComment(comment, env)) };
    },
    nextPage: (data) => data.video?.comments.nextCursor,
  }),
];
