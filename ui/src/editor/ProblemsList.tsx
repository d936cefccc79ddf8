// The problems of the definition being edited, each with its line (a button that goes there).

import type { LocatedProblem } from "./YamlEditor";

interface Props {
  problems: LocatedProblem[];
  checking: boolean;
  onGoTo: (line: number) => void;
}

export function ProblemsList({ problems, checking, onGoTo }: Props) {
  const errors = problems.filter((p) => p.severity !== "warning").length;
  const warnings = problems.length - errors;
  return (
    <div className="problems" data-testid="problems" data-count={problems.length} data-checking={checking}>
      <p className="problems-summary" role="status" aria-live="polite">
        {checking
          ? "Checking…"
          : problems.length === 0
            ? "No problems."
            : `${errors} error${errors === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`}
      </p>
      {problems.length > 0 && (
        <ul aria-label="Problems">
          {problems.map((p, i) => (
            <li key={i} className={`problem ${p.severity ?? "error"}`} data-line={p.line}>
              <button type="button" className="link" onClick={() => onGoTo(p.line)} aria-label={`Go to line ${p.line}: ${p.message}`}>
                line {p.line}
              </button>{" "}
              {p.location && <code>{p.location}</code>} {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
