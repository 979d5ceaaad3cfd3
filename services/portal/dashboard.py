"""What the web application's dashboard shows (SkyPortal's internal routes): the sources people
look at most, the latest saves, and the news feed of comments, classifications and saves.

Each reads only the sources of the caller's groups (an active save; System admins: every
group). A count the request does not give comes from the caller's preferences (SkyPortal's
``topSources``, ``recentSources``, ``newsFeed``), else SkyPortal's default.

Views are recorded by ``GET /api/sources/{obj_id}`` (:func:`record_view`): one insert per page
opened, in its own transaction, so a failed insert costs the page nothing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.portal import classifications, grouped
from services.portal.db.models import (
    Classification,
    Comment,
    Obj,
    Source,
    SourceView,
    Thumbnail,
    User,
    classification_groups,
    comment_groups,
)
from services.portal.preferences import preferences_of
from skymesh.runtime.auth import Identity

log = logging.getLogger(__name__)

MAX_ITEMS = 1000
DEFAULT_MAX_SOURCES = 10
DEFAULT_SINCE_DAYS = 7.0
MAX_SINCE_DAYS = 36500.0
DEFAULT_NEWS_ITEMS = 50
# SkyPortal's order of a card's cutouts; other kinds follow, by name.
THUMBNAIL_ORDER = ("new", "ref", "sub", "sdss", "dr8", "ps1")
NEW_SAVE = "New source saved"
RESAVE = "Source saved to new group"


# ---- parameters ------------------------------------------------------------------------------


def _count(text: str, name: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"Invalid {name} value: {text!r} is not an integer.") from None
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}.")
    if value > MAX_ITEMS:
        raise ValueError(f"{name} should be no larger than {MAX_ITEMS}.")
    return value


def count_param(text: str, name: str, stored: Any, default: int) -> int:
    """A count from the query, else from the stored preference (ignored when it is not a
    valid count: a bad setting must not break the dashboard), else ``default``."""
    if text.strip():
        return _count(text.strip(), name)
    if stored is not None and not isinstance(stored, bool):
        try:
            return _count(str(int(stored)) if isinstance(stored, float) else str(stored), name)
        except (ValueError, OverflowError):
            pass
    return default


def _days(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= MAX_SINCE_DAYS:  # NaN fails too
        raise ValueError(
            f"sinceDaysAgo must be a number of days from 0 to {MAX_SINCE_DAYS:g}, not {text!r}."
        )
    return value


def days_param(text: str, stored: Any) -> float:
    """``sinceDaysAgo`` from the query, else the stored preference (if valid), else 7."""
    if text.strip():
        return _days(text.strip())
    if isinstance(stored, (int, float, str)) and not isinstance(stored, bool):
        try:
            return _days(str(stored))
        except ValueError:
            pass
    return DEFAULT_SINCE_DAYS


def _section(preferences: dict[str, Any], name: str) -> dict[str, Any]:
    found = preferences.get(name)
    return found if isinstance(found, dict) else {}


# ---- what the cards show ---------------------------------------------------------------------


def thumbnail_rank(kind: str) -> tuple[int, str]:
    rank = THUMBNAIL_ORDER.index(kind) if kind in THUMBNAIL_ORDER else len(THUMBNAIL_ORDER)
    return rank, kind


def saved_in_groups(who: Identity) -> Select:
    """The objects with an active save in one of the caller's groups."""
    return select(Source.obj_id).where(Source.active.is_(True), Source.group_id.in_(who.group_ids))


