"""Users and their credentials (Kowalski's ``users`` collection: ``_id`` = username)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from skymesh.runtime.auth import check_password, hash_password
from skymesh.runtime.errors import NotFound


class UserStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.users = db["users"]

    async def ensure_admin(self, username: str, password: str) -> None:
        """The configured admin exists and has the configured password."""
        existing = await self.users.find_one({"_id": username})
        if existing and check_password(password, existing.get("password", "")):
            return
        await self.users.update_one(
            {"_id": username},
            {
                "$set": {"password": hash_password(password), "admin": True},
                "$setOnInsert": {"email": "", "created_at": datetime.now(UTC)},
            },
            upsert=True,
        )

    async def authenticate(self, username: str, password: str) -> dict[str, Any] | None:
        user = await self.users.find_one({"_id": username})
        if user and check_password(password, user.get("password", "")):
            return user
        return None

    async def create(self, username: str, password: str, email: str, admin: bool) -> None:
        _require(username, password)
        try:
            await self.users.insert_one(
                {
                    "_id": username,
                    "password": hash_password(password),
                    "email": email,
                    "admin": admin,
                    "created_at": datetime.now(UTC),
                }
            )
        except DuplicateKeyError as exc:
            raise ValueError(f"user {username!r} already exists") from exc

    async def update(self, username: str, password: str, email: str) -> None:
        changes: dict[str, Any] = {}
        if password:
            changes["password"] = hash_password(password)
        if email:
            changes["email"] = email
        if not changes:
            raise ValueError("nothing to update: give a password and/or an email")
        if (await self.users.update_one({"_id": username}, {"$set": changes})).matched_count == 0:
            raise NotFound(f"no user {username!r}")

    async def delete(self, username: str) -> None:
        if (await self.users.delete_one({"_id": username})).deleted_count == 0:
            raise NotFound(f"no user {username!r}")


def _require(username: str, password: str) -> None:
    if not username:
        raise ValueError("username is required")
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
