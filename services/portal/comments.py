"""Comments on objects: SkyPortal's ``/api/sources/{obj_id}/comments[/{id}]`` and the
attachment route. The list is ``objects.comments``; an item here has the same shape.

A comment is ``bot`` when a program posted it: through an API token (a browser session
logs in with a JWT), as a service, or as a bot account. Scripts retry posts, so an
identical repost (same author, object, text, attachment and groups) answers the existing
comment's id instead of adding a copy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import grouped
from services.portal.db.models import Comment, User, comment_groups, utcnow
from services.portal.objects import flag, visible_obj
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import NotFound

UNREADABLE = "Could not find any accessible comments."
KEY = "comment_id"


@dataclass
class Attachment:
    name: str
    data: bytes


def comment_json(c: Comment, author: User, groups: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": c.id,
        "obj_id": c.obj_id,
        "text": c.text,
        "author_id": c.author_id,
        "author": {"id": author.id, "username": author.username},
        "bot": c.bot,
        "attachment_name": c.attachment_name,
        "groups": groups,
        "created_at": c.created_at,
        "modified": c.modified,
    }


def check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError("Invalid/missing parameters: text must be a non-empty string")
    return text


def check_attachment(raw: Any) -> Attachment:
    """``{name, body}`` with the body in base64 (a data URL's ``...;base64,`` prefix too)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise ValueError("Malformed comment attachment: give {name, body}")
    body = raw.get("body")
    if not isinstance(body, str):
        raise ValueError("Malformed comment attachment: body must be a base64 string")
    try:
        data = base64.b64decode(body.split("base64,")[-1], validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("Malformed comment attachment: body is not valid base64") from None
    return Attachment(raw["name"], data)


async def _is_bot(session: AsyncSession, who: Identity, author_id: int) -> bool:
    if who.token_id or who.is_service:
        return True
    author = await session.get(User, author_id)
    return bool(author and author.is_bot)


async def _same(
    session: AsyncSession,
    obj_id: str,
    author_id: int,
    text: str,
    attachment: Attachment | None,
    group_ids: list[int],
) -> int | None:
    """An existing comment identical to this post, if any."""
    # One poster's concurrent identical posts wait for each other (until commit).
    key = f"comment:{obj_id}:{author_id}"
    lock = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    await session.execute(select(func.pg_advisory_xact_lock(lock)))
    candidates = await session.scalars(
        select(Comment).where(
            Comment.obj_id == obj_id,
            Comment.author_id == author_id,
            Comment.text == text,
            Comment.attachment_name.is_(None)
            if attachment is None
            else Comment.attachment_name == attachment.name,
        )
    )
    for row in candidates:
        if attachment is not None and row.attachment_bytes != attachment.data:
            continue
        if await grouped.group_ids_of(session, comment_groups, KEY, row.id) == set(group_ids):
            return row.id
    return None


async def post(
    session: AsyncSession, who: Identity, author_id: int, obj_id: str, body: dict[str, Any]
) -> int:
    if await visible_obj(session, who, obj_id) is None:
        raise NotFound(f"Source {obj_id} not found")
    text = check_text(body.get("text"))
    raw = body.get("attachment")
    attachment = check_attachment(raw) if raw is not None else None
    group_ids = await grouped.post_groups(session, who, body.get("group_ids"))
    existing = await _same(session, obj_id, author_id, text, attachment, group_ids)
    if existing is not None:
        return existing
    row = Comment(
        obj_id=obj_id,
        text=text,
        author_id=author_id,
        bot=await _is_bot(session, who, author_id),
        attachment_name=attachment.name if attachment else None,
        attachment_bytes=attachment.data if attachment else None,
    )
    session.add(row)
    await session.flush()
    await grouped.link(session, comment_groups, KEY, row.id, group_ids)
    return row.id


async def _own(
    session: AsyncSession, who: Identity, obj_id: str, comment_id: int, editing: bool
) -> Comment:
    return await grouped.attached_row(
        session,
        who,
        Comment,
        comment_groups,
        KEY,
        comment_id,
        obj_id,
        editing,
        UNREADABLE,
        "Comment",
    )


async def get(session: AsyncSession, who: Identity, obj_id: str, comment_id: int) -> dict[str, Any]:
    row = await _own(session, who, obj_id, comment_id, editing=False)
    author = await session.get(User, row.author_id)
    assert author is not None  # comments go with their author
    groups = await grouped.groups_of(session, comment_groups, KEY, [row.id])
    return comment_json(row, author, groups.get(row.id, []))


async def update(
    session: AsyncSession, who: Identity, obj_id: str, comment_id: int, body: dict[str, Any]
) -> None:
    row = await _own(session, who, obj_id, comment_id, editing=True)
    if "text" in body:
        row.text = check_text(body["text"])
    if "attachment" in body:
        if body["attachment"] is None:  # null removes it
            row.attachment_name, row.attachment_bytes = None, None
        else:
            attachment = check_attachment(body["attachment"])
            row.attachment_name, row.attachment_bytes = attachment.name, attachment.data
    if body.get("group_ids") is not None:
        group_ids = await grouped.new_groups(session, who, body["group_ids"])
        await grouped.link(session, comment_groups, KEY, row.id, group_ids)
    row.modified = utcnow()


async def delete(session: AsyncSession, who: Identity, obj_id: str, comment_id: int) -> None:
    await session.delete(await _own(session, who, obj_id, comment_id, editing=True))


def disposition(name: str) -> str:
    """A Content-Disposition for the file (header values are printable ASCII)."""
    safe = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in name)
    return f'attachment; filename="{safe}"'


async def attachment(
    session: AsyncSession, who: Identity, obj_id: str, comment_id: int, download: str
) -> Attachment | dict[str, Any]:
    """The file (``download`` true, the default), or SkyPortal's ``{commentId, attachment}``
    with the contents as text."""
    row = await _own(session, who, obj_id, comment_id, editing=False)
    if row.attachment_bytes is None or row.attachment_name is None:
        raise ValueError("Comment has no attachment")
    if not download or flag(download):
        return Attachment(row.attachment_name, row.attachment_bytes)
    try:
        text = row.attachment_bytes.decode()
    except UnicodeDecodeError:
        raise ValueError("The attachment is not text: download it instead") from None
    return {"commentId": row.id, "attachment": text}
