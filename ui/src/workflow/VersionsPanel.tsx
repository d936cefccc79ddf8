// A workflow's versions: who changed what (a diff against the previous one),
// which is published; publish any version (an older one: a rollback).

import { useState } from "react";
import { api } from "../api/client";
import type { Version } from "../api/types";
import { ErrorMessage, Loading, Time, useLoad } from "../components/common";

function Diff({ text }: { text: string }) {
  if (!text) return <p className="muted">No differences (the first version).</p>;
  return (
    <pre className="diff" aria-label="Differences from the previous version" tabIndex={0}>
      {text.split("\n").map((line, i) => (
        <span
          key={i}
          className={
            line.startsWith("+") && !line.startsWith("+++")
              ? "add"
              : line.startsWith("-") && !line.startsWith("---")
                ? "del"
                : line.startsWith("@@")
                  ? "hunk"
                  : undefined
          }
        >
          {line + "\n"}
        </span>
      ))}
    </pre>
  );
}

export function VersionsPanel({ name, reloadKey, onPublished }: { name: string; reloadKey: number; onPublished: () => void }) {
  const { data, error, loading, reload } = useLoad(() => api.listVersions(name), [name, reloadKey]);
  const [shown, setShown] = useState<Version | null>(null);
  const [actionError, setActionError] = useState<unknown>(null);

  const show = async (n: number) => {
    setActionError(null);
    try {
      setShown(await api.getVersion(name, n));
    } catch (e) {
      setActionError(e);
    }
  };
  const publish = async (n: number) => {
    setActionError(null);
    try {
      await api.publish(name, n);
      reload();
      onPublished();
    } catch (e) {
      setActionError(e);
    }
  };

  return (
    <div className="versions">
      <ErrorMessage error={error ?? actionError} />
      {loading && !data && <Loading what="versions" />}
      {data && (
        <table className="table" aria-label="Versions">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Author</th>
              <th scope="col">Created</th>
              <th scope="col">Message</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {data.items.map((v) => (
              <tr key={v.number} data-testid={`version-${v.number}`} className={shown?.number === v.number ? "selected" : undefined}>
                <td>
                  v{v.number} {v.published && <span className="badge status-published">published</span>}
                </td>
                <td>{v.author ?? "–"}</td>
                <td>
                  <Time iso={v.created_at} />
                </td>
                <td>{v.message ?? ""}</td>
                <td className="actions">
                  <button type="button" onClick={() => show(v.number)} aria-label={`Show the changes of version ${v.number}`}>
                    Diff
                  </button>
                  {!v.published && (
                    <button type="button" onClick={() => publish(v.number)} aria-label={`Publish version ${v.number}`}>
                      {data.items.some((o) => o.published && o.number > v.number) ? "Roll back to this" : "Publish"}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {shown && (
        <div className="version-diff">
          <h3>Changes in v{shown.number}</h3>
          <Diff text={shown.diff} />
        </div>
      )}
    </div>
  );
}
