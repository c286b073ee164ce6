"""safety state, recent risk signals and the safety plan

A person's safety state (under 18, danger from the ex reported, the direct question and its
answer), the screen's outcomes for their last half hour of messages (never the text), and the
six parts of their safety plan in their own words.

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-27 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _owner(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "safety_states",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("is_minor", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("danger_reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.String(length=8), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _owner("safety_states"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_safety_states")),
    )
    op.create_table(
        "risk_signals",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("risk", sa.String(length=24), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("matched", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        _owner("risk_signals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_signals")),
    )
    op.create_index("ix_risk_signals_user_id_at", "risk_signals", ["user_id", "at"])
    op.create_table(
        "safety_plan_parts",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("part", sa.String(length=24), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _owner("safety_plan_parts"),
        sa.PrimaryKeyConstraint("user_id", "part", name=op.f("pk_safety_plan_parts")),
    )


def downgrade() -> None:
    op.drop_table("safety_plan_parts")
    op.drop_index("ix_risk_signals_user_id_at", table_name="risk_signals")
    op.drop_table("risk_signals")
    op.drop_table("safety_states")
