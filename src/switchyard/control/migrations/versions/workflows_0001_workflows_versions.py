"""workflows: workflows and their versions

Revision ID: workflows_0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "workflows_0001"
down_revision = None
branch_labels = ("workflows",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_workflows")),
    )
    op.create_table(
        "workflow_versions",
        sa.Column("workflow", sa.String(64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("triggers", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.String(500), nullable=True),
        sa.ForeignKeyConstraint(
            ["workflow"],
            ["workflows.name"],
            name=op.f("fk_workflow_versions_workflow_workflows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workflow", "number", name=op.f("pk_workflow_versions")),
    )


def downgrade() -> None:
    op.drop_table("workflow_versions")
    op.drop_table("workflows")
