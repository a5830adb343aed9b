// A person's page: avatar, name, counts, follow/unfollow, and tabs for their videos and liked
// videos (grids) and their followers and following (lists), each paged.
import { useQuery } from "@apollo/client/react";
import { useSession } from "../auth/session";
import { graphql } from "../gql";
import { Link, navigate, paths, type ProfileTab } from "../router";
import { compactCount } from "../time";
import { Avatar } from "../ui/Avatar";
import { ErrorMessage } from "../ui/ErrorMessage";
import { Spinner } from "../ui/Spinner";
import { FollowButton } from "./FollowButton";
import { UserList } from "./UserList";
import { VideoGrid } from "./VideoGrid";

export const ProfileDocument = graphql(`
  query Profile($id: ID!) {
    user(id: $id) {
      id
      name
      avatar
      signature
      followCount
      followerCount
      workCount
      favoriteCount
      totalFavorited
      isFollow
    }
  }
`);

const TABS: { tab: ProfileTab; label: string }[] = [
  { tab: "videos", label: "Videos" },
  { tab: "liked", label: "Liked" },
  { tab: "followers", label: "Followers" },
  { tab: "following", label: "Following" },
];

export default function ProfilePage({ id, tab }: { id: string; tab: ProfileTab }) {
  const session = useSession();
  const { data, error, refetch } = useQuery(ProfileDocument, { variables: { id }, fetchPolicy: "cache-and-network" });
  const user = data?.user;
  if (!data) {
    return (
      <div className="screen-center">
        {error ? <ErrorMessage error={error} onRetry={() => void refetch().catch(() => undefined)} /> : <Spinner />}
      </div>
    );
  }
  if (!user) {
    return (
      <div className="screen-center empty">
        <p>There is no such user.</p>
        <Link className="button" to={paths.feed()}>
          Back to the feed
        </Link>
      </div>
    );
  }
  const isMe = session.viewer?.id === user.id;
  const counts: { label: string; value: number; tab?: ProfileTab }[] = [
    { label: "Following", value: user.followCount, tab: "following" },
    { label: "Followers", value: user.followerCount, tab: "followers" },
    { label: "Likes", value: user.totalFavorited },
  ];
  return (
    <div className="page profile">
      <header className="profile-header">
        <Avatar user={user} size={88} />
        <div className="profile-who">
          <h1 className="profile-name">{user.name}</h1>
          {user.signature ? <p className="muted">{user.signature}</p> : null}
          <dl className="profile-counts">
            {counts.map((count) => (
              <div key={count.label} data-testid={`count-${count.label.toLowerCase()}`}>
                <dt>{count.tab ? <Link to={paths.user(user.id, count.tab)}>{count.label}</Link> : count.label}</dt>
                <dd>{compactCount(count.value)}</dd>
              </div>
            ))}
          </dl>
          <div className="profile-actions">
            {isMe ? (
              <>
                <Link className="button" to={paths.publish()}>
                  Publish a video
                </Link>
                <button
                  type="button"
                  className="button button-quiet"
                  onClick={() => void session.signOut().then(() => navigate(paths.feed()))}
                >
                  Log out
                </button>
              </>
            ) : (
              <>
                <FollowButton user={user} />
                {user.isFollow ? (
                  <Link className="button button-quiet" to={paths.chat(user.id)}>
                    Message
                  </Link>
                ) : null}
              </>
            )}
          </div>
        </div>
      </header>
      <nav className="tabs" aria-label="Profile sections">
        {TABS.map((item) => (
          <Link
            key={item.tab}
            to={paths.user(user.id, item.tab)}
            replace
            className={item.tab === tab ? "tab tab-active" : "tab"}
            aria-current={item.tab === tab ? "page" : undefined}
          >
            {item.label}
            {item.tab === "videos" ? ` ${user.workCount}` : item.tab === "liked" ? ` ${user.favoriteCount}` : ""}
          </Link>
        ))}
      </nav>
      {tab === "videos" || tab === "liked" ? <VideoGrid userId={user.id} kind={tab} /> : <UserList userId={user.id} kind={tab} />}
    </div>
  );
}
