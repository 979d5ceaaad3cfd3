"""Taxonomies and classifications: SkyPortal's ``/api/taxonomy[/{id}]``,
``/api/classification[/{id}]`` and ``/api/sources/{obj_id}/classifications``.

A taxonomy is a tree of classes validated with tdtax's JSON schema, as SkyPortal validates
it; tdtax's own taxonomy is loaded at the portal's start for everyone (the public group). A
classification names one class of a taxonomy the caller may read, with an optional
probability in [0, 1]; its groups decide who reads it (the public group by default).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import tdtax
from jsonschema import Draft7Validator
from jsonschema import ValidationError as SchemaError
from jsonschema.exceptions import best_match
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import grouped
from services.portal.db.models import (
    Classification,
    Taxonomy,
    User,
    classification_groups,
    taxonomy_groups,
    utcnow,
)
from services.portal.objects import flag, visible_obj
from services.portal.users import sitewide_group_id
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden

# SkyPortal's sitewide taxonomy: tdtax's tree under its name, at tdtax's version.
SITEWIDE_TAXONOMY = "Sitewide taxonomy"
TDTAX_PROVENANCE = "https://github.com/profjsb/timedomain-taxonomy"
# tdtax's node definition alone (its schema's other branch, a "ref" to a file, never
# validates), for a precise message; with the definitions its own $refs point to.
NODE = {
    **next(
        branch
        for branch in tdtax.schema["definitions"]["node"]["oneOf"]
        if "class" in branch.get("required", [])
    ),
    "definitions": tdtax.schema["definitions"],
}
PER_PAGE, MAX_PER_PAGE = 100, 500
# SkyPortal's spellings of ml's booleans.
ML_TRUE, ML_FALSE = (True, "True", "t", "true"), (False, "False", "f", "false")

# ---- taxonomies --------------------------------------------------------------------------


def check_hierarchy(hierarchy: Any) -> None:
    """tdtax's schema, as SkyPortal applies it, and a class on every node.

    The schema checks the root node (``class``, ``comments``, ``tags``, ``links``, ``other
    names``, ``subclasses``, nothing else); it does not descend into ``subclasses`` (its
    item rule sits under ``patternProperties``, which arrays ignore), and tdtax's own tree
    relies on that (a ``subclass`` key under "binary lens"). Below the root, each subclass
    must still be a node with a string ``class``, else the allowed classes are not a list."""
    try:
        Draft7Validator(tdtax.schema).validate(hierarchy)
    except SchemaError as error:
        specific = best_match(Draft7Validator(NODE).iter_errors(hierarchy)) or error
        raise ValueError(
            f"Hierarchy does not validate against the schema: {specific.message}"
        ) from None

    def walk(node: Any, where: str) -> None:
        if not isinstance(node, Mapping) or not isinstance(node.get("class"), str):
            raise ValueError(
                "Hierarchy does not validate against the schema: "
                f"{where} must be a node with a string 'class'"
            )
        subclasses = node.get("subclasses", [])
        if not isinstance(subclasses, list):
            raise ValueError(
                f"Hierarchy does not validate against the schema: {where}.subclasses "
                "must be an array"
            )
        for index, child in enumerate(subclasses):
            walk(child, f"{where}.subclasses[{index}]")

    walk(hierarchy, "hierarchy")


def allowed_classes(hierarchy: Mapping[str, Any]) -> Iterator[str]:
    """Every ``class`` of the tree, as SkyPortal collects them."""
    if "class" in hierarchy:
        yield hierarchy["class"]
    for child in hierarchy.get("subclasses", []):
        yield from allowed_classes(child)


async def taxonomy_json(session: AsyncSession, rows: list[Taxonomy]) -> list[dict[str, Any]]:
    groups = await grouped.groups_of(session, taxonomy_groups, "taxonomy_id", [t.id for t in rows])
    return [
        {
            "id": t.id,
            "name": t.name,
            "version": t.version,
            "hierarchy": t.hierarchy,
            "provenance": t.provenance,
            "isLatest": t.is_latest,
            "created_at": t.created_at,
            "groups": groups.get(t.id, []),
        }
        for t in rows
    ]


async def ensure_sitewide_taxonomy(session: AsyncSession) -> None:
    """tdtax's taxonomy for everyone, once per tdtax version (idempotent, replica-safe)."""
    added = await session.scalar(
        insert(Taxonomy)
        .values(
            name=SITEWIDE_TAXONOMY,
            version=tdtax.__version__,
            hierarchy=tdtax.taxonomy,
            provenance=TDTAX_PROVENANCE,
            is_latest=True,
        )
        .on_conflict_do_nothing(index_elements=["name", "version"])
        .returning(Taxonomy.id)
    )
    if added is None:
        return
    await _only_latest(session, SITEWIDE_TAXONOMY, added)
    group_ids = [await sitewide_group_id(session)]
    await grouped.link(session, taxonomy_groups, "taxonomy_id", added, group_ids)


