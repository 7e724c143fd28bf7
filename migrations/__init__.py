"""Alembic's migrations, shipped inside the package: `shopdesk migrate` and `serve --migrate` run them from
wherever Shopdesk is installed, and `serve` compares the database with their head (app/db.py)."""
