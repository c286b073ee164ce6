"""users.awaiting (+ data, since) replaces python-telegram-bot's conversation_states

What the bot expects a person to answer next is now one small column on their users row. The
people who were in the middle of a flow are carried over: each stored conversation state becomes
the matching awaiting key. The intake's questions need no row at all (profiles.intake_step is
where the intake is), and a pending "do you want to continue?" choice needs none either.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 18:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (conversation name, PTB state) -> awaiting key. Listed from the weakest claim on the next
# message to the strongest, as the old handlers were ordered: a later one wins for a person
# who had two.
CARRIED = (
    ("hard_dates", "typing_hard_date", "settings.hard_date"),
    ("journal", "writing_journal_entry", "journal.entry"),
    ("advice", "writing_it_down", "advice.written"),
    ("advice", "telling_what_they_sent", "advice.pasted"),
    ("urge", "drafting", "urge.draft"),
)


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("awaiting", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("awaiting_data", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("awaiting_since", sa.DateTime(timezone=True), nullable=True))
    bind = op.get_bind()
    states = sa.table(
        "conversation_states", sa.column("name"), sa.column("key"), sa.column("state"),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )  # fmt: skip
    users = sa.table(
        "users",
        sa.column("id"),
        sa.column("awaiting"),
        sa.column("awaiting_data", sa.JSON()),
        sa.column("awaiting_since", sa.DateTime(timezone=True)),
    )
    rows = bind.execute(sa.select(states.c.name, states.c.key, states.c.state, states.c.updated_at))
    found: dict[int, tuple[int, str, dict | None, object]] = {}
    for name, key, state, updated_at in rows:
        try:
            user_id = int(json.loads(key)[-1])
            value = json.loads(state)
        except (ValueError, TypeError, IndexError):
            continue
        if name == "intake" and isinstance(value, str) and value.startswith("editing_"):
            rank, awaiting, data = len(CARRIED), "intake.edit", {"step": value[len("editing_") :]}
        else:
            match = [i for i, c in enumerate(CARRIED) if c[0] == name and c[1] == value]
            if not match:
                continue
            rank, awaiting, data = match[0], CARRIED[match[0]][2], None
        if user_id not in found or found[user_id][0] < rank:
            found[user_id] = (rank, awaiting, data, updated_at)
    for user_id, (_, awaiting, data, since) in found.items():
        bind.execute(
            users.update()
            .where(users.c.id == user_id)
            .values(awaiting=awaiting, awaiting_data=data, awaiting_since=since)
        )
    op.drop_table("conversation_states")


def downgrade() -> None:
    op.create_table(
        "conversation_states",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "key", name=op.f("pk_conversation_states")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("awaiting_since")
        batch_op.drop_column("awaiting_data")
        batch_op.drop_column("awaiting")
