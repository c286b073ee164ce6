"""program, check-ins, journal, urges and safety

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 18:50:01.919468
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=48), nullable=False),
        sa.Column("value", sa.String(length=32), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_answers_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "form", "item", name=op.f("pk_answers")),
    )
    op.create_table(
        "checkins",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("contact", sa.String(length=16), nullable=True),
        sa.Column("contact_topic", sa.String(length=16), nullable=True),
        sa.Column("mood", sa.SmallInteger(), nullable=True),
        sa.Column("urge", sa.String(length=8), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_checkins_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
        sa.UniqueConstraint("user_id", "local_date", "kind", name=op.f("uq_checkins_user_id")),
    )
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkins_user_id"), ["user_id"], unique=False)

    op.create_table(
        "contact_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("initiated_by", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=16), nullable=False),
        sa.Column("breaks_no_contact", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_contact_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_events")),
    )
    with op.batch_alter_table("contact_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_events_user_id"), ["user_id"], unique=False)

    op.create_table(
        "journal_entries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=True),
        sa.Column("prompt_id", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_journal_entries_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entries")),
    )
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_journal_entries_user_id"), ["user_id"], unique=False)

    op.create_table(
        "risky_days",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.SmallInteger(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_risky_days_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risky_days")),
        sa.UniqueConstraint("user_id", "month", "day", name=op.f("uq_risky_days_user_id")),
    )
    with op.batch_alter_table("risky_days", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_risky_days_user_id"), ["user_id"], unique=False)

    op.create_table(
        "urges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("local_hour", sa.SmallInteger(), nullable=False),
        sa.Column("strength", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("draft", sa.Text(), nullable=True),
        sa.Column("follow_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_urges_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_urges")),
    )
    with op.batch_alter_table("urges", schema=None) as batch_op:
        batch_op.create_index("ix_urges_follow_up_at", ["follow_up_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_urges_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phase", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("phase_started_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("no_contact_started_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("no_contact_banked_days", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("slips", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("last_milestone_day", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("next_checkin_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("checkins_paused_until", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "checkins_stopped", sa.Boolean(), server_default=sa.text("false"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("quiet_start", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("quiet_end", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(
            sa.Column("safety_hold", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(
            sa.Column("safety_hold_since", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("safety_asked_on", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_profiles_next_checkin_at"), ["next_checkin_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_profiles_next_checkin_at"))
        batch_op.drop_column("safety_asked_on")
        batch_op.drop_column("safety_hold_since")
        batch_op.drop_column("safety_hold")
        batch_op.drop_column("country")
        batch_op.drop_column("quiet_end")
        batch_op.drop_column("quiet_start")
        batch_op.drop_column("checkins_stopped")
        batch_op.drop_column("checkins_paused_until")
        batch_op.drop_column("next_checkin_at")
        batch_op.drop_column("last_milestone_day")
        batch_op.drop_column("slips")
        batch_op.drop_column("no_contact_banked_days")
        batch_op.drop_column("no_contact_started_on")
        batch_op.drop_column("phase_started_on")
        batch_op.drop_column("phase")

    with op.batch_alter_table("urges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_urges_user_id"))
        batch_op.drop_index("ix_urges_follow_up_at")

    op.drop_table("urges")
    with op.batch_alter_table("risky_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_risky_days_user_id"))

    op.drop_table("risky_days")
    with op.batch_alter_table("journal_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_journal_entries_user_id"))

    op.drop_table("journal_entries")
    with op.batch_alter_table("contact_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_events_user_id"))

    op.drop_table("contact_events")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_checkins_user_id"))

    op.drop_table("checkins")
    op.drop_table("answers")
