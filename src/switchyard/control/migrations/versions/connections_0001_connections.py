"""connections: connections with encrypted secrets

Revision ID: connections_0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "connections_0001"
down_revision = None
branch_labels = ("connections",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connections",
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("secret_names", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.JSON(), nullable=False),
        sa.Column("kid", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=True),
        sa.Column("updated_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_connections")),
    )
    op.create_index(op.f("ix_connections_kid"), "connections", ["kid"])


def downgrade() -> None:
    op.drop_index(op.f("ix_connections_kid"), table_name="connections")
    op.drop_table("connections")
