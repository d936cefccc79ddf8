"""runs: the event store of runs and the run recorder's progress

Revision ID: runs_0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "runs_0001"
down_revision = None
branch_labels = ("runs",)
depends_on = None

_INDEXES = {
    "ix_runs_started": ["started_at", "id"],
    "ix_runs_workflow_started": ["workflow", "started_at", "id"],
    "ix_runs_workflow_status_started": ["workflow", "status", "started_at", "id"],
    "ix_runs_status_started": ["status", "started_at", "id"],
    "ix_runs_trigger_started": ["trigger_type", "started_at", "id"],
    "ix_runs_rerun_of": ["rerun_of"],
}


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("workflow", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("trigger", sa.JSON(), nullable=True),
        sa.Column("trigger_type", sa.String(32), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.Column("identity", sa.String(32), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("rerun_of", sa.String(255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("workflow", "idempotency_key", name="uq_runs_idempotency_key"),
    )
    for name, columns in _INDEXES.items():
        op.create_index(name, "runs", columns)
    op.create_table(
        "run_recorder",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_run_recorder")),
    )


def downgrade() -> None:
    op.drop_table("run_recorder")
    for name in _INDEXES:
        op.drop_index(name, table_name="runs")
    op.drop_table("runs")
