"""how the last contact was answered, kept beside its date

A tapped choice ("a few days ago", "not since the breakup") is relative to the day it was
given; a typed date is not. Keeping which one it was lets the intake re-date relative answers
when the person's time zone puts them on a different calendar day.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("last_contact_when", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("last_contact_when")
