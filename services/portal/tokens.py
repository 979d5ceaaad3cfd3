"""SkyPortal API tokens: ``/api/internal/tokens``, roles and ACL grants."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal.db.models import ACL, Role, Token, User, role_acls, token_acls, user_acls
from services.portal.db.models import user_roles as user_roles_table
from services.portal.identity import token_acls_of, user_acls_of
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden, NotFound


def token_json(token: Token, acls: frozenset[str]) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "created_by_id": token.created_by_id,
        "created_at": token.created_at,
        "acls": sorted(acls),
    }


async def create_token(
    session: AsyncSession, who: Identity, name: str, acls: list[str], user_id: int
) -> str:
    if not name:
        raise ValueError("name is required: a token's name tells its uses apart")
    owner_id = user_id or who.user_id
    if owner_id != who.user_id and not who.admin:
        raise ValueError("only a system admin creates tokens for another user")
    owner = await session.get(User, owner_id)
    if owner is None:
        raise ValueError(f"no user with id {owner_id}")
    allowed = await user_acls_of(session, owner_id)
    if "System admin" not in allowed and (missing := sorted(set(acls) - allowed)):
        raise ValueError(f"User has no permission for ACL(s) {', '.join(missing)}")
    unknown = set(acls) - set(await session.scalars(select(ACL.id)))
    if unknown:
        raise ValueError(f"unknown ACL(s): {', '.join(sorted(unknown))}")
    existing = list(await session.scalars(select(Token).where(Token.created_by_id == owner_id)))
    if existing and "System admin" not in allowed:
        raise ValueError("You have reached the maximum number of tokens allowed (1)")
    if any(t.name == name for t in existing):
        raise ValueError("Duplicate token name.")
    token = Token(id=str(uuid.uuid4()), name=name, created_by_id=owner_id)
    session.add(token)
    await session.flush()
    if acls:
        await session.execute(
            token_acls.insert(), [{"token_id": token.id, "acl_id": acl} for acl in set(acls)]
        )
    return token.id


async def own_token(session: AsyncSession, who: Identity, token_id: str) -> Token:
    try:
        token_id = str(uuid.UUID(token_id))
    except ValueError:
        raise ValueError(f"invalid token id {token_id!r}") from None
    token = await session.get(Token, token_id)
    if token is None or (token.created_by_id != who.user_id and not who.admin):
        raise NotFound("Either the specified token does not exist, or you do not own it.")
    return token


async def list_tokens(session: AsyncSession, who: Identity) -> list[dict[str, Any]]:
    tokens = await session.scalars(
        select(Token).where(Token.created_by_id == who.user_id).order_by(Token.created_at)
    )
    return [token_json(t, await token_acls_of(session, t.id)) for t in tokens]


async def get_token(session: AsyncSession, who: Identity, token_id: str) -> dict[str, Any]:
    token = await own_token(session, who, token_id)
    return token_json(token, await token_acls_of(session, token.id))


async def rename_token(session: AsyncSession, who: Identity, token_id: str, name: str) -> None:
    if not name:
        raise ValueError("name is required")
    (await own_token(session, who, token_id)).name = name


async def delete_token(session: AsyncSession, who: Identity, token_id: str) -> None:
    await session.delete(await own_token(session, who, token_id))


async def roles(session: AsyncSession) -> list[dict[str, Any]]:
    rows = (await session.execute(select(role_acls.c.role_id, role_acls.c.acl_id))).all()
    names = list(await session.scalars(select(Role.id).order_by(Role.id)))
    return [{"id": r, "acls": sorted(a for role, a in rows if role == r)} for r in names]


async def grant(
    session: AsyncSession, who: Identity, user_id: int, acls: list[str], role_ids: list[str]
) -> None:
    """Adds ACLs and/or roles to a user; only a system admin grants "System admin"."""
    if await session.get(User, user_id) is None:
        raise ValueError(f"no user with id {user_id}")
    if not acls and not role_ids:
        raise ValueError("give aclIds or roleIds")
    known_acls = set(await session.scalars(select(ACL.id)))
    known_roles = set(await session.scalars(select(Role.id)))
    if set(acls) - known_acls or set(role_ids) - known_roles:
        unknown = (set(acls) - known_acls) | (set(role_ids) - known_roles)
        raise ValueError(f"unknown ACL or role: {', '.join(sorted(unknown))}")
    if not who.admin and ("System admin" in acls or "Super admin" in role_ids):
        raise Forbidden("only a system admin grants system admin rights")
    have_acls = set(
        await session.scalars(select(user_acls.c.acl_id).where(user_acls.c.user_id == user_id))
    )
    have_roles = set(
        await session.scalars(
            select(user_roles_table.c.role_id).where(user_roles_table.c.user_id == user_id)
        )
    )
    new_acls = [{"user_id": user_id, "acl_id": a} for a in set(acls) - have_acls]
    new_roles = [{"user_id": user_id, "role_id": r} for r in set(role_ids) - have_roles]
    if new_acls:
        await session.execute(user_acls.insert(), new_acls)
    if new_roles:
        await session.execute(user_roles_table.insert(), new_roles)
