// Who follows a user, or whom they follow: a paged list with follow buttons.
import { useQuery } from "@apollo/client/react";
import { LIST_PAGE_SIZE } from "../config";
import { graphql } from "../gql";
import type { UserRowFragment } from "../gql/graphql";
import { Link, paths } from "../router";
import { Avatar } from "../ui/Avatar";
import { ErrorMessage } from "../ui/ErrorMessage";
import { LoadMore } from "../ui/LoadMore";
import { Spinner } from "../ui/Spinner";
import { usePager } from "../ui/use-pager";
import { FollowButton } from "./FollowButton";

graphql(`
  fragment UserRow on User {
    id
    name
    avatar
    signature
    isFollow
  }
`);

const FollowersDocument = graphql(`
  query Followers($id: ID!, $first: Int, $after: String) {
    user(id: $id) {
      id
      followers(first: $first, after: $after) {
        nodes {
          ...UserRow
        }
        nextCursor
        hasMore
      }
    }
  }
`);

const FollowingDocument = graphql(`
  query Following($id: ID!, $first: Int, $after: String) {
    user(id: $id) {
      id
      following(first: $first, after: $after) {
        nodes {
          ...UserRow
        }
        nextCursor
        hasMore
      }
    }
  }
`);

export function UserList({ userId, kind }: { userId: string; kind: "followers" | "following" }) {
  const followers = useQuery(FollowersDocument, {
    variables: { id: userId, first: LIST_PAGE_SIZE },
    skip: kind !== "followers",
    fetchPolicy: "cache-and-network",
  });
  const following = useQuery(FollowingDocument, {
    variables: { id: userId, first: LIST_PAGE_SIZE },
    skip: kind !== "following",
    fetchPolicy: "cache-and-network",
  });
  const result = kind === "followers" ? followers : following;
  const connection = kind === "followers" ? followers.data?.user?.followers : following.data?.user?.following;
  const pager = usePager(connection, (after) => result.fetchMore({ variables: { after } }));

  if (!connection) {
    return result.error ? <ErrorMessage error={result.error} onRetry={() => void result.refetch().catch(() => undefined)} /> : <Spinner />;
  }
  if (connection.nodes.length === 0)
    return <p className="muted list-empty">{kind === "followers" ? "No followers yet." : "Not following anyone yet."}</p>;
  return (
    <>
      <ul className="people" aria-label={kind === "followers" ? "Followers" : "Following"}>
        {connection.nodes.map((user: UserRowFragment) => (
          <li key={user.id} className="person">
            <Link className="person-link" to={paths.user(user.id)}>
              <Avatar user={user} size={44} />
              <span>
                <strong>{user.name}</strong>
                {user.signature ? <span className="muted person-signature">{user.signature}</span> : null}
              </span>
            </Link>
            <FollowButton user={user} small />
          </li>
        ))}
      </ul>
      <LoadMore {...pager} />
    </>
  );
}
