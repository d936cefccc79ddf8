"""events: ingested events and the runs they started

Revision ID: events_0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "events_0001"
down_revision = None
branch_labels = ("events",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(300), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("via", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("runs", sa.JSON(), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
    )
    for column in ("source", "received_at", "status"):
        op.create_index(op.f(f"ix_events_{column}"), "events", [column])
    op.create_table(
        "trigger_runs",
        sa.Column("run_id", sa.String(300), nullable=False),
        sa.Column("workflow", sa.String(64), nullable=False),
        sa.Column("trigger", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_trigger_runs")),
    )
    op.create_index(
        "ix_trigger_runs_wf_trigger_at", "trigger_runs", ["workflow", "trigger", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_trigger_runs_wf_trigger_at", table_name="trigger_runs")
    op.drop_table("trigger_runs")
    for column in ("source", "received_at", "status"):
        op.drop_index(op.f(f"ix_events_{column}"), table_name="events")
    op.drop_table("events")