async def _only_latest(session: AsyncSession, name: str, latest_id: int) -> None:
    await session.execute(
        update(Taxonomy)
        .where(Taxonomy.name == name, Taxonomy.id != latest_id)
        .values(is_latest=False)
    )


def _readable_taxonomies(who: Identity) -> Any:
    query = select(Taxonomy)
    if not who.admin:
        query = query.where(
            Taxonomy.id.in_(grouped.readable_ids(who, taxonomy_groups, "taxonomy_id"))
        )
    return query


async def _taxonomy(session: AsyncSession, who: Identity, taxonomy_id: int) -> Taxonomy | None:
    return await session.scalar(_readable_taxonomies(who).where(Taxonomy.id == taxonomy_id))


async def post_taxonomy(session: AsyncSession, who: Identity, body: dict[str, Any]) -> int:
    name, version = body.get("name"), body.get("version")
    if not isinstance(name, str) or not name:
        raise ValueError("A name must be provided for a taxonomy")
    if not isinstance(version, str) or not version:
        raise ValueError("A version string must be provided for a taxonomy")
    taken = await session.scalar(
        select(Taxonomy.id).where(Taxonomy.name == name, Taxonomy.version == version)
    )
    if taken is not None:
        raise ValueError(
            "That version/name combination is already present. If you really want to "
            "replace this then delete the appropriate entry."
        )
    hierarchy = body.get("hierarchy")
    if hierarchy is None:
        raise ValueError("A JSON of the taxonomy must be given")
    check_hierarchy(hierarchy)
    group_ids = await grouped.post_groups(session, who, body.get("group_ids"))
    provenance = body.get("provenance")
    latest = body.get("isLatest", True)
    is_latest = latest if isinstance(latest, bool) else flag(str(latest))
    added = await session.scalar(
        insert(Taxonomy)
        .values(
            name=name,
            version=version,
            hierarchy=hierarchy,
            provenance=provenance if isinstance(provenance, str) else None,
            is_latest=is_latest,
        )
        .on_conflict_do_nothing(index_elements=["name", "version"])
        .returning(Taxonomy.id)
    )
    if added is None:  # a concurrent post of the same name and version won
        raise ValueError("That version/name combination is already present.")
    if is_latest:
        await _only_latest(session, name, added)
    await grouped.link(session, taxonomy_groups, "taxonomy_id", added, group_ids)
    return added


async def list_taxonomies(session: AsyncSession, who: Identity) -> list[dict[str, Any]]:
    query = _readable_taxonomies(who).order_by(Taxonomy.id)
    return await taxonomy_json(session, list(await session.scalars(query)))


async def get_taxonomy(session: AsyncSession, who: Identity, taxonomy_id: int) -> dict[str, Any]:
    taxonomy = await _taxonomy(session, who, taxonomy_id)
    if taxonomy is None:
        raise ValueError("Taxonomy does not exist or is not available to user.")
    return (await taxonomy_json(session, [taxonomy]))[0]


async def delete_taxonomy(session: AsyncSession, who: Identity, taxonomy_id: int) -> None:
    used = await session.scalar(
        select(Classification.id).where(Classification.taxonomy_id == taxonomy_id).limit(1)
    )
    if used is not None:
        raise ValueError(
            f"Cannot delete taxonomy {taxonomy_id} because it has associated classifications."
        )
    taxonomy = await _taxonomy(session, who, taxonomy_id)
    if taxonomy is None:
        raise ValueError(f"Taxonomy {taxonomy_id} does not exist or is not available to user.")
    # SkyPortal keeps deletion to an ACL only super admins hold: here a group's taxonomy is
    # its members' to delete, everyone's (the public group's) a system admin's.
    shared = await grouped.group_ids_of(session, taxonomy_groups, "taxonomy_id", taxonomy.id)
    if not who.admin and await sitewide_group_id(session) in shared:
        raise Forbidden("Only a system admin may delete a taxonomy of the public group.")
    await session.delete(taxonomy)


