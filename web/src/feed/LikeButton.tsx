// The heart of a video: toggles the like at once, sends people who are not logged in to log in.
import type { VideoCardFragment } from "../gql/graphql";
import { useSession } from "../auth/session";
import { navigate, paths, useCurrentPath } from "../router";
import { compactCount } from "../time";
import { HeartIcon } from "../ui/icons";
import { useReportError } from "../ui/toast";
import { useToggleLike } from "../video/likes";

export function LikeButton({ video }: { video: Pick<VideoCardFragment, "id" | "isFavorite" | "favoriteCount"> }) {
  const session = useSession();
  const toggle = useToggleLike();
  const report = useReportError();
  const here = useCurrentPath();
  const run = () => {
    if (!session.token) return navigate(paths.login(here));
    toggle(video, session.viewer?.id).catch((error: unknown) => report(error, run));
  };
  return (
    <button
      type="button"
      className={video.isFavorite ? "action action-liked" : "action"}
      aria-pressed={video.isFavorite}
      aria-label="Like"
      onClick={run}
    >
      <HeartIcon />
      <span className="action-count" data-testid="like-count">
        {compactCount(video.favoriteCount)}
      </span>
    </button>
  );
}
