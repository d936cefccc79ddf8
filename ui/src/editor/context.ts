// Where the cursor is in a YAML document being typed (so possibly invalid):
// the path of mappings and sequences around it, read from indentation.

export const SEQ = "[]";

export interface Level {
  /** A mapping key, or SEQ for a sequence item. */
  part: string;
  /** The line (0-based) where this level's key or dash is. */
  line: number;
}

export interface CursorContext {
  /** From the document's root to the mapping the cursor is in. */
  path: string[];
  levels: Level[];
  /** `key`: typing a key; `value`: typing the value of `key`. */
  mode: "key" | "value";
  key?: string;
  /** The word being typed (what completions replace). */
  prefix: string;
  /** Keys already present in the cursor's mapping (and their scalar values). */
  siblings: Map<string, string>;
}

interface LineInfo {
  indent: number;
  dash: boolean;
  /** Column of the first key (after `- `). */
  col: number;
  key?: string;
  value?: string;
  blank: boolean;
}

const KEY_RE = /^([A-Za-z_$][\w$.-]*|"[^"]*"|'[^']*')\s*:(?:\s+(.*))?$/;

export function lineInfo(text: string): LineInfo {
  const indent = text.length - text.trimStart().length;
  let rest = text.slice(indent);
  if (rest === "" || rest.startsWith("#")) return { indent, dash: false, col: indent, blank: true };
  let dash = false;
  let col = indent;
  if (rest === "-" || rest.startsWith("- ")) {
    dash = true;
    const after = rest.slice(1);
    const pad = after.length - after.trimStart().length;
    col = indent + 1 + pad;
    rest = after.trimStart();
  }
  const m = KEY_RE.exec(rest.replace(/\s+#.*$/, ""));
  if (!m) return { indent, dash, col, blank: false };
  const key = m[1].replace(/^["']|["']$/g, "");
  return { indent, dash, col, key, value: m[2]?.trim() ?? "", blank: false };
}

/** Key/value pairs of the mapping whose keys sit at column `col` around line `at`. */
export function mappingAt(lines: string[], at: number, col: number): Map<string, string> {
  const out = new Map<string, string>();
  const take = (info: LineInfo) => {
    if (info.key !== undefined && info.col === col) out.set(info.key, info.value ?? "");
  };
  for (let i = at; i >= 0; i--) {
    const info = lineInfo(lines[i]);
    if (info.blank) continue;
    if (info.col < col || (info.dash && info.indent < col && info.col !== col)) break;
    take(info);
    if (info.dash && info.col === col) break; // the item's first line
  }
  for (let i = at + 1; i < lines.length; i++) {
    const info = lineInfo(lines[i]);
    if (info.blank) continue;
    if (info.indent < col) break;
    if (info.dash && info.indent <= col) break; // the next item
    take(info);
  }
  return out;
}

/** The context of the cursor at `pos` in `doc`. */
export function contextAt(doc: string, pos: number): CursorContext {
  const before = doc.slice(0, pos);
  const lines = doc.split("\n");
  const lineNo = before.split("\n").length - 1;
  const lineText = before.slice(before.lastIndexOf("\n") + 1);
  const prefix = /[\w.$-]*$/.exec(lineText)?.[0] ?? "";

  // Typing a key, or a value after `key: ` (or inside `[a, b` of a flow list)?
  const cur = lineInfo(lineText + (lineText.endsWith(":") ? " " : ""));
  const keyOnLine = /^\s*(?:-\s+)?([\w$.-]+|"[^"]*"|'[^']*')\s*:\s/.exec(lineText);
  const mode: "key" | "value" = keyOnLine ? "value" : "key";
  const key = keyOnLine ? keyOnLine[1].replace(/^["']|["']$/g, "") : undefined;

  const indent = lineText.length - lineText.trimStart().length;
  const dashHere = /^\s*-(\s|$)/.test(lineText);
  let col = dashHere ? cur.col : mode === "key" ? indent : cur.col;
  if (!dashHere && mode === "key" && lineText.trim() === "") col = lineText.length;

  const levels: Level[] = [];
  let seqOpen = false; // the last level added is a sequence item: its key may sit at the dash's column
  if (dashHere) {
    levels.unshift({ part: SEQ, line: lineNo });
    col = indent;
    seqOpen = true;
  }
  let mappingCol = dashHere ? cur.col : col;
  let mappingLine = lineNo;
  let sameMapping = true;
  for (let i = lineNo - 1; i >= 0 && (col > 0 || seqOpen); i--) {
    const info = lineInfo(lines[i]);
    if (info.blank) continue;
    if (info.dash && info.indent < col && info.col <= col) {
      // We are inside the mapping that this sequence item starts.
      if (sameMapping && info.col === col) mappingLine = i;
      levels.unshift({ part: SEQ, line: i });
      col = info.indent;
      seqOpen = true;
      sameMapping = false;
      continue;
    }
    if (info.key !== undefined && !info.dash && (info.col < col || (seqOpen && info.col === col))) {
      if (info.value === "" || info.value === "|" || info.value === ">") {
        levels.unshift({ part: info.key, line: i });
        col = info.col;
        seqOpen = false;
        sameMapping = false;
      } else if (info.col < col) {
        break; // a scalar key above us: malformed; stop here
      }
      continue;
    }
    if (info.dash && info.key !== undefined && info.indent < col && !seqOpen) {
      levels.unshift({ part: SEQ, line: i });
      col = info.indent;
      seqOpen = true;
      sameMapping = false;
    }
  }
  const siblings = mappingAt(lines, mappingLine, mappingCol);
  if (mode === "key" && cur.key === undefined) siblings.delete(prefix);
  return { path: levels.map((l) => l.part), levels, mode, key, prefix, siblings };
}
