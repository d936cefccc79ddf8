"""audit: the audit log

Revision ID: audit_0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "audit_0001"
down_revision = None
branch_labels = ("audit",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(512), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    for column in ("at", "actor", "action", "resource"):
        op.create_index(op.f(f"ix_audit_{column}"), "audit", [column])


def downgrade() -> None:
    for column in ("at", "actor", "action", "resource"):
        op.drop_index(op.f(f"ix_audit_{column}"), table_name="audit")
    op.drop_table("audit")
