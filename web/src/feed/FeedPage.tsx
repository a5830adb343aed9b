// The feed: one video at a time, full height; scrolling, swiping or the arrow keys move to the
// next; the following page is asked for (with the feed's time cursor) as the end nears.
import { useQuery } from "@apollo/client/react";
import { lazy, Suspense, useCallback, useEffect, useRef, useState, type RefObject } from "react";
import { FEED_PAGE_SIZE, FEED_VISIBLE_RATIO } from "../config";
import { graphql } from "../gql";
import { Link, paths } from "../router";
import { ErrorMessage } from "../ui/ErrorMessage";
import { Spinner } from "../ui/Spinner";
import { shouldLoadMore, slideForKey } from "./feed-pager";
import { VideoSlide } from "./VideoSlide";

const CommentsDrawer = lazy(() => import("../comments/CommentsDrawer"));

export const FeedDocument = graphql(`
  query Feed($latestTime: DateTime, $limit: Int) {
    feed(latestTime: $latestTime, limit: $limit) {
      nextTime
      videos {
        ...VideoCard
      }
    }
  }
`);

/** Marked once, when the first page is on screen: the browser test reads it as time to interactive. */
export const FEED_READY_MARK = "douyin:feed-ready";

/** Reports which slide is (mostly) on screen. */
function useActiveSlide(list: RefObject<HTMLElement | null>, count: number, onActive: (index: number) => void) {
  useEffect(() => {
    const root = list.current;
    if (!root || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          if (entry.isIntersecting && entry.intersectionRatio >= FEED_VISIBLE_RATIO)
            onActive(Number((entry.target as HTMLElement).dataset.index));
        }
      },
      { root, threshold: [0, FEED_VISIBLE_RATIO] },
    );
    root.querySelectorAll("[data-slide]").forEach((slide) => observer.observe(slide));
    return () => observer.disconnect();
  }, [list, count, onActive]);
}

export function useFeedKeys(list: RefObject<HTMLElement | null>, activeIndex: number, count: number, enabled: boolean) {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.defaultPrevented || target?.closest("input, textarea, select, [contenteditable='true'], [role='dialog']")) return;
      const next = slideForKey(event.key, activeIndex, count);
      if (next === null) return;
      event.preventDefault();
      list.current?.querySelector(`[data-index="${next}"]`)?.scrollIntoView({ behavior: "smooth", block: "start" });
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [list, activeIndex, count, enabled]);
}

export default function FeedPage() {
  const { data, error, refetch, fetchMore } = useQuery(FeedDocument, { variables: { limit: FEED_PAGE_SIZE } });
  const [more, setMore] = useState<{ loading: boolean; error: unknown }>({ loading: false, error: null });
  const [activeIndex, setActiveIndex] = useState(0);
  const [muted, setMuted] = useState(true);
  const [commentsFor, setCommentsFor] = useState<string | null>(null);
  const list = useRef<HTMLDivElement>(null);
  const videos = data?.feed.videos ?? [];
  const nextTime = data?.feed.nextTime;

  const loadMore = useCallback(() => {
    setMore({ loading: true, error: null });
    fetchMore({ variables: { latestTime: nextTime, limit: FEED_PAGE_SIZE } }).then(
      () => setMore({ loading: false, error: null }),
      (failure: unknown) => setMore({ loading: false, error: failure }),
    );
  }, [fetchMore, nextTime]);

  useEffect(() => {
    if (shouldLoadMore({ activeIndex, loaded: videos.length, nextTime, loading: more.loading, failed: Boolean(more.error) })) loadMore();
  }, [activeIndex, videos.length, nextTime, more, loadMore]);

  useEffect(() => {
    if (data && performance.getEntriesByName(FEED_READY_MARK).length === 0) performance.mark(FEED_READY_MARK);
  }, [data]);

  useActiveSlide(list, videos.length, setActiveIndex);
  useFeedKeys(list, activeIndex, videos.length, commentsFor === null);

  if (!data) {
    return (
      <div className="screen-center">
        {error ? <ErrorMessage error={error} onRetry={() => void refetch().catch(() => undefined)} /> : <Spinner />}
      </div>
    );
  }
  if (videos.length === 0) {
    return (
      <div className="screen-center empty">
        <p>No videos yet.</p>
        <Link className="button" to={paths.publish()}>
          Publish the first one
        </Link>
      </div>
    );
  }
  const toggleMute = () => setMuted((value) => !value);
  return (
    <div className="feed" ref={list} aria-label="Feed">
      {videos.map((video, index) => (
        <VideoSlide
          key={video.id}
          video={video}
          index={index}
          active={index === activeIndex}
          preload={index === activeIndex ? "auto" : Math.abs(index - activeIndex) === 1 ? "metadata" : "none"}
          muted={muted}
          onToggleMute={toggleMute}
          onOpenComments={() => setCommentsFor(video.id)}
        />
      ))}
      <div className="feed-end">
        {more.error ? (
          <ErrorMessage error={more.error} onRetry={loadMore} compact />
        ) : more.loading ? (
          <Spinner label="Loading more videos" />
        ) : nextTime == null ? (
          <p>You have seen every video.</p>
        ) : null}
      </div>
      {commentsFor ? (
        <Suspense fallback={null}>
          <CommentsDrawer videoId={commentsFor} onClose={() => setCommentsFor(null)} />
        </Suspense>
      ) : null}
    </div>
  );
}
