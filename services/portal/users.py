"""Users and their credentials; what a new account gets (SkyPortal's rules)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal.db.models import (
    Group,
    GroupUser,
    Stream,
    User,
    stream_users,
    user_roles,
)
from services.portal.identity import ROLES, SITEWIDE_GROUP
from skymesh.runtime.auth import check_password, hash_password
from skymesh.runtime.errors import NotFound

# The account the broker's posts are made as (candidates' uploader, autosave, comments).
BROKER_USER = "skymesh-broker"


async def sitewide_group_id(session: AsyncSession) -> int:
    group_id = await session.scalar(select(Group.id).where(Group.name == SITEWIDE_GROUP))
    assert group_id is not None, "reference data is created at start"
    return group_id


async def create_user(
    session: AsyncSession,
    username: str,
    password: str = "",
    email: str = "",
    role: str = "Full user",
    is_bot: bool = False,
) -> User:
    """A user with a role, their single-user group, the sitewide group and auto-join streams."""
    if not username:
        raise ValueError("username is required")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValueError(f"user {username!r} already exists")
    user = User(
        username=username,
        password_hash=hash_password(password) if password else "",
        email=email,
        is_bot=is_bot,
    )
    session.add(user)
    await session.flush()
    await session.execute(user_roles.insert().values(user_id=user.id, role_id=role))
    own = Group(name=username, single_user_group=True, private=True)
    session.add(own)
    await session.flush()
    session.add(GroupUser(group_id=own.id, user_id=user.id, admin=True))
    session.add(GroupUser(group_id=await sitewide_group_id(session), user_id=user.id))
    auto = await session.scalars(select(Stream.id).where(Stream.auto_join.is_(True)))
    rows = [{"stream_id": stream_id, "user_id": user.id} for stream_id in auto]
    if rows:
        await session.execute(stream_users.insert(), rows)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise ValueError(f"user {username!r} cannot be created: {exc.orig}") from exc
    return user


async def by_username(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


async def authenticate(session: AsyncSession, username: str, password: str) -> User | None:
    user = await session.scalar(select(User).where(User.username == username))
    if user and user.is_active and check_password(password, user.password_hash):
        return user
    return None


async def ensure_user(
    session: AsyncSession, username: str, password: str, role: str, is_bot: bool = False
) -> User:
    """The configured account exists, has the role and (if given) the password."""
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        return await create_user(session, username, password, role=role, is_bot=is_bot)
    if password and not check_password(password, user.password_hash):
        user.password_hash = hash_password(password)
    has_role = await session.scalar(
        select(user_roles.c.role_id).where(
            user_roles.c.user_id == user.id, user_roles.c.role_id == role
        )
    )
    if has_role is None:
        await session.execute(user_roles.insert().values(user_id=user.id, role_id=role))
    return user


async def update_user(session: AsyncSession, username: str, password: str, email: str) -> None:
    if not password and not email:
        raise ValueError("nothing to update: give a password and/or an email")
    user = await by_username(session, username)
    if password:
        user.password_hash = hash_password(check_new_password(password))
    if email:
        user.email = email


async def delete_user(session: AsyncSession, username: str) -> None:
    user = await by_username(session, username)
    await session.execute(
        delete(Group).where(Group.name == username, Group.single_user_group.is_(True))
    )
    await session.delete(user)


def check_new_password(password: str) -> str:
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    return password
