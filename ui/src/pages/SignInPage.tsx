// Sign in with an API token (the admin's is in DATA_DIR/admin-token).

import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import type { User } from "../api/types";
import { setToken } from "../auth";
import { ErrorMessage } from "../components/common";

export function SignInPage({ onSignedIn }: { onSignedIn: (token: string, user: User) => void }) {
  const [token, setTokenText] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const value = token.trim();
    try {
      const user = await api.me(value);
      setToken(value);
      onSignedIn(value, user);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="signin">
      <h1>Switchyard</h1>
      <form onSubmit={submit} aria-label="Sign in">
        <label htmlFor="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autoComplete="current-password"
          value={token}
          onChange={(e) => setTokenText(e.target.value)}
          required
          autoFocus
        />
        <p className="hint">
          The admin's token is in <code>.switchyard/admin-token</code> (or <code>SWITCHYARD_ADMIN_TOKEN</code>). It is
          kept in this tab only.
        </p>
        <button type="submit" disabled={busy || !token.trim()}>
          Sign in
        </button>
        <ErrorMessage error={error} />
      </form>
    </main>
  );
}
