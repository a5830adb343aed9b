// Friends (people who follow each other) with the latest message of each conversation.
import { useQuery } from "@apollo/client/react";
import { useSession } from "../auth/session";
import { FRIENDS_PAGE_SIZE } from "../config";
import { graphql } from "../gql";
import { Link, paths } from "../router";
import { timeAgo } from "../time";
import { Avatar } from "../ui/Avatar";
import { ErrorMessage } from "../ui/ErrorMessage";
import { LoadMore } from "../ui/LoadMore";
import { Spinner } from "../ui/Spinner";
import { usePager } from "../ui/use-pager";

export const FriendsDocument = graphql(`
  query Friends($first: Int, $after: String) {
    me {
      id
      friends(first: $first, after: $after) {
        nodes {
          user {
            id
            name
            avatar
          }
          latestMessage {
            id
            content
            createdAt
            fromUserId
          }
        }
        nextCursor
        hasMore
      }
    }
  }
`);

export default function FriendsPage() {
  const session = useSession();
  const { data, error, refetch, fetchMore } = useQuery(FriendsDocument, {
    variables: { first: FRIENDS_PAGE_SIZE },
    fetchPolicy: "cache-and-network",
  });
  const friends = data?.me?.friends;
  const pager = usePager(friends, (after) => fetchMore({ variables: { after } }));
  return (
    <div className="page">
      <h1>Friends</h1>
      {!friends ? (
        error ? (
          <ErrorMessage error={error} onRetry={() => void refetch().catch(() => undefined)} />
        ) : (
          <Spinner />
        )
      ) : friends.nodes.length === 0 ? (
        <p className="muted list-empty">No friends yet. Friends are people you follow who follow you back.</p>
      ) : (
        <ul className="people" aria-label="Friends">
          {friends.nodes.map(({ user, latestMessage }) => (
            <li key={user.id} className="person">
              <Link className="person-link" to={paths.chat(user.id)} data-testid="friend">
                <Avatar user={user} size={48} />
                <span className="person-text">
                  <strong>{user.name}</strong>
                  <span className="muted person-signature" data-testid="latest-message">
                    {latestMessage
                      ? `${latestMessage.fromUserId === session.viewer?.id ? "You: " : ""}${latestMessage.content}`
                      : "Say hello"}
                  </span>
                </span>
                {latestMessage ? <span className="muted person-time">{timeAgo(latestMessage.createdAt)}</span> : null}
              </Link>
            </li>
          ))}
        </ul>
      )}
      {friends ? <LoadMore {...pager} /> : null}
    </div>
  );
}
