// Follow / unfollow someone; people who are not logged in are sent to log in first.
import { useSession } from "../auth/session";
import { navigate, paths, useCurrentPath } from "../router";
import { useReportError } from "../ui/toast";
import { useToggleFollow } from "./follow";

export function FollowButton({ user, small = false }: { user: { id: string; isFollow: boolean; name: string }; small?: boolean }) {
  const session = useSession();
  const toggle = useToggleFollow();
  const report = useReportError();
  const here = useCurrentPath();
  if (session.viewer?.id === user.id) return null;
  const run = () => {
    if (!session.token || !session.viewer) return navigate(paths.login(here));
    toggle(user, session.viewer.id).catch((error: unknown) => report(error, run));
  };
  return (
    <button
      type="button"
      className={`${user.isFollow ? "button button-quiet" : "button"}${small ? " button-small" : ""}`}
      aria-pressed={user.isFollow}
      aria-label={user.isFollow ? `Unfollow ${user.name}` : `Follow ${user.name}`}
      onClick={run}
    >
      {user.isFollow ? "Following" : "Follow"}
    </button>
  );
}
