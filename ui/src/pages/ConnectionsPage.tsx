// Connections: fields in clear, secrets write-only (their names are shown,
// never their values; a secret left blank when editing keeps its value).

import { useState, type FormEvent } from "react";
import { api } from "../api/client";
import type { Connection } from "../api/types";
import { ErrorMessage, Loading, Time, useLoad } from "../components/common";

// The types of the built-in catalogue (the API has no list of connection types yet).
const TYPES = ["http", "webhook_secret", "aws", "azure", "datadog", "github", "gitlab", "jira", "openai", "opsgenie", "pagerduty", "slack", "smtp", "teams_webhook"];

interface Row {
  key: string;
  value: string;
}

function Rows({ legend, rows, setRows, secret }: { legend: string; rows: Row[]; setRows: (r: Row[]) => void; secret?: boolean }) {
  const slug = legend.toLowerCase().replace(/\W+/g, "-");
  return (
    <fieldset>
      <legend>{legend}</legend>
      {rows.map((row, i) => (
        <div className="kv" key={i}>
          <input
            aria-label={`${legend} ${i + 1} name`}
            placeholder="name"
            value={row.key}
            onChange={(e) => setRows(rows.map((r, j) => (j === i ? { ...r, key: e.target.value } : r)))}
          />
          <input
            aria-label={`${legend} ${i + 1} value`}
            placeholder={secret ? "value (write-only)" : "value (JSON or text)"}
            type={secret ? "password" : "text"}
            autoComplete={secret ? "new-password" : "off"}
            value={row.value}
            data-testid={secret ? `${slug}-value-${i}` : undefined}
            onChange={(e) => setRows(rows.map((r, j) => (j === i ? { ...r, value: e.target.value } : r)))}
          />
          <button type="button" aria-label={`Remove ${legend.toLowerCase()} row ${i + 1}`} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
            ✕
          </button>
        </div>
      ))}
      <button type="button" onClick={() => setRows([...rows, { key: "", value: "" }])}>
        Add {secret ? "secret" : "field"}
      </button>
    </fieldset>
  );
}

/** A field's text as JSON when it parses (numbers, booleans, objects), else the text. */
function fieldValue(text: string): unknown {
  try {
    const v = JSON.parse(text);
    return typeof v === "string" ? text : v;
  } catch {
    return text;
  }
}

function toFields(rows: Row[]) {
  return Object.fromEntries(rows.filter((r) => r.key.trim()).map((r) => [r.key.trim(), fieldValue(r.value)]));
}

function ConnectionForm({ existing, onDone }: { existing: Connection | null; onDone: () => void }) {
  const [name, setName] = useState(existing?.name ?? "");
  const [type, setType] = useState(existing?.type ?? "http");
  const [fields, setFields] = useState<Row[]>(
    existing ? Object.entries(existing.fields).map(([key, v]) => ({ key, value: typeof v === "string" ? v : JSON.stringify(v) })) : [{ key: "base_url", value: "" }],
  );
  const [secrets, setSecrets] = useState<Row[]>(existing ? [] : [{ key: "token", value: "" }]);
  const [remove, setRemove] = useState<string[]>([]);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const secretValues = Object.fromEntries(secrets.filter((r) => r.key.trim() && r.value).map((r) => [r.key.trim(), r.value]));
    try {
      if (existing) {
        const changes: Record<string, string | null> = { ...secretValues };
        for (const r of remove) changes[r] = null;
        await api.updateConnection(existing.name, { fields: toFields(fields), secrets: changes });
      } else {
        await api.createConnection({ name: name.trim(), type: type.trim(), fields: toFields(fields), secrets: secretValues });
      }
      onDone();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <form className="card" onSubmit={submit} aria-label={existing ? `Edit connection ${existing.name}` : "New connection"}>
      <h2>{existing ? `Edit ${existing.name}` : "New connection"}</h2>
      {!existing && (
        <div className="row">
          <div className="field">
            <label htmlFor="conn-name">Name</label>
            <input id="conn-name" value={name} onChange={(e) => setName(e.target.value)} required pattern="[a-z0-9][a-z0-9_.-]*" />
          </div>
          <div className="field">
            <label htmlFor="conn-type">Type</label>
            <input id="conn-type" list="conn-types" value={type} onChange={(e) => setType(e.target.value)} required />
            <datalist id="conn-types">
              {TYPES.map((t) => (
                <option key={t} value={t} />
              ))}
            </datalist>
          </div>
        </div>
      )}
      <Rows legend="Fields" rows={fields} setRows={setFields} />
      <Rows legend="Secrets" rows={secrets} setRows={setSecrets} secret />
      {existing && existing.secrets.length > 0 && (
        <fieldset>
          <legend>Stored secrets</legend>
          <p className="hint">Values are never shown. Add a secret above with the same name to replace it.</p>
          {existing.secrets.map((s) => (
            <div className="field inline" key={s}>
              <input
                id={`remove-${s}`}
                type="checkbox"
                checked={remove.includes(s)}
                onChange={(e) => setRemove(e.target.checked ? [...remove, s] : remove.filter((x) => x !== s))}
              />
              <label htmlFor={`remove-${s}`}>
                remove <code>{s}</code>
              </label>
            </div>
          ))}
        </fieldset>
      )}
      <div className="buttons">
        <button type="submit">{existing ? "Save connection" : "Create connection"}</button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
      <ErrorMessage error={error} />
    </form>
  );
}

export function ConnectionsPage() {
  const { data, error, loading, reload } = useLoad(() => api.listConnections(), []);
  const [editing, setEditing] = useState<Connection | "new" | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const remove = async (name: string) => {
    if (!window.confirm(`Delete connection ${name}? Steps that use it will fail.`)) return;
    try {
      await api.deleteConnection(name);
      reload();
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <>
      <div className="page-head">
        <h1>Connections</h1>
        <button type="button" onClick={() => setEditing("new")}>
          New connection
        </button>
      </div>
      {editing && (
        <ConnectionForm
          key={editing === "new" ? "new" : editing.name}
          existing={editing === "new" ? null : editing}
          onDone={() => {
            setEditing(null);
            reload();
          }}
        />
      )}
      <ErrorMessage error={error ?? actionError} />
      {loading && !data && <Loading what="connections" />}
      {data && data.items.length === 0 && <p className="muted">No connections yet.</p>}
      {data && data.items.length > 0 && (
        <table className="table" aria-label="Connections">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Fields</th>
              <th scope="col">Secrets</th>
              <th scope="col">Updated</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((c) => (
              <tr key={c.name} data-testid={`connection-${c.name}`}>
                <td>{c.name}</td>
                <td>{c.type}</td>
                <td className="small mono">
                  {Object.entries(c.fields).map(([k, v]) => (
                    <div key={k}>
                      {k}: {typeof v === "string" ? v : JSON.stringify(v)}
                    </div>
                  ))}
                </td>
                <td>
                  {c.secrets.map((s) => (
                    <span key={s} className="chip" title="write-only: the value is never shown">
                      {s}: ••••••
                    </span>
                  ))}
                </td>
                <td>
                  <Time iso={c.updated_at} /> {c.updated_by && <span className="muted small">by {c.updated_by}</span>}
                </td>
                <td className="actions">
                  <button type="button" onClick={() => setEditing(c)} aria-label={`Edit connection ${c.name}`}>
                    Edit
                  </button>
                  <button type="button" onClick={() => remove(c.name)} aria-label={`Delete connection ${c.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}
