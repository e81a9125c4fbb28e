"""baseline: hashigo's schema marker

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Records which hashigo version last migrated this database; `hashigo doctor` reads it.
    op.create_table(
        "hashigo_schema_info",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )
    op.bulk_insert(
        sa.table("hashigo_schema_info", sa.column("key", sa.String), sa.column("value", sa.String)),
        [{"key": "created_by", "value": "hashigo 0.1.0"}],
    )


def downgrade() -> None:
    op.drop_table("hashigo_schema_info")
