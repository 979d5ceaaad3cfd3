"""The portal's database: engine, sessions, and migrations to the current schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(dsn: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", dsn)
    return config


async def migrate(dsn: str) -> None:
    """``alembic upgrade head``; its env runs its own event loop, so it gets a thread."""
    await asyncio.to_thread(command.upgrade, alembic_config(dsn), "head")


def engine(dsn: str) -> AsyncEngine:
    return create_async_engine(dsn, pool_size=10, max_overflow=10, pool_pre_ping=True)


def sessions(db: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(db, expire_on_commit=False)
