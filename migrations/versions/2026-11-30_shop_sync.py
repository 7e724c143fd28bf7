"""the shop's data kept current: API keys, order history and refunds, item tags, article versions, rules

Revision ID: 0006_shop_sync
Revises: 0005_runtime_settings
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006_shop_sync"
down_revision: str | None = "0005_runtime_settings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("scopes", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    op.create_table(
        "shop_rules",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", JSON, nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_shop_rules")),
    )
    op.create_table(
        "policy_article_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("author", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["policy_articles.id"],
            name=op.f("fk_policy_article_versions_article_id_policy_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_article_versions")),
        sa.UniqueConstraint("article_id", "version", name=op.f("uq_policy_article_versions_article_id")),
    )
    op.create_index(
        op.f("ix_policy_article_versions_article_id"), "policy_article_versions", ["article_id"], unique=False
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("status_history", JSON, nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column("refund_amount", sa.Numeric(12, 2), nullable=True))
        batch_op.add_column(sa.Column("refund_destination", sa.String(length=100), nullable=True))
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", JSON, nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("policy_articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")))
        batch_op.add_column(sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True))
    # The articles already there become their own version 1.
    op.execute(
        "INSERT INTO policy_article_versions (article_id, version, title, body, locale, author, created_at) "
        "SELECT id, 1, title, body, locale, 'seed', updated_at FROM policy_articles"
    )


def downgrade() -> None:
    with op.batch_alter_table("policy_articles", schema=None) as batch_op:
        batch_op.drop_column("retired_at")
        batch_op.drop_column("version")
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_column("tags")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("refund_destination")
        batch_op.drop_column("refund_amount")
        batch_op.drop_column("status_history")
        batch_op.drop_column("source_updated_at")
    op.drop_index(op.f("ix_policy_article_versions_article_id"), table_name="policy_article_versions")
    op.drop_table("policy_article_versions")
    op.drop_table("shop_rules")
    op.drop_table("api_keys")
