// The last line against a blank page: a screen that throws while rendering shows this instead.
import { Component, type ErrorInfo, type ReactNode } from "react";

interface State {
  failed: boolean;
}

export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  override state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  override componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error("screen failed to render", error, info.componentStack);
  }

  override render() {
    if (!this.state.failed) return this.props.children;
    return (
      <div className="problem" role="alert" data-kind="crash">
        <p>This screen could not be shown. Try again.</p>
        <div className="problem-actions">
          <button type="button" className="button" onClick={() => this.setState({ failed: false })}>
            Retry
          </button>
          <button type="button" className="button button-quiet" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      </div>
    );
  }
}