# ---- classifications -----------------------------------------------------------------------


def _ml(value: Any) -> bool:
    if value in ML_TRUE:
        return True
    if value in ML_FALSE:
        return False
    raise ValueError(
        "If provided, ml must be one of True, False, 'True', 'False', 't', 'f', 'true', "
        f"'false' (got {value})"
    )


def _probability(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"probability must be a number, not {value!r}")
    if value < 0 or value > 1:
        raise ValueError(f"That probability ({value}) is outside the allowable range (0-1).")
    return float(value)


async def _allowed(
    session: AsyncSession, who: Identity, taxonomy_id: int, classification: Any
) -> None:
    taxonomy = await _taxonomy(session, who, taxonomy_id)
    if taxonomy is None:
        raise ValueError(f"Cannot find a taxonomy with ID: {taxonomy_id}.")
    if not isinstance(classification, str) or classification not in set(
        allowed_classes(taxonomy.hierarchy)
    ):
        raise ValueError(
            f"That classification ({classification}) is not in the allowed classes for the "
            f"chosen taxonomy (id={taxonomy_id})"
        )


async def _post_one(
    session: AsyncSession, who: Identity, author_id: int, body: Mapping[str, Any]
) -> int:
    if not isinstance(body, Mapping):
        raise ValueError("each classification must be an object")
    obj_id = body.get("obj_id")
    if not isinstance(obj_id, str) or await visible_obj(session, who, obj_id) is None:
        raise ValueError(f"Cannot find object with ID {obj_id}.")
    for key in ("classification", "taxonomy_id"):
        if body.get(key) is None:
            raise ValueError(f"Invalid/missing parameters: {key} is required")
    taxonomy_id = grouped.integer(body["taxonomy_id"], "taxonomy_id")
    ml = _ml(body.get("ml", False))
    await _allowed(session, who, taxonomy_id, body["classification"])
    probability = _probability(body.get("probability"))
    origin = body.get("origin")
    group_ids = await grouped.post_groups(session, who, body.get("group_ids"))
    row = Classification(
        obj_id=obj_id,
        classification=body["classification"],
        taxonomy_id=taxonomy_id,
        probability=probability,
        ml=ml,
        origin=origin if isinstance(origin, str) else None,
        author_id=author_id,
    )
    session.add(row)
    await session.flush()
    await grouped.link(session, classification_groups, "classification_id", row.id, group_ids)
    return row.id


