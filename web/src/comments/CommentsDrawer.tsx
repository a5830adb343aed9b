// A video's comments in a drawer over the player: newest first, paged, and one's own can be
// added and deleted (the list and the count change at once).
import { useMutation, useQuery } from "@apollo/client/react";
import { useEffect, useState, type FormEvent } from "react";
import type { Reference } from "@apollo/client/cache";
import { useSession } from "../auth/session";
import { COMMENT_MAX_LENGTH, COMMENTS_PAGE_SIZE } from "../config";
import { graphql } from "../gql";
import { Link, paths, useCurrentPath } from "../router";
import { timeAgo } from "../time";
import { Avatar } from "../ui/Avatar";
import { ErrorMessage } from "../ui/ErrorMessage";
import { LoadMore } from "../ui/LoadMore";
import { Spinner } from "../ui/Spinner";
import { useReportError } from "../ui/toast";
import { usePager } from "../ui/use-pager";

graphql(`
  fragment CommentItem on Comment {
    id
    content
    createdAt
    user {
      id
      name
      avatar
    }
  }
`);

export const CommentsDocument = graphql(`
  query Comments($videoId: ID!, $first: Int, $after: String) {
    video(id: $videoId) {
      id
      commentCount
      comments(first: $first, after: $after) {
        nodes {
          ...CommentItem
        }
        nextCursor
        hasMore
      }
    }
  }
`);

const AddCommentDocument = graphql(`
  mutation AddComment($videoId: ID!, $content: String!) {
    addComment(videoId: $videoId, content: $content) {
      ...CommentItem
    }
  }
`);

const DeleteCommentDocument = graphql(`
  mutation DeleteComment($commentId: ID!) {
    deleteComment(commentId: $commentId)
  }
`);

interface CommentList {
  nodes: Reference[];
  nextCursor?: string | null;
  hasMore: boolean;
}

export default function CommentsDrawer({ videoId, onClose }: { videoId: string; onClose(): void }) {
  const session = useSession();
  const here = useCurrentPath();
  const report = useReportError();
  const { data, error, refetch, fetchMore } = useQuery(CommentsDocument, {
    variables: { videoId, first: COMMENTS_PAGE_SIZE },
    fetchPolicy: "cache-and-network",
  });
  const comments = data?.video?.comments;
  const pager = usePager(comments, (after) => fetchMore({ variables: { after } }));
  const [draft, setDraft] = useState("");
  const videoRef = `Video:${videoId}`;

  const [addComment, adding] = useMutation(AddCommentDocument, {
    update(cache, { data: added }) {
      if (!added) return;
      const comment = added.addComment;
      const ref = cache.identify(comment);
      cache.modify<{ comments: CommentList; commentCount: number }>({
        id: videoRef,
        fields: {
          comments: (list, { readField, toReference }) => {
            const existing = list as unknown as CommentList;
            if (!existing?.nodes || existing.nodes.some((node) => readField("id", node) === comment.id)) return list;
            return { ...existing, nodes: [toReference(ref!)!, ...existing.nodes] } as never;
          },
          // The server counts asynchronously; this is the count it is about to reach.
          commentCount: (count) => (count as number) + 1,
        },
      });
    },
  });
  const [deleteComment] = useMutation(DeleteCommentDocument);

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const content = draft.trim();
    if (!content) return;
    const send = () =>
      addComment({ variables: { videoId, content } }).then(
        () => setDraft(""),
        (failure: unknown) => report(failure, send),
      );
    void send();
  };

  const remove = (commentId: string) => {
    const run = () =>
      deleteComment({
        variables: { commentId },
        update(cache) {
          cache.modify<{ comments: CommentList; commentCount: number }>({
            id: videoRef,
            fields: {
              comments: (list, { readField }) => {
                const existing = list as unknown as CommentList;
                if (!existing?.nodes) return list;
                return { ...existing, nodes: existing.nodes.filter((node) => readField("id", node) !== commentId) } as never;
              },
              commentCount: (count) => Math.max(0, (count as number) - 1),
            },
          });
          cache.evict({ id: cache.identify({ __typename: "Comment", id: commentId }) });
        },
      }).catch((failure: unknown) => report(failure, run));
    void run();
  };

  return (
    <div className="drawer-backdrop" onClick={onClose}>
      <div className="drawer" role="dialog" aria-modal="true" aria-label="Comments" onClick={(event) => event.stopPropagation()}>
        <header className="drawer-header">
          <h2>{data?.video ? `${data.video.commentCount} comments` : "Comments"}</h2>
          <button type="button" className="icon-button" aria-label="Close comments" onClick={onClose}>
            ×
          </button>
        </header>
        <div className="drawer-body">
          {!data ? (
            error ? (
              <ErrorMessage error={error} onRetry={() => void refetch().catch(() => undefined)} />
            ) : (
              <Spinner />
            )
          ) : !data.video ? (
            <p className="muted">This video is gone.</p>
          ) : data.video.comments.nodes.length === 0 ? (
            <p className="muted">No comments yet. Say something nice.</p>
          ) : (
            <ul className="comments">
              {data.video.comments.nodes.map((comment) => (
                <li key={comment.id} className="comment" data-testid="comment">
                  <Link to={paths.user(comment.user.id)} aria-label={comment.user.name}>
                    <Avatar user={comment.user} size={32} />
                  </Link>
                  <div className="comment-body">
                    <div className="comment-meta">
                      <Link to={paths.user(comment.user.id)}>{comment.user.name}</Link>{" "}
                      <span className="muted">{timeAgo(comment.createdAt)}</span>
                    </div>
                    <p className="comment-text">{comment.content}</p>
                  </div>
                  {session.viewer?.id === comment.user.id ? (
                    <button type="button" className="link-button" onClick={() => remove(comment.id)} aria-label="Delete comment">
                      Delete
                    </button>
                  ) : null}
                </li>
              ))}
            </ul>
          )}
          {data?.video ? <LoadMore {...pager} /> : null}
        </div>
        {session.token ? (
          <form className="composer" onSubmit={submit}>
            <input
              value={draft}
              onChange={(event) => setDraft(event.target.value)}
              placeholder="Add a comment…"
              aria-label="Comment"
              maxLength={COMMENT_MAX_LENGTH}
            />
            <button type="submit" className="button" disabled={adding.loading || !draft.trim()}>
              Post
            </button>
          </form>
        ) : (
          <p className="composer">
            <Link to={paths.login(here)}>Log in</Link>&nbsp;to comment.
          </p>
        )}
      </div>
    </div>
  );
}
