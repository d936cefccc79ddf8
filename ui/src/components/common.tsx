// Small pieces every page uses: status badges, times, JSON, errors, loading.

import { useCallback, useEffect, useRef, useState, type ReactNode } from "react";
import { ApiError } from "../api/client";
import type { Problem } from "../api/types";

export function StatusBadge({ status, label }: { status: string | null | undefined; label?: string }) {
  const s = status ?? "none";
  return (
    <span className={`badge status-${s}`} data-status={s} aria-label={label ? `${label}: ${s}` : undefined}>
      {s.replace("_", " ")}
    </span>
  );
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
}

export function Time({ iso }: { iso: string | null | undefined }) {
  return iso ? <time dateTime={iso}>{formatTime(iso)}</time> : <span>–</span>;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} m`;
}

export function Duration({ from, to }: { from: string | null | undefined; to: string | null | undefined }) {
  if (!from) return <span>–</span>;
  const end = to ? new Date(to).getTime() : Date.now();
  const ms = end - new Date(from).getTime();
  if (Number.isNaN(ms)) return <span>–</span>;
  return <span>{formatDuration(ms)}{to ? "" : " so far"}</span>;
}

export function Json({ value, label }: { value: unknown; label: string }) {
  const text = value === undefined ? "–" : JSON.stringify(value, null, 2);
  return (
    <pre className="json" aria-label={label} tabIndex={0}>
      {text}
    </pre>
  );
}

export function describeError(error: unknown): { message: string; problems: Problem[] } {
  if (error instanceof ApiError) return { message: error.message, problems: error.problems };
  return { message: error instanceof Error ? error.message : String(error), problems: [] };
}

export function ErrorMessage({ error }: { error: unknown }) {
  if (!error) return null;
  const { message, problems } = describeError(error);
  return (
    <div className="error" role="alert">
      <p>{message}</p>
      {problems.length > 0 && (
        <ul>
          {problems.map((p, i) => (
            <li key={i}>
              {p.location && <code>{p.location}</code>} {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status">
      Loading {what}…
    </p>
  );
}

/** Runs `load` on mount and whenever `deps` change; `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const latest = useRef(0);
  const run = useCallback(() => {
    const n = ++latest.current;
    setLoading(true);
    load().then(
      (d) => {
        if (n !== latest.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e: unknown) => {
        if (n !== latest.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, deps);
  useEffect(run, [run]);
  return { data, error, loading, reload: run, setData };
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  const id = `section-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section className="section" aria-labelledby={id}>
      <div className="section-head">
        <h2 id={id}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function triggerKinds(triggers: Record<string, unknown>[] | undefined | null): string[] {
  const kinds = ["schedule", "webhook", "monitor", "security_signal"];
  return (triggers ?? []).map((t) => kinds.find((k) => k in t) ?? Object.keys(t).find((k) => k !== "id" && k !== "inputs") ?? "?");
}
