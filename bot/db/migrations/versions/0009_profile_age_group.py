"""the optional age answer on the profile

Whether the person said they are under 18, 18 or over, or would rather not say: from the
optional question at /start or in /settings, or from a message ("I'm 15").

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 21:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.add_column(sa.Column("age_group", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("profiles") as batch:
        batch.drop_column("age_group")
