// A waiting approval: its prompt, a comment, one button per choice.

import { useState } from "react";
import { api } from "../api/client";
import type { WaitingApproval } from "../api/types";
import { ErrorMessage } from "../components/common";

interface Props {
  runId: string;
  step: string;
  approval: WaitingApproval;
  onDecided: () => void;
}

export function ApprovalCard({ runId, step, approval, onDecided }: Props) {
  const [comment, setComment] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const [decided, setDecided] = useState<string | null>(null);
  const id = `approval-${step.replace(/[^\w-]/g, "_")}`;

  const decide = async (choice: string) => {
    setBusy(true);
    setError(null);
    try {
      await api.approve(runId, step, choice, comment);
      setDecided(choice);
      onDecided();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="approval" role="group" aria-labelledby={`${id}-title`} data-testid={`approval-${step}`}>
      <h3 id={`${id}-title`}>
        Approval <code>{step}</code>
      </h3>
      <p className="prompt">{approval.prompt}</p>
      {approval.approvers.length > 0 && <p className="muted small">Approvers: {approval.approvers.join(", ")}</p>}
      <label htmlFor={`${id}-comment`}>Comment (optional)</label>
      <textarea id={`${id}-comment`} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      <div className="buttons">
        {approval.choices.map((choice) => (
          <button key={choice} type="button" onClick={() => decide(choice)} disabled={busy || decided !== null} aria-label={`Answer ${choice} to ${step}`}>
            {choice}
          </button>
        ))}
      </div>
      {decided && (
        <p role="status" className="notice">
          Answered {decided}.
        </p>
      )}
      <ErrorMessage error={error} />
    </div>
  );
}
