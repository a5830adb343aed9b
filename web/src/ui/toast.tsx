// Failures of actions (a like, a follow, a message) that have no screen of their own to show
// them: a short notice with a retry, at the edge of the screen.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";
import { NOTICE_MS } from "../config";
import { describeError } from "../errors";

interface Notice {
  id: number;
  message: string;
  retry?: () => void;
}

type Report = (error: unknown, retry?: () => void) => void;

const ToastContext = createContext<Report>(() => undefined);

let nextId = 1;

export function ToastProvider({ children }: { children: ReactNode }) {
  const [notices, setNotices] = useState<Notice[]>([]);
  const dismiss = useCallback((id: number) => setNotices((all) => all.filter((notice) => notice.id !== id)), []);
  const report = useCallback<Report>(
    (error, retry) => {
      const notice = { id: nextId++, message: describeError(error).message, retry };
      setNotices((all) => [...all.slice(-2), notice]);
      setTimeout(() => dismiss(notice.id), NOTICE_MS);
    },
    [dismiss],
  );
  const value = useMemo(() => report, [report]);
  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts">
        {notices.map((notice) => (
          <div key={notice.id} className="toast" role="alert">
            <span>{notice.message}</span>
            {notice.retry ? (
              <button
                type="button"
                className="button"
                onClick={() => {
                  dismiss(notice.id);
                  notice.retry?.();
                }}
              >
                Retry
              </button>
            ) : null}
            <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => dismiss(notice.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

/** Reports a failed action: `report(error, retry)`. */
export const useReportError = () => useContext(ToastContext);
