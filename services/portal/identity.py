"""Who a credential is, from the portal's database: users, roles, ACLs, tokens, memberships.

This is the one place that answers it: the portal's own interceptor calls :func:`resolve`
directly, every other service through the portal's ``Authorize`` RPC.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.portal.db.models import (
    ACL,
    Group,
    GroupUser,
    Role,
    Stream,
    Token,
    User,
    role_acls,
    stream_users,
    token_acls,
    user_acls,
    user_roles,
)
from skymesh.runtime.auth import (
    SYSTEM_ADMIN,
    AuthError,
    Identity,
    is_jwt,
    token_from_header,
    verify_token,
)
from skymesh.runtime.errors import Forbidden

# SkyPortal's roles and their ACLs; "Super admin" has every ACL.
FULL_USER_ACLS = (
    "Annotate",
    "Comment",
    "Upload data",
    "Classify",
    "Run Analyses",
    "Manage observing runs",
)
GROUP_ADMIN_ACLS = (
    *FULL_USER_ACLS,
    "Manage sources",
    "Manage users",
    "Post taxonomy",
    "Manage shifts",
    "Manage teams",
    "Manage GCNs",
    "Manage Analysis Services",
    "Manage Recurring APIs",
)
ALL_ACLS = (SYSTEM_ADMIN, *GROUP_ADMIN_ACLS, "Manage allocations", "Manage groups")
ROLES: dict[str, tuple[str, ...]] = {
    "Super admin": ALL_ACLS,
    "Group admin": GROUP_ADMIN_ACLS,
    "Full user": FULL_USER_ACLS,
    "View only": (),
}
SITEWIDE_GROUP = "Sitewide Group"


async def user_acls_of(session: AsyncSession, user_id: int) -> frozenset[str]:
    """A user's permissions: the ACLs of their roles and their own."""
    by_role = select(role_acls.c.acl_id).join(
        user_roles, user_roles.c.role_id == role_acls.c.role_id
    )
    by_role = by_role.where(user_roles.c.user_id == user_id)
    direct = select(user_acls.c.acl_id).where(user_acls.c.user_id == user_id)
    rows = await session.scalars(by_role.union(direct))
    return frozenset(rows)


async def roles_of(session: AsyncSession, user_id: int) -> frozenset[str]:
    rows = await session.scalars(
        select(user_roles.c.role_id).where(user_roles.c.user_id == user_id)
    )
    return frozenset(rows)


async def token_acls_of(session: AsyncSession, token_id: str) -> frozenset[str]:
    rows = await session.scalars(
        select(token_acls.c.acl_id).where(token_acls.c.token_id == token_id)
    )
    return frozenset(rows)


async def identity_of(
    session: AsyncSession, user: User, acls: frozenset[str], token_id: str = ""
) -> Identity:
    memberships = (
        await session.execute(
            select(GroupUser.group_id, GroupUser.admin).where(GroupUser.user_id == user.id)
        )
    ).all()
    streams: dict[str, set[int]] = defaultdict(set)
    joined = set(
        await session.scalars(
            select(stream_users.c.stream_id).where(stream_users.c.user_id == user.id)
        )
    )
    for stream in await session.scalars(select(Stream)):
        collection = (stream.altdata or {}).get("collection")
        if not isinstance(collection, str):
            continue
        streams[collection]  # every governed collection is present, even with no access
        if stream.id in joined:
            streams[collection].update(int(p) for p in stream.altdata.get("selector") or [])
    return Identity(
        user_id=user.id,
        username=user.username,
        acls=acls,
        token_id=token_id,
        streams={name: frozenset(ids) for name, ids in streams.items()},
        group_ids=frozenset(g for g, _ in memberships),
        admin_group_ids=frozenset(g for g, admin in memberships if admin),
    )


async def resolve(sessions: async_sessionmaker, secret: str, authorization: str) -> Identity:
    """The identity behind an Authorization header: a user's JWT or a SkyPortal token."""
    token = token_from_header(authorization)
    async with sessions() as session:
        if is_jwt(token):
            username = verify_token(secret, token)
            user = await session.scalar(select(User).where(User.username == username))
            if user is None:
                raise AuthError(f"token is invalid: no user {username!r}")
            acls = await user_acls_of(session, user.id)
            token_id = ""
        else:
            try:
                token_id = str(uuid.UUID(token))
            except ValueError:
                raise AuthError("token is invalid: neither a JWT nor a SkyPortal token") from None
            row = await session.get(Token, token_id)
            if row is None:
                raise AuthError("token is invalid: no such token (revoked?)")
            user = await session.get(User, row.created_by_id)
            assert user is not None  # tokens go with their user
            acls = await token_acls_of(session, token_id)
        if not user.is_active:
            raise Forbidden("this account is deactivated")
        return await identity_of(session, user, acls, token_id)


async def ensure_reference_data(session: AsyncSession) -> None:
    """ACLs, roles and the sitewide group (idempotent)."""
    known = set(await session.scalars(select(ACL.id)))
    session.add_all(ACL(id=acl) for acl in ALL_ACLS if acl not in known)
    roles = set(await session.scalars(select(Role.id)))
    session.add_all(Role(id=role) for role in ROLES if role not in roles)
    await session.flush()
    linked = set((await session.execute(select(role_acls.c.role_id, role_acls.c.acl_id))).all())
    rows = [
        {"role_id": role, "acl_id": acl}
        for role, acls in ROLES.items()
        for acl in acls
        if (role, acl) not in linked
    ]
    if rows:
        await session.execute(role_acls.insert(), rows)
    if await session.scalar(select(Group.id).where(Group.name == SITEWIDE_GROUP)) is None:
        session.add(Group(name=SITEWIDE_GROUP, description="Every user of the portal"))
    await session.flush()
