// Users and their roles; API tokens (a new token is shown once).

import { useState, type FormEvent } from "react";
import { useSession } from "../App";
import { api } from "../api/client";
import type { Role, TokenCreated, User } from "../api/types";
import { ErrorMessage, Loading, Time, useLoad } from "../components/common";

const ROLES: Role[] = ["admin", "editor", "operator", "viewer"];

function NewUser({ onCreated }: { onCreated: () => void }) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.createUser(name.trim(), role);
      setName("");
      onCreated();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form className="card row" onSubmit={submit} aria-label="New user">
      <div className="field">
        <label htmlFor="user-name">User name</label>
        <input id="user-name" value={name} onChange={(e) => setName(e.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor="user-role">Role</label>
        <select id="user-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r}>{r}</option>
          ))}
        </select>
      </div>
      <div className="field buttons">
        <button type="submit">Add user</button>
      </div>
      <ErrorMessage error={error} />
    </form>
  );
}

function Tokens({ user }: { user: User }) {
  const { data, error, reload } = useLoad(() => api.listTokens(user.name), [user.name]);
  const [created, setCreated] = useState<TokenCreated | null>(null);
  const [days, setDays] = useState("");
  const [actionError, setActionError] = useState<unknown>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setActionError(null);
    try {
      setCreated(await api.createToken(user.name, days ? Math.round(Number(days) * 86400) : undefined));
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const revoke = async (id: string) => {
    try {
      await api.deleteToken(id);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };

  return (
    <div className="card" data-testid="tokens">
      <h2>Tokens of {user.name}</h2>
      <form className="row" onSubmit={create} aria-label={`New token for ${user.name}`}>
        <div className="field">
          <label htmlFor="token-days">Expires in (days, empty: never)</label>
          <input id="token-days" type="number" min="1" step="any" value={days} onChange={(e) => setDays(e.target.value)} />
        </div>
        <div className="field buttons">
          <button type="submit">Create token</button>
        </div>
      </form>
      {created && (
        <div className="notice" role="status">
          <label htmlFor="new-token">New token (shown this once: copy it now)</label>
          <input id="new-token" readOnly value={created.token} data-testid="new-token" onFocus={(e) => e.target.select()} />
          <button type="button" onClick={() => navigator.clipboard?.writeText(created.token)}>
            Copy
          </button>
        </div>
      )}
      <ErrorMessage error={error ?? actionError} />
      {data && (
        <table className="table compact" aria-label={`Tokens of ${user.name}`}>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((t) => (
              <tr key={t.id}>
                <td className="mono small">{t.id}</td>
                <td>
                  <Time iso={t.created_at} />
                </td>
                <td>{t.expires_at ? <Time iso={t.expires_at} /> : "never"}</td>
                <td>
                  <Time iso={t.last_used_at} />
                </td>
                <td>{t.revoked ? "revoked" : "active"}</td>
                <td>
                  {!t.revoked && (
                    <button type="button" onClick={() => revoke(t.id)} aria-label={`Revoke token ${t.id}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

export function UsersPage() {
  const { user: me } = useSession();
  const { data, error, loading, reload } = useLoad(() => api.listUsers(), []);
  const [picked, setPicked] = useState<string | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);
  const update = async (name: string, body: { role?: Role; disabled?: boolean }) => {
    setActionError(null);
    try {
      await api.updateUser(name, body);
      reload();
    } catch (err) {
      setActionError(err);
    }
  };
  const chosen = data?.items.find((u) => u.name === picked) ?? null;

  return (
    <>
      <div className="page-head">
        <h1>Users and tokens</h1>
      </div>
      <NewUser onCreated={reload} />
      <ErrorMessage error={error ?? actionError} />
      {loading && !data && <Loading what="users" />}
      {data && (
        <table className="table" aria-label="Users">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((u) => (
              <tr key={u.id} data-testid={`user-${u.name}`}>
                <td>
                  {u.name} {me?.id === u.id && <span className="muted small">(you)</span>}
                </td>
                <td>
                  <select aria-label={`Role of ${u.name}`} value={u.role} onChange={(e) => update(u.name, { role: e.target.value as Role })} disabled={me?.id === u.id}>
                    {ROLES.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td>{u.disabled ? "disabled" : "active"}</td>
                <td>
                  <Time iso={u.created_at} />
                </td>
                <td className="actions">
                  <button type="button" onClick={() => setPicked(u.name)} aria-label={`Tokens of ${u.name}`}>
                    Tokens
                  </button>
                  {me?.id !== u.id && (
                    <button type="button" onClick={() => update(u.name, { disabled: !u.disabled })} aria-label={`${u.disabled ? "Enable" : "Disable"} ${u.name}`}>
                      {u.disabled ? "Enable" : "Disable"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {chosen && <Tokens key={chosen.name} user={chosen} />}
    </>
  );
}