async def _cards(
    session: AsyncSession, who: Identity, obj_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Per object: ra, dec, thumbnails (SkyPortal's order) and readable classifications."""
    wanted = sorted(set(obj_ids))
    if not wanted:
        return {}
    rows = await session.execute(select(Obj.id, Obj.ra, Obj.dec).where(Obj.id.in_(wanted)))
    cards = {
        obj_id: {"ra": ra, "dec": dec, "thumbnails": [], "classifications": []}
        for obj_id, ra, dec in rows
    }
    stamps = await session.scalars(select(Thumbnail).where(Thumbnail.obj_id.in_(wanted)))
    for t in sorted(stamps, key=lambda t: thumbnail_rank(t.type)):
        cards[t.obj_id]["thumbnails"].append(
            {
                "id": t.id,
                "obj_id": t.obj_id,
                "type": t.type,
                "public_url": f"/api/thumbnail/{t.id}/image",
                "created_at": t.created_at,
            }
        )
    for obj_id, found in (await classifications.of_objs(session, who, wanted)).items():
        cards[obj_id]["classifications"] = found
    return cards


# ---- source views ----------------------------------------------------------------------------


async def record_view(sessions: async_sessionmaker, who: Identity, obj_id: str) -> None:
    """Notes that ``who`` opened ``obj_id``'s page. Never fails: a view is worth less than
    the page, so a failure is logged and forgotten."""
    if who.is_service:
        return
    try:
        async with sessions() as session, session.begin():
            await session.execute(
                insert(SourceView).values(
                    obj_id=obj_id, user_id=who.user_id, token_id=who.token_id or None
                )
            )
    except Exception:
        log.warning("could not record a view of %s by user %s", obj_id, who.user_id, exc_info=True)


async def source_views(
    session: AsyncSession, who: Identity, max_num_sources: str, since_days_ago: str
) -> list[dict[str, Any]]:
    prefs = _section(await preferences_of(session, who.user_id), "topSources")
    limit = count_param(
        max_num_sources, "maxNumSources", prefs.get("maxNumSources"), DEFAULT_MAX_SOURCES
    )
    days = days_param(since_days_ago, prefs.get("sinceDaysAgo"))
    cutoff = datetime.now(UTC) - timedelta(days=days)
    views = func.count().label("views")
    # Views through API tokens are scripts, not people looking (SkyPortal counts people's).
    query = (
        select(SourceView.obj_id, views)
        .where(SourceView.created_at >= cutoff, SourceView.token_id.is_(None))
        .group_by(SourceView.obj_id)
        .order_by(views.desc(), SourceView.obj_id)
        .limit(limit)
    )
    if not who.admin:
        query = query.where(SourceView.obj_id.in_(saved_in_groups(who)))
    top = (await session.execute(query)).all()
    cards = await _cards(session, who, [obj_id for obj_id, _ in top])
    return [{"obj_id": obj_id, "views": n, **cards[obj_id]} for obj_id, n in top if obj_id in cards]


# ---- recent sources --------------------------------------------------------------------------


async def _first_saves(
    session: AsyncSession, who: Identity, obj_ids: Sequence[str]
) -> dict[str, datetime]:
    """When each object was first saved to one of the caller's groups (of its active saves):
    a later save is a re-save, however long the list it is in."""
    if not obj_ids:
        return {}
    query = (
        select(Source.obj_id, func.min(Source.saved_at))
        .where(Source.active.is_(True), Source.obj_id.in_(set(obj_ids)))
        .group_by(Source.obj_id)
    )
    if not who.admin:
        query = query.where(Source.group_id.in_(who.group_ids))
    return {obj_id: first for obj_id, first in (await session.execute(query)).all()}


def _latest_saves(who: Identity, limit: int) -> Select:
    query = (
        select(Source, User)
        .outerjoin(User, User.id == Source.saved_by_id)
        .where(Source.active.is_(True))
        .order_by(Source.saved_at.desc(), Source.id.desc())
        .limit(limit)
    )
    if not who.admin:
        query = query.where(Source.group_id.in_(who.group_ids))
    return query


async def recent_sources(
    session: AsyncSession, who: Identity, max_num_sources: str
) -> list[dict[str, Any]]:
    prefs = _section(await preferences_of(session, who.user_id), "recentSources")
    limit = count_param(
        max_num_sources, "maxNumSources", prefs.get("maxNumSources"), DEFAULT_MAX_SOURCES
    )
    saves = [source for source, _ in (await session.execute(_latest_saves(who, limit))).all()]
    obj_ids = [s.obj_id for s in saves]
    cards = await _cards(session, who, obj_ids)
    first = await _first_saves(session, who, obj_ids)
    return [
        {
            "obj_id": s.obj_id,
            "ra": cards[s.obj_id]["ra"],
            "dec": cards[s.obj_id]["dec"],
            "created_at": s.saved_at,
            "thumbnails": cards[s.obj_id]["thumbnails"],
            "classifications": cards[s.obj_id]["classifications"],
            "resaved": s.saved_at > first[s.obj_id],
        }
        for s in saves
    ]


# ---- the news feed ---------------------------------------------------------------------------


def save_message(resaved: bool) -> str:
    """SkyPortal's wording: an object's first save to the caller's groups is a new source."""
    return RESAVE if resaved else NEW_SAVE


def author_info(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_bot": user.is_bot,
    }


def _newest(query: Select, model: Any, limit: int) -> Select:
    return query.order_by(model.created_at.desc(), model.id.desc()).limit(limit)


async def _comment_items(
    session: AsyncSession, who: Identity, limit: int, include_bots: bool
) -> list[dict[str, Any]]:
    query = select(Comment, User).join(User, User.id == Comment.author_id)
    if not include_bots:
        query = query.where(Comment.bot.is_(False))
    if not who.admin:
        readable = grouped.readable_ids(who, comment_groups, "comment_id")
        query = query.where(Comment.id.in_(readable), Comment.obj_id.in_(saved_in_groups(who)))
    rows = (await session.execute(_newest(query, Comment, limit))).all()
    return [
        {
            "type": "comment",
            "time": c.created_at,
            "message": c.text,
            "source_id": c.obj_id,
            "author": author.username,
            "author_info": author_info(author),
        }
        for c, author in rows
    ]


def _readable_classifications(who: Identity) -> Select:
    """Readable human classifications of the caller's groups' sources."""
    query = select(Classification, User).join(User, User.id == Classification.author_id)
    query = query.where(Classification.ml.is_(False))
    if not who.admin:
        readable = grouped.readable_ids(who, classification_groups, "classification_id")
        query = query.where(
            Classification.id.in_(readable), Classification.obj_id.in_(saved_in_groups(who))
        )
    return query


async def _classification_items(
    session: AsyncSession, who: Identity, limit: int
) -> list[dict[str, Any]]:
    query = _newest(_readable_classifications(who), Classification, limit)
    return [
        {
            "type": "classification",
            "time": c.created_at,
            "message": (
                f"New classification for {c.obj_id} added by {author.username}: {c.classification}"
            ),
            "source_id": c.obj_id,
            "author_info": author_info(author),
        }
        for c, author in (await session.execute(query)).all()
    ]


async def _source_items(session: AsyncSession, who: Identity, limit: int) -> list[dict[str, Any]]:
    rows = (await session.execute(_latest_saves(who, limit))).all()
    first = await _first_saves(session, who, [s.obj_id for s, _ in rows])
    return [
        {
            "type": "source",
            "time": s.saved_at,
            "message": save_message(s.saved_at > first[s.obj_id]),
            "source_id": s.obj_id,
            "author_info": author_info(saver),
        }
        for s, saver in rows
    ]


async def _latest_classes(
    session: AsyncSession, who: Identity, obj_ids: set[str]
) -> dict[str, str]:
    """Each object's latest readable human classification with a probability above 0 (or
    none given), as SkyPortal's feed labels its items."""
    if not obj_ids:
        return {}
    query = (
        _readable_classifications(who)
        .where(
            Classification.obj_id.in_(obj_ids),
            Classification.probability.is_(None) | (Classification.probability > 0),
        )
        .order_by(Classification.modified, Classification.id)
    )
    return {c.obj_id: c.classification for c, _ in (await session.execute(query)).all()}


def newest_first(items: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item["time"], reverse=True)[:limit]


async def news_feed(session: AsyncSession, who: Identity, num_items: str) -> list[dict[str, Any]]:
    prefs = _section(await preferences_of(session, who.user_id), "newsFeed")
    categories = _section(prefs, "categories")
    limit = count_param(num_items, "numItems", prefs.get("numItems"), DEFAULT_NEWS_ITEMS)
    items: list[dict[str, Any]] = []
    if categories.get("sources", True):
        items += await _source_items(session, who, limit)
    if categories.get("comments", True):
        include_bots = bool(categories.get("includeCommentsFromBots", False))
        items += await _comment_items(session, who, limit, include_bots)
    if categories.get("classifications", True):
        items += await _classification_items(session, who, limit)
    items = newest_first(items, limit)
    latest = await _latest_classes(session, who, {item["source_id"] for item in items})
    for item in items:
        item["classification"] = latest.get(item["source_id"])
    return items