async def post_classifications(
    session: AsyncSession, who: Identity, author_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """One classification (``{"classification_id"}``) or SkyPortal's batch form
    ``{"classifications": [...]}`` (``{"classification_ids"}``, all or none)."""
    try:
        if "classifications" in body:
            batch = body["classifications"]
            if not isinstance(batch, list):
                raise ValueError("classifications must be a list")
            return {
                "classification_ids": [
                    await _post_one(session, who, author_id, item) for item in batch
                ]
            }
        return {"classification_id": await _post_one(session, who, author_id, body)}
    except ValueError as error:
        raise ValueError(f"Error posting classification: {error}") from None


def _readable_classifications(who: Identity) -> Any:
    query = select(Classification, User.username).join(User, User.id == Classification.author_id)
    if not who.admin:
        shared = grouped.readable_ids(who, classification_groups, "classification_id")
        query = query.where(
            Classification.id.in_(shared), Classification.obj_id.in_(grouped.visible_obj_ids(who))
        )
    return query


async def _classification_json(
    session: AsyncSession, rows: list[tuple[Classification, str]], include_taxonomy: bool
) -> list[dict[str, Any]]:
    ids = [c.id for c, _ in rows]
    groups = await grouped.groups_of(session, classification_groups, "classification_id", ids)
    taxonomies: dict[int, dict[str, Any]] = {}
    if include_taxonomy:
        wanted = {c.taxonomy_id for c, _ in rows}
        found = list(await session.scalars(select(Taxonomy).where(Taxonomy.id.in_(wanted))))
        taxonomies = {t["id"]: t for t in await taxonomy_json(session, found)}
    out = []
    for c, author_name in rows:
        item = {
            "id": c.id,
            "obj_id": c.obj_id,
            "classification": c.classification,
            "taxonomy_id": c.taxonomy_id,
            "probability": c.probability,
            "ml": c.ml,
            "origin": c.origin,
            "author_id": c.author_id,
            "author_name": author_name,
            "groups": groups.get(c.id, []),
            "created_at": c.created_at,
            "modified": c.modified,
        }
        if include_taxonomy:
            item["taxonomy"] = taxonomies.get(c.taxonomy_id)
        out.append(item)
    return out


def _moment(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 date, not {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def list_classifications(
    session: AsyncSession,
    who: Identity,
    start: str,
    end: str,
    include_taxonomy: bool,
    per_page: int,
    page: int,
) -> dict[str, Any]:
    per_page = min(per_page or PER_PAGE, MAX_PER_PAGE)
    page = page or 1
    if per_page < 1 or page < 1:
        raise ValueError("numPerPage and pageNumber must be positive")
    query = _readable_classifications(who)
    if start:
        query = query.where(Classification.created_at >= _moment(start, "startDate"))
    if end:
        query = query.where(Classification.created_at <= _moment(end, "endDate"))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    page_rows = (
        await session.execute(
            query.order_by(Classification.id).limit(per_page).offset((page - 1) * per_page)
        )
    ).all()
    return {
        "classifications": await _classification_json(
            session, [tuple(r) for r in page_rows], include_taxonomy
        ),
        "totalMatches": int(total or 0),
    }


async def get_classification(
    session: AsyncSession, who: Identity, classification_id: int, include_taxonomy: bool
) -> dict[str, Any]:
    row = (
        await session.execute(
            _readable_classifications(who).where(Classification.id == classification_id)
        )
    ).first()
    if row is None:
        raise ValueError(f"Cannot find classification with ID: {classification_id}.")
    return (await _classification_json(session, [tuple(row)], include_taxonomy))[0]


async def of_obj(session: AsyncSession, who: Identity, obj_id: str) -> list[dict[str, Any]]:
    """The object's classifications the caller reads (the object's visibility is checked by
    the caller), oldest first."""
    return (await of_objs(session, who, [obj_id])).get(obj_id, [])


async def of_objs(
    session: AsyncSession, who: Identity, obj_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """``of_obj`` for a page of objects at once (one query for the rows, one for their
    groups): each object's readable classifications, oldest first; none, no key."""
    if not obj_ids:
        return {}
    query = (
        _readable_classifications(who)
        .where(Classification.obj_id.in_(obj_ids))
        .order_by(Classification.created_at, Classification.id)
    )
    rows = (await session.execute(query)).all()
    found: dict[str, list[dict[str, Any]]] = {}
    for item in await _classification_json(session, [tuple(r) for r in rows], False):
        found.setdefault(item["obj_id"], []).append(item)
    return found


async def _editable(session: AsyncSession, who: Identity, classification_id: int) -> Classification:
    row = await session.get(Classification, classification_id)
    if row is None or not grouped.may_edit(who, row.author_id):
        raise ValueError(f"Cannot find a classification with ID: {classification_id}.")
    return row


async def update_classification(
    session: AsyncSession, who: Identity, classification_id: int, body: dict[str, Any]
) -> None:
    row = await _editable(session, who, classification_id)
    taxonomy_id = row.taxonomy_id
    if body.get("taxonomy_id") is not None:
        taxonomy_id = grouped.integer(body["taxonomy_id"], "taxonomy_id")
    classification = body.get("classification", row.classification)
    if taxonomy_id != row.taxonomy_id or classification != row.classification:
        await _allowed(session, who, taxonomy_id, classification)
        row.taxonomy_id, row.classification = taxonomy_id, classification
    if "probability" in body:
        row.probability = _probability(body["probability"])
    if "ml" in body:
        row.ml = _ml(body["ml"])
    if "origin" in body:
        origin = body["origin"]
        row.origin = origin if isinstance(origin, str) else None
    if body.get("group_ids") is not None:
        group_ids = await grouped.new_groups(session, who, body["group_ids"])
        await grouped.link(session, classification_groups, "classification_id", row.id, group_ids)
    row.modified = utcnow()


async def delete_classification(
    session: AsyncSession, who: Identity, classification_id: int
) -> None:
    await session.delete(await _editable(session, who, classification_id))
