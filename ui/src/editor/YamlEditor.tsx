// The definition editor: CodeMirror 6 with YAML, schema-aware completion and
// the server's validation shown inline as you type (debounced 300 ms).

import { autocompletion } from "@codemirror/autocomplete";
import { yaml } from "@codemirror/lang-yaml";
import { linter, lintGutter, type Diagnostic } from "@codemirror/lint";
import { EditorSelection } from "@codemirror/state";
import { EditorView } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { forwardRef, useEffect, useImperativeHandle, useRef } from "react";
import { load, YAMLException } from "js-yaml";
import { api, ApiError } from "../api/client";
import type { Problem } from "../api/types";
import { completeYaml } from "./completion";
import { locate } from "./yamlPaths";

export interface LocatedProblem extends Problem {
  line: number;
}

export interface YamlEditorHandle {
  /** Moves the cursor to the start of a 1-based line and focuses the editor. */
  goToLine: (line: number) => void;
  setText: (text: string) => void;
}

interface Props {
  initial: string;
  onChange: (text: string) => void;
  /** Called after each validation with every problem, located. */
  onProblems: (problems: LocatedProblem[], checking: boolean) => void;
  label: string;
}

/** YAML syntax errors found in the browser, before asking the server. */
function syntaxProblems(text: string): Problem[] {
  try {
    load(text);
    return [];
  } catch (e) {
    if (!(e instanceof YAMLException)) throw e;
    const line = (e.mark?.line ?? 0) + 1;
    const column = (e.mark?.column ?? 0) + 1;
    return [{ location: "", message: `line ${line}, column ${column}: ${e.reason}`, severity: "error", code: "yaml" }];
  }
}

export const YamlEditor = forwardRef<YamlEditorHandle, Props>(function YamlEditor(
  { initial, onChange, onProblems, label },
  ref,
) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const callbacks = useRef({ onChange, onProblems });
  callbacks.current = { onChange, onProblems };

  useImperativeHandle(ref, () => ({
    goToLine(line: number) {
      const v = view.current;
      if (!v) return;
      const target = v.state.doc.line(Math.min(Math.max(line, 1), v.state.doc.lines));
      v.dispatch({ selection: EditorSelection.cursor(target.from), scrollIntoView: true });
      v.focus();
    },
    setText(text: string) {
      const v = view.current;
      if (!v) return;
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: text } });
    },
  }));

  useEffect(() => {
    let controller: AbortController | null = null;
    const validate = async (v: EditorView): Promise<Diagnostic[]> => {
      const text = v.state.doc.toString();
      controller?.abort();
      controller = new AbortController();
      callbacks.current.onProblems([], true);
      let problems: Problem[] = syntaxProblems(text);
      if (!problems.length && text.trim()) {
        try {
          problems = (await api.validate(text, controller.signal)).problems;
        } catch (e) {
          if (e instanceof DOMException && e.name === "AbortError") return [];
          const message = e instanceof ApiError ? e.message : String(e);
          problems = e instanceof ApiError && e.problems.length ? e.problems : [{ location: "", message, severity: "error" }];
        }
      }
      if (v.state.doc.toString() !== text) return []; // edited meanwhile: the next run reports
      const length = v.state.doc.length;
      const located = problems.map((p) => ({ ...p, ...locate(text, p.location, p.message) }));
      callbacks.current.onProblems(
        located.map((p) => ({ location: p.location, message: p.message, severity: p.severity, code: p.code, line: p.line })),
        false,
      );
      return located.map((p) => ({
        from: Math.min(p.from, length),
        to: Math.min(Math.max(p.to, p.from), length),
        severity: p.severity === "warning" ? "warning" : "error",
        message: p.location ? `${p.location}: ${p.message}` : p.message,
        source: p.code,
      }));
    };
    const v = new EditorView({
      parent: host.current!,
      doc: initial,
      extensions: [
        basicSetup,
        yaml(),
        EditorView.lineWrapping,
        EditorView.contentAttributes.of({ "aria-label": label, "data-testid": "yaml-editor" }),
        autocompletion({ override: [completeYaml], activateOnTyping: true }),
        linter(validate, { delay: 300 }),
        lintGutter(),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) callbacks.current.onChange(u.state.doc.toString());
        }),
      ],
    });
    view.current = v;
    return () => {
      controller?.abort();
      v.destroy();
      view.current = null;
    };
    // The editor is created once; `initial` only seeds it.
  }, []);

  return <div className="yaml-editor" ref={host} />;
});
