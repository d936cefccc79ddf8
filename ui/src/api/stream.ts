// `GET /api/v1/runs/{id}/stream`: server-sent events read with fetch, because
// EventSource cannot send the Authorization header.

import { API, authHeaders } from "./client";
import type { Run } from "./types";

export interface RunStreamHandlers {
  onRun: (run: Run) => void;
  onError?: (error: unknown) => void;
  /** The server closed the stream (after the run's final state). */
  onEnd?: () => void;
}

/** Parses an SSE body: calls `onEvent(name, data)` for each complete event. */
export function parseSse(buffer: string, onEvent: (name: string, data: string) => void): string {
  let rest = buffer.replace(/\r\n/g, "\n");
  let end: number;
  while ((end = rest.indexOf("\n\n")) >= 0) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let name = "message";
    const data: string[] = [];
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue; // a keep-alive comment
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") name = value;
      else if (field === "data") data.push(value);
    }
    if (data.length) onEvent(name, data.join("\n"));
  }
  return rest;
}

/** Follows a run until its stream ends or the returned function is called. */
export function streamRun(id: string, handlers: RunStreamHandlers): () => void {
  const controller = new AbortController();
  (async () => {
    const response = await fetch(`${API}/runs/${encodeURIComponent(id)}/stream`, {
      headers: { Accept: "text/event-stream", ...authHeaders() },
      signal: controller.signal,
    });
    if (!response.ok || !response.body) throw new Error(`stream refused: ${response.status}`);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer = parseSse(buffer + value, (name, data) => {
        if (name === "run") handlers.onRun(JSON.parse(data) as Run);
      });
    }
    handlers.onEnd?.();
  })().catch((error: unknown) => {
    if (!controller.signal.aborted) handlers.onError?.(error);
  });
  return () => controller.abort();
}
