// Signing up and logging in: one form, two mutations; the token goes to the token store and the
// person back to where they were heading.
import { useMutation } from "@apollo/client/react";
import { useState, type FormEvent } from "react";
import { PASSWORD_MAX_LENGTH, USERNAME_MAX_LENGTH } from "../config";
import { graphql } from "../gql";
import { Link, navigate, paths } from "../router";
import { ErrorMessage } from "../ui/ErrorMessage";
import { useSession } from "./session";

const RegisterDocument = graphql(`
  mutation Register($username: String!, $password: String!) {
    register(username: $username, password: $password) {
      token
      user {
        id
        name
        avatar
      }
    }
  }
`);

const LoginDocument = graphql(`
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      token
      user {
        id
        name
        avatar
      }
    }
  }
`);

export default function AuthPage({ mode, next }: { mode: "login" | "signup"; next: string | null }) {
  const session = useSession();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  // Anonymous: a stale token must neither be sent nor be cleared by a wrong password.
  const [register, registering] = useMutation(RegisterDocument, { context: { anonymous: true } });
  const [login, loggingIn] = useMutation(LoginDocument, { context: { anonymous: true } });
  const [error, setError] = useState<unknown>(null);
  const busy = registering.loading || loggingIn.loading;
  const signup = mode === "signup";

  const submit = async (event?: FormEvent) => {
    event?.preventDefault();
    setError(null);
    try {
      const variables = { username: username.trim(), password };
      const token = signup ? (await register({ variables })).data?.register.token : (await login({ variables })).data?.login.token;
      if (!token) return;
      session.signIn(token);
      navigate(next ?? paths.feed(), { replace: true });
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <div className="page narrow auth">
      <h1>{signup ? "Create your account" : "Log in"}</h1>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <label className="field">
          <span>Username</span>
          <input
            value={username}
            onChange={(event) => setUsername(event.target.value)}
            autoComplete="username"
            maxLength={USERNAME_MAX_LENGTH}
            required
            name="username"
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            type="password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
            autoComplete={signup ? "new-password" : "current-password"}
            maxLength={PASSWORD_MAX_LENGTH}
            required
            name="password"
          />
        </label>
        {error ? <ErrorMessage error={error} onRetry={() => void submit()} /> : null}
        <button type="submit" className="button button-wide" disabled={busy}>
          {signup ? "Sign up" : "Log in"}
        </button>
      </form>
      <p className="muted">
        {signup ? "Already have an account? " : "New here? "}
        <Link to={signup ? paths.login(next ?? undefined) : paths.signup(next ?? undefined)} replace>
          {signup ? "Log in" : "Sign up"}
        </Link>
      </p>
    </div>
  );
}
