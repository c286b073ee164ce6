"""users, profiles and conversation states

Revision ID: 0001
Revises:
Create Date: 2026-11-22 18:38:39.203561
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_states",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name=op.f("pk_conversation_states")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(length=64), nullable=True),
        sa.Column("language_code", sa.String(length=16), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "profiles",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("ex_name", sa.String(length=64), nullable=True),
        sa.Column(
            "breakup_when",
            sa.Enum(
                "today",
                "this_week",
                "weeks_ago",
                "months_ago",
                "exact",
                name="breakup_when",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("breakup_on", sa.Date(), nullable=True),
        sa.Column(
            "who_ended",
            sa.Enum(
                "me",
                "them",
                "mutual",
                name="who_ended",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("shares_kids", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("shares_work", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("shares_home", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "abuse",
            sa.Enum(
                "yes",
                "no",
                "unsaid",
                name="abuse",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "goal",
            sa.Enum(
                "get_back",
                "move_on",
                "unsure",
                name="goal",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("checkin_hour", sa.Integer(), nullable=True),
        sa.Column("no_contact_days", sa.Integer(), server_default=sa.text("30"), nullable=False),
        sa.Column("intake_step", sa.String(length=32), nullable=True),
        sa.Column("intake_completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_profiles_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_profiles")),
    )


def downgrade() -> None:
    op.drop_table("profiles")
    op.drop_table("users")
    op.drop_table("conversation_states")
