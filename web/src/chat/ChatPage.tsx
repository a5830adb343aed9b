// A conversation with a friend: shown from the cache, filled by its live subscription while the
// WebSocket is connected and by polling with `after` while it is not (and to catch up when it
// connects), each message once (merged by id), one's own on the right.
import { skipToken, useApolloClient, useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { useLiveState } from "../apollo/live-context";
import { useSession } from "../auth/session";
import { CHAT_POLL_MS, LIVE_SETTLE_MS, MESSAGE_MAX_LENGTH } from "../config";
import { graphql } from "../gql";
import type { ChatQuery } from "../gql/graphql";
import { Link, paths } from "../router";
import { timeAgo } from "../time";
import { Avatar } from "../ui/Avatar";
import { ErrorMessage } from "../ui/ErrorMessage";
import { Spinner } from "../ui/Spinner";
import { useReportError } from "../ui/toast";
import { createChatPoller } from "./chat-poller";

export const ChatDocument = graphql(`
  query Chat($withUserId: ID!, $after: DateTime) {
    chat(withUserId: $withUserId, after: $after) {
      id
      fromUserId
      toUserId
      content
      createdAt
    }
  }
`);

export const ChatPartnerDocument = graphql(`
  query ChatPartner($id: ID!) {
    user(id: $id) {
      id
      name
      avatar
    }
  }
`);

export const MessageReceivedDocument = graphql(`
  subscription MessageReceived($fromUserId: ID) {
    messageReceived(fromUserId: $fromUserId) {
      id
      fromUserId
      toUserId
      content
      createdAt
    }
  }
`);

const SendMessageDocument = graphql(`
  mutation SendMessage($toUserId: ID!, $content: String!) {
    sendMessage(toUserId: $toUserId, content: $content) {
      id
      fromUserId
      toUserId
      content
      createdAt
    }
  }
`);

type ChatMessage = ChatQuery["chat"][number];

export default function ChatPage({ userId }: { userId: string }) {
  const client = useApolloClient();
  const session = useSession();
  const report = useReportError();
  const partner = useQuery(ChatPartnerDocument, { variables: { id: userId } });
  // Only ever read from the cache: the poller below is what fills it.
  const { data } = useQuery(ChatDocument, { variables: { withUserId: userId }, fetchPolicy: "cache-only" });
  const [pollError, setPollError] = useState<unknown>(null);
  const [draft, setDraft] = useState("");
  const bottom = useRef<HTMLDivElement>(null);

  const deliver = useCallback(
    (messages: readonly ChatMessage[]) =>
      client.cache.updateQuery({ query: ChatDocument, variables: { withUserId: userId } }, (existing) => ({
        chat: [...(existing?.chat ?? []), ...messages],
      })),
    [client, userId],
  );

  const poller = useMemo(
    () =>
      createChatPoller({
        intervalMs: CHAT_POLL_MS,
        settleMs: LIVE_SETTLE_MS,
        fetchAfter: async (after) => {
          // Not through the cache: the cursor must come from this answer alone.
          const result = await client.query({ query: ChatDocument, variables: { withUserId: userId, after }, fetchPolicy: "no-cache" });
          return result.data?.chat ?? [];
        },
        deliver,
        onError: setPollError,
      }),
    [client, userId, deliver],
  );

  useEffect(() => {
    poller.start();
    return () => poller.stop();
  }, [poller]);

  // This conversation as it happens (the partner's messages and one's own from other devices).
  // A subscription the server refuses (a limit) leaves the page polling.
  const [subscriptionFailed, setSubscriptionFailed] = useState(false);
  useSubscription(
    MessageReceivedDocument,
    session.token
      ? {
          variables: { fromUserId: userId },
          ignoreResults: true,
          onData: ({ data }) => {
            if (data.data) deliver([data.data.messageReceived]);
          },
          onError: () => setSubscriptionFailed(true),
        }
      : skipToken,
  );
  const live = useLiveState() === "live" && !subscriptionFailed;
  useEffect(() => poller.setLive(live), [poller, live]);

  const [sendMessage, sending] = useMutation(SendMessageDocument, {
    update(cache, { data: sent }) {
      if (!sent) return;
      cache.updateQuery({ query: ChatDocument, variables: { withUserId: userId } }, (existing) =>
        existing ? { chat: [...existing.chat, sent.sendMessage] } : undefined,
      );
    },
  });

  const messages = data?.chat;
  useEffect(() => {
    bottom.current?.scrollIntoView?.({ block: "end" });
  }, [messages?.length]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const content = draft.trim();
    if (!content) return;
    const send = () =>
      sendMessage({ variables: { toUserId: userId, content } }).then(
        () => {
          setDraft("");
          // Live, the subscription brings whatever the partner sent meanwhile; otherwise ask now.
          if (!live) void poller.pollNow();
        },
        (error: unknown) => report(error, send),
      );
    void send();
  };

  const name = partner.data?.user?.name ?? "";
  return (
    <div className="page chat">
      <header className="chat-header">
        <Link to={paths.friends()} className="icon-button" aria-label="Back to friends">
          ‹
        </Link>
        {partner.data?.user ? (
          <Link className="chat-partner" to={paths.user(userId)}>
            <Avatar user={partner.data.user} size={36} />
            <strong>{name}</strong>
          </Link>
        ) : (
          <strong>Chat</strong>
        )}
      </header>
      {pollError ? <ErrorMessage error={pollError} onRetry={() => void poller.pollNow()} compact /> : null}
      <div className="messages" aria-live="polite" aria-label="Messages">
        {!messages ? (
          pollError ? null : (
            <Spinner />
          )
        ) : messages.length === 0 ? (
          <p className="muted list-empty">No messages yet. Say hello to {name || "your friend"}.</p>
        ) : (
          messages.map((message) => {
            const mine = message.fromUserId === session.viewer?.id;
            return (
              <div key={message.id} className={mine ? "bubble bubble-mine" : "bubble"} data-testid="message">
                <p>{message.content}</p>
                <time dateTime={message.createdAt}>{timeAgo(message.createdAt)}</time>
              </div>
            );
          })
        )}
        <div ref={bottom} />
      </div>
      <form className="composer" onSubmit={submit}>
        <input
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          placeholder="Message…"
          aria-label="Message"
          maxLength={MESSAGE_MAX_LENGTH}
        />
        <button type="submit" className="button" disabled={sending.loading || !draft.trim()}>
          Send
        </button>
      </form>
    </div>
  );
}
