"""Catalog ingestion (the IngestCatalog stream): all or nothing.

Rows arrive in chunks. Each row gets Kowalski's ``coordinates`` (``radec_geojson``,
``radec_str``) plus ``coordinates.healpix``, computed from the named ra/dec columns (degrees),
and goes into a staging collection ``_ingest.<catalog>.<random>``. Only once the stream has
ended and every row is in does the staging collection get its HEALPix index and replace the
catalog (a rename, so readers see the old rows or the new ones, never a mix). A bad row, a
broken stream or a cancelled call drops the staging collection: nothing partial is left.

Ingesting a name again replaces that catalog. A name that belongs to anything but an ingested
catalog (alerts, users, ...) is refused. The catalog's metadata document (columns, row count,
cross-match configuration) goes to ``catalog_metadata``, keyed by the catalog name.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import bson
import numpy as np
from bson import json_util
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, OperationFailure

from services.archive.queries.base import PROTECTED
from services.archive.sky_search import HEALPIX_FIELD
from services.archive.xmatch import METADATA, XMatchConfig
from skymesh import sky
from skymesh.archive.v1 import archive_pb2

STAGING_PREFIX = "_ingest."
VALID_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,119}$")


async def ingest_catalog(
    db: AsyncDatabase, messages: AsyncIterator[archive_pb2.IngestCatalogRequest]
) -> tuple[str, int]:
    """Consumes the stream; returns the catalog name and the number of rows ingested."""
    first = await anext(messages, None)
    if first is None:
        raise ValueError("IngestCatalog: the stream was empty; its first message names the catalog")
    catalog, ra_column, dec_column = first.catalog, first.ra_column, first.dec_column
    await _check_name(db, catalog)
    if not ra_column or not dec_column:
        raise ValueError("IngestCatalog: the first message must name ra_column and dec_column")
    xmatch = XMatchConfig.parse(catalog, _xmatch_json(first.xmatch_json))
    staging = db[f"{STAGING_PREFIX}{catalog}.{secrets.token_hex(4)}"]
    ingested = 0
    try:
        async for message in _chain(first, messages):
            if message.catalog and message.catalog != catalog:
                raise ValueError(
                    f"IngestCatalog: a message names catalog {message.catalog!r} "
                    f"in the stream of {catalog!r}"
                )
            rows = _decode(message.rows_bson, ingested)
            if rows:
                _add_coordinates(rows, ra_column, dec_column, ingested)
                await _insert(staging, rows, ingested)
                ingested += len(rows)
        if ingested == 0:
            raise ValueError(f"IngestCatalog: no rows arrived for {catalog}; nothing ingested")
        await _check_xmatch(staging, xmatch)
        await staging.create_index([(HEALPIX_FIELD, ASCENDING)], name=f"{HEALPIX_FIELD}_1")
        await staging.rename(catalog, dropTarget=True)
    except BaseException:
        # Also on cancellation: the client went away before the end of the stream.
        await staging.drop()
        raise
    await db[METADATA].replace_one(
        {"_id": catalog},
        {
            "_id": catalog,
            "ra_column": ra_column,
            "dec_column": dec_column,
            "rows": ingested,
            "ingested_at": datetime.now(UTC),
            "xmatch": xmatch.document(),
        },
        upsert=True,
    )
    return catalog, ingested


async def _chain(
    first: archive_pb2.IngestCatalogRequest,
    rest: AsyncIterator[archive_pb2.IngestCatalogRequest],
) -> AsyncIterator[archive_pb2.IngestCatalogRequest]:
    yield first
    async for message in rest:
        yield message


async def _check_name(db: AsyncDatabase, catalog: str) -> None:
    if not catalog:
        raise ValueError("IngestCatalog: the first message must name the catalog")
    if not VALID_NAME.match(catalog) or catalog.startswith(("system.", STAGING_PREFIX)):
        raise ValueError(
            f"IngestCatalog: {catalog!r} is not a valid catalog name (letters, digits, _ . -; "
            "at most 120 characters)"
        )
    if catalog in PROTECTED:  # users, filters, queries, catalog_metadata
        raise ValueError(f"IngestCatalog: {catalog!r} is reserved; choose another name")
    exists = catalog in await db.list_collection_names()
    if exists and await db[METADATA].count_documents({"_id": catalog}) == 0:
        raise ValueError(
            f"IngestCatalog: a collection named {catalog!r} exists and is not an ingested "
            "catalog; choose another name"
        )


def _xmatch_json(text: str) -> Any:
    if not text:
        return None
    try:
        return json_util.loads(text)
    except ValueError as exc:
        raise ValueError(f"IngestCatalog: xmatch_json is not valid JSON: {exc}") from exc


def _decode(raw_rows: Any, offset: int) -> list[dict[str, Any]]:
    rows = []
    for i, raw in enumerate(raw_rows):
        try:
            rows.append(bson.decode(raw))
        except (bson.errors.InvalidBSON, IndexError, ValueError) as exc:
            raise ValueError(f"IngestCatalog: row {offset + i + 1} is not a BSON document") from exc
    return rows


def _add_coordinates(
    rows: list[dict[str, Any]], ra_column: str, dec_column: str, offset: int
) -> None:
    """Adds ``coordinates`` to each row; refuses a row without a valid position."""
    ra = np.empty(len(rows))
    dec = np.empty(len(rows))
    for i, row in enumerate(rows):
        number = offset + i + 1
        if "coordinates" in row:
            raise ValueError(
                f"IngestCatalog: row {number} has a 'coordinates' field, which the archive "
                "computes; rename that column"
            )
        for column, target in ((ra_column, ra), (dec_column, dec)):
            value = row.get(column)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(
                    f"IngestCatalog: row {number}: {column} is {value!r}, not a number in degrees"
                )
            target[i] = value
    bad = sky.first_bad_position(ra, dec)
    if bad is not None:
        raise ValueError(
            f"IngestCatalog: row {offset + bad + 1}: {ra_column}={ra[bad]}, "
            f"{dec_column}={dec[bad]} is not a position (ra in [0, 360], dec in [-90, 90])"
        )
    for row, coordinates in zip(rows, sky.coordinates_documents(ra, dec), strict=True):
        row["coordinates"] = coordinates


async def _check_xmatch(staging: AsyncCollection, xmatch: XMatchConfig) -> None:
    """The cross-match configuration must work on these rows before it is published."""
    if xmatch.projection:
        try:
            await staging.find_one({}, projection=xmatch.projection)
        except OperationFailure as exc:
            message = (exc.details or {}).get("errmsg") or str(exc)
            raise ValueError(f"IngestCatalog: the xmatch projection is invalid: {message}") from exc
    if xmatch.galaxy:
        column = xmatch.galaxy.distance_column
        if await staging.count_documents({column: {"$exists": True}}, limit=1) == 0:
            raise ValueError(f"IngestCatalog: no row has the galaxy distance column {column!r}")


async def _insert(staging: AsyncCollection, rows: list[dict[str, Any]], offset: int) -> None:
    try:
        await staging.insert_many(rows, ordered=True)
    except BulkWriteError as exc:
        error = (exc.details.get("writeErrors") or [{}])[0]
        number = offset + error.get("index", 0) + 1
        raise ValueError(
            f"IngestCatalog: row {number} was refused: {error.get('errmsg', exc)}"
        ) from exc


__all__ = ["STAGING_PREFIX", "ingest_catalog"]
