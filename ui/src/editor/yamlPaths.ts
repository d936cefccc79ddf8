// From a problem's location (`steps[3].next`) to the place in the YAML text
// where it is: the key of that field, or the deepest part of the path found.

import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";

export type PathPart = string | number;

/** `steps[3].do[0].with.url` -> ["steps", 3, "do", 0, "with", "url"]. */
export function parseLocation(location: string): PathPart[] {
  const parts: PathPart[] = [];
  const re = /\[(\d+)\]|\[["']([^"']*)["']\]|([^.[\]]+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(location)) !== null) {
    if (m[1] !== undefined) parts.push(Number(m[1]));
    else if (m[2] !== undefined) parts.push(m[2]);
    else parts.push(m[3]);
  }
  return parts;
}

export interface TextRange {
  from: number;
  to: number;
  /** 1-based line of `from`. */
  line: number;
  /** How many parts of the path were found (all of them: the exact place). */
  matched: number;
}

function keyName(node: unknown): string | undefined {
  if (isScalar(node)) return String(node.value);
  return undefined;
}

/** Where `location` is in `text` (a YAML or JSON document); line 1 when nothing matches. */
export function locate(text: string, location: string, message = ""): TextRange {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, keepSourceTokens: false, uniqueKeys: false });
  const lineRange = (line: number, col = 1): TextRange => {
    const starts = counter.lineStarts;
    const index = Math.min(Math.max(line, 1), starts.length) - 1;
    const from = (starts[index] ?? 0) + Math.max(col - 1, 0);
    const end = index + 1 < starts.length ? starts[index + 1] - 1 : text.length;
    return { from: Math.min(from, end), to: end, line: index + 1, matched: 0 };
  };
  // A syntax error has no path: its message says `line N, column M`.
  const at = /line (\d+), column (\d+)/.exec(message);
  if (!location && at) return lineRange(Number(at[1]), Number(at[2]));

  const path = parseLocation(location);
  let node: unknown = doc.contents;
  let range: [number, number] | null = null;
  let matched = 0;
  for (const part of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyName(p.key) === String(part));
      if (!pair) break;
      const key = pair.key as Node | null;
      range = key?.range ? [key.range[0], key.range[1]] : range;
      node = pair.value;
    } else if (isSeq(node) && typeof part === "number") {
      const item = node.items[part] as Node | undefined;
      if (!item) break;
      range = item.range ? [item.range[0], item.range[0]] : range;
      node = item;
    } else {
      break;
    }
    matched += 1;
  }
  if (!range) {
    const first = doc.contents && (doc.contents as Node).range;
    return first ? { ...lineRange(counter.linePos(first[0]).line), matched } : lineRange(1);
  }
  const { line } = counter.linePos(range[0]);
  const whole = lineRange(line);
  // Underline from the key to the end of its line.
  return { from: range[0], to: Math.max(whole.to, range[0] + 1), line, matched };
}

/** The 1-based line of `location`. */
export function lineOf(text: string, location: string, message = ""): number {
  return locate(text, location, message).line;
}
