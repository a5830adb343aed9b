// One video filling the screen: the cover until it plays, playing (muted) while it is the slide
// in view and paused otherwise, with its author, title, like and comment buttons on top (their
// counts live while it is in view).
import { useEffect, useRef, useState } from "react";
import type { VideoCardFragment } from "../gql/graphql";
import { Link, paths } from "../router";
import { compactCount, timeAgo } from "../time";
import { Avatar } from "../ui/Avatar";
import { CommentIcon, PlayIcon, VolumeIcon } from "../ui/icons";
import { useLiveCounts } from "../video/live-counts";
import { LikeButton } from "./LikeButton";

export interface VideoSlideProps {
  video: VideoCardFragment;
  index: number;
  active: boolean;
  /** The slides next to the one in view load their first bytes ahead; the rest load nothing. */
  preload: "auto" | "metadata" | "none";
  muted: boolean;
  onToggleMute(): void;
  onOpenComments(): void;
}

export function VideoSlide({ video, index, active, preload, muted, onToggleMute, onOpenComments }: VideoSlideProps) {
  const element = useRef<HTMLVideoElement>(null);
  // A tap pauses the slide in view until it is tapped again or scrolled away.
  const [held, setHeld] = useState(false);
  const [playing, setPlaying] = useState(false);
  useLiveCounts(video.id, active);

  useEffect(() => {
    if (!active) setHeld(false);
  }, [active]);

  useEffect(() => {
    const player = element.current;
    if (!player) return;
    if (active && !held) {
      // Browsers refuse autoplay with sound before a gesture; the cover then stays until a tap.
      player.play().catch(() => setPlaying(false));
    } else {
      player.pause();
    }
  }, [active, held]);

  return (
    <section className="slide" data-slide="" data-index={index} aria-label={video.title} aria-current={active ? "true" : undefined}>
      <video
        ref={element}
        className="slide-video"
        src={video.playUrl}
        poster={video.coverUrl}
        muted={muted}
        loop
        playsInline
        preload={preload}
        onPlaying={() => setPlaying(true)}
        onPause={() => setPlaying(false)}
        onClick={() => setHeld((value) => !value)}
      />
      {held && !playing ? (
        <button type="button" className="slide-paused" aria-label="Play" onClick={() => setHeld(false)}>
          <PlayIcon />
        </button>
      ) : null}
      <div className="slide-info">
        <Link className="slide-author-name" to={paths.user(video.author.id)}>
          @{video.author.name}
        </Link>
        <span className="slide-time"> · {timeAgo(video.createdAt)}</span>
        <p className="slide-title">{video.title}</p>
      </div>
      <div className="slide-actions">
        <Link className="action" to={paths.user(video.author.id)} aria-label={`Profile of ${video.author.name}`}>
          <Avatar user={video.author} size={44} />
        </Link>
        <LikeButton video={video} />
        <button type="button" className="action" aria-label="Comments" onClick={onOpenComments}>
          <CommentIcon />
          <span className="action-count" data-testid="comment-count">
            {compactCount(video.commentCount)}
          </span>
        </button>
        <button type="button" className="action" aria-label={muted ? "Unmute" : "Mute"} onClick={onToggleMute}>
          <VolumeIcon muted={muted} />
        </button>
      </div>
    </section>
  );
}
