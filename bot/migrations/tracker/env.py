"""Alembic environment of one conversation-side store (see bot/stores.py)."""

from alembic import context

from bot.stores import run_migrations

run_migrations(context)
