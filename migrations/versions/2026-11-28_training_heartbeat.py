"""training heartbeat

Revision ID: 0004_training_heartbeat
Revises: 0003_attachment_invoice_number
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_training_heartbeat"
down_revision: str | None = "0003_attachment_invoice_number"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("training_runs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
