// The app's frame: the navigation (a bottom bar on phones, a side rail on wider screens) and the
// screen for the current route, each screen but the feed loaded when first opened.
import { lazy, Suspense, useEffect, useRef, type ReactNode } from "react";
import { useSession } from "./auth/session";
import FeedPage from "./feed/FeedPage";
import { Link, navigate, paths, useCurrentPath, useRoute, type Route } from "./router";
import { ErrorBoundary } from "./ui/ErrorBoundary";
import { ErrorMessage } from "./ui/ErrorMessage";
import { ChatIcon, HomeIcon, PersonIcon, PlusIcon } from "./ui/icons";
import { Spinner } from "./ui/Spinner";

const AuthPage = lazy(() => import("./auth/AuthPage"));
const ProfilePage = lazy(() => import("./profile/ProfilePage"));
const PublishPage = lazy(() => import("./publish/PublishPage"));
const FriendsPage = lazy(() => import("./chat/FriendsPage"));
const ChatPage = lazy(() => import("./chat/ChatPage"));
const VideoPage = lazy(() => import("./video/VideoPage"));

/** Screens that need a viewer send everyone else to log in, and back afterwards. */
function RequireLogin({ children }: { children: ReactNode }) {
  const session = useSession();
  const here = useCurrentPath();
  useEffect(() => {
    if (!session.token) navigate(paths.login(here), { replace: true });
  }, [session.token, here]);
  if (!session.token) return null;
  if (!session.viewer) {
    return (
      <div className="screen-center">{session.error ? <ErrorMessage error={session.error} onRetry={session.retry} /> : <Spinner />}</div>
    );
  }
  return <>{children}</>;
}

function MyProfile() {
  const session = useSession();
  useEffect(() => {
    if (session.viewer) navigate(paths.user(session.viewer.id), { replace: true });
  }, [session.viewer]);
  return <Spinner />;
}

function screenFor(route: Route): ReactNode {
  switch (route.name) {
    case "feed":
      return <FeedPage />;
    case "login":
    case "signup":
      return <AuthPage key={route.name} mode={route.name} next={route.next} />;
    case "video":
      return <VideoPage key={route.id} id={route.id} />;
    case "user":
      return <ProfilePage key={route.id} id={route.id} tab={route.tab} />;
    case "me":
      return (
        <RequireLogin>
          <MyProfile />
        </RequireLogin>
      );
    case "publish":
      return (
        <RequireLogin>
          <PublishPage />
        </RequireLogin>
      );
    case "friends":
      return (
        <RequireLogin>
          <FriendsPage />
        </RequireLogin>
      );
    case "chat":
      return (
        <RequireLogin>
          <ChatPage key={route.userId} userId={route.userId} />
        </RequireLogin>
      );
    case "not-found":
      return (
        <div className="screen-center empty">
          <p>There is nothing here.</p>
          <Link className="button" to={paths.feed()}>
            Go to the feed
          </Link>
        </div>
      );
  }
}

function Navigation({ route }: { route: Route }) {
  const session = useSession();
  const meActive = route.name === "me" || (route.name === "user" && route.id === session.viewer?.id);
  const items = [
    { to: paths.feed(), label: "Home", icon: <HomeIcon />, active: route.name === "feed" },
    { to: paths.publish(), label: "Publish", icon: <PlusIcon />, active: route.name === "publish" },
    { to: paths.friends(), label: "Friends", icon: <ChatIcon />, active: route.name === "friends" || route.name === "chat" },
    session.token
      ? { to: paths.me(), label: session.viewer?.name ?? "Me", icon: <PersonIcon />, active: meActive }
      : { to: paths.login(), label: "Log in", icon: <PersonIcon />, active: route.name === "login" || route.name === "signup" },
  ];
  return (
    <nav className="nav" aria-label="Main">
      <Link className="nav-brand" to={paths.feed()}>
        douyin
      </Link>
      {items.map((item) => (
        <Link
          key={item.label}
          to={item.to}
          className={item.active ? "nav-item nav-active" : "nav-item"}
          aria-current={item.active ? "page" : undefined}
        >
          {item.icon}
          <span className="nav-label">{item.label}</span>
        </Link>
      ))}
    </nav>
  );
}

export function App() {
  const route = useRoute();
  const screenKey = route.name === "user" ? `user:${route.id}` : route.name;
  const main = useRef<HTMLElement>(null);
  // The screen scrolls, not the window: a new screen starts at its top. (Braces matter: newer
  // Chromium returns a promise from scrollTo, and an effect may only return its cleanup.)
  useEffect(() => {
    main.current?.scrollTo?.(0, 0);
  }, [screenKey]);
  return (
    <div className={`app app-${route.name}`}>
      <Navigation route={route} />
      <main className="screen" ref={main}>
        <ErrorBoundary key={screenKey}>
          <Suspense
            fallback={
              <div className="screen-center">
                <Spinner />
              </div>
            }
          >
            {screenFor(route)}
          </Suspense>
        </ErrorBoundary>
      </main>
    </div>
  );
}
