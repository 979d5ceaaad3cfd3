"""`skymesh catalog ingest` -> the archive's IngestCatalog: every row or none, with positions."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import astropy.units as u
import bson
import grpc
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy_healpix import HEALPix
from pymongo import MongoClient

from skymesh.archive.v1 import archive_pb2, archive_pb2_grpc
from skymesh.config import Settings
from tests.integration.catalog_stack import (
    IGAPS,
    VLASS,
    ZTF_SOURCES,
    admin_token,
    catalog_names,
    catalog_stack,
    file_row_count,
    ingest,
    query_data,
    read_reference,
    run_cli,
    user_token,
)
from tests.polling import wait_for

pytestmark = pytest.mark.integration

CATALOGS = {"VLASS_components": VLASS, "IGAPS_DR1": IGAPS, "ZTF_sources_dr5": ZTF_SOURCES}
HEALPIX_ORDER16 = HEALPix(nside=2**16, order="nested")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with catalog_stack(tmp_path_factory.mktemp("catalogs-run")) as stack_settings:
        yield stack_settings


@pytest.fixture(scope="module")
def ingested(settings: Settings) -> dict[str, str]:
    """Each bundled catalog ingested once through the command line; name -> its output."""
    return {name: ingest(settings, path, name) for name, path in CATALOGS.items()}


def count(settings: Settings, catalog: str) -> int:
    return query_data(
        settings,
        admin_token(settings),
        {"query_type": "count_documents", "query": {"catalog": catalog, "filter": {}}},
    )


def leftovers(settings: Settings) -> list[str]:
    """Staging collections, read from the database itself: the query API never lists them."""
    with MongoClient(settings.mongo_uri) as client:
        names = client[settings.db_name].list_collection_names()
    return [n for n in names if n.startswith("_ingest.")]


@pytest.mark.parametrize("name", list(CATALOGS))
def test_every_row_of_each_file_is_ingested(
    settings: Settings, ingested: dict[str, str], name: str
) -> None:
    rows = file_row_count(CATALOGS[name])
    assert rows > 0
    assert f"ingested {rows} rows into {name}" in ingested[name]
    assert count(settings, name) == rows


@pytest.mark.parametrize("name", list(CATALOGS))
def test_each_row_carries_kowalski_coordinates_and_its_healpix_index(
    settings: Settings, ingested: dict[str, str], name: str
) -> None:
    reference = read_reference(CATALOGS[name])
    docs = query_data(
        settings,
        admin_token(settings),
        {
            "query_type": "find",
            "query": {
                "catalog": name,
                "filter": {},
                "projection": {**reference.projection, "coordinates": 1, "_id": 0},
            },
        },
    )
    by_id = {reference.key(doc): doc["coordinates"] for doc in docs}
    assert len(by_id) == len(docs) == len(reference.ids)
    assert set(by_id) == set(reference.ids)
    expected_pixels = HEALPIX_ORDER16.lonlat_to_healpix(reference.ra * u.deg, reference.dec * u.deg)
    for row_id, ra, dec, pixel in zip(
        reference.ids, reference.ra, reference.dec, expected_pixels, strict=True
    ):
        coordinates = by_id[row_id]
        assert coordinates["healpix"] == int(pixel)
        assert coordinates["radec_geojson"]["type"] == "Point"
        lon, lat = coordinates["radec_geojson"]["coordinates"]
        assert lon == pytest.approx(ra - 180.0, abs=1e-9) and lat == pytest.approx(dec, abs=1e-12)
        ra_text, dec_text = coordinates["radec_str"]
        parsed = SkyCoord(ra_text, dec_text, unit=(u.hourangle, u.deg))
        assert parsed.separation(SkyCoord(ra * u.deg, dec * u.deg)).arcsec < 0.01


def test_null_cells_drop_their_field_and_values_keep_their_types(
    settings: Settings, ingested: dict[str, str]
) -> None:
    # IGAPS has masked (null) cells; the file says which, independently of the ingester.
    with gzip.open(IGAPS) as fh:
        from astropy.table import Table

        table = Table.read(fh, format="fits")
    column = next(c for c in table.colnames if getattr(table[c], "mask", np.False_).any())
    masked_row = int(np.flatnonzero(table[column].mask)[0])
    name = table["name"][masked_row]
    name = name.decode() if isinstance(name, bytes) else str(name)
    doc = query_data(
        settings,
        admin_token(settings),
        {"query_type": "find_one", "query": {"catalog": "IGAPS_DR1", "filter": {"name": name}}},
    )
    assert column not in doc
    assert isinstance(doc["RA"], float) and isinstance(doc["sourceID"], str)
    # Parquet list columns stay arrays, with their length.
    ztf = query_data(
        settings,
        admin_token(settings),
        {"query_type": "find_one", "query": {"catalog": "ZTF_sources_dr5", "filter": {}}},
    )
    assert isinstance(ztf["objectid"], int)
    assert len(ztf["hmjd"]) == len(ztf["mag"]) == ztf["nepochs"]
    assert "__index_level_0__" not in ztf


def test_the_catalog_is_described_in_the_metadata(
    settings: Settings, ingested: dict[str, str]
) -> None:
    meta = query_data(
        settings,
        admin_token(settings),
        {
            "query_type": "find_one",
            "query": {"catalog": "catalog_metadata", "filter": {"_id": "ZTF_sources_dr5"}},
        },
    )
    assert meta["ra_column"] == "objra" and meta["dec_column"] == "objdec"
    assert meta["rows"] == file_row_count(ZTF_SOURCES)
    assert meta["xmatch"] == {
        "enabled": True,
        "radius_arcsec": 2.0,
        "projection": {},
        "galaxy": None,
    }
    indexes = query_data(
        settings,
        admin_token(settings),
        {"query_type": "info", "query": {"command": "index_info", "catalog": "ZTF_sources_dr5"}},
    )
    assert any(index["key"] == [["coordinates.healpix", 1]] for index in indexes.values())


def test_ingesting_again_replaces_the_catalog(settings: Settings, ingested: dict[str, str]) -> None:
    ingest(settings, VLASS, "VLASS_again")
    output = ingest(settings, VLASS, "VLASS_again", "--max-docs", "10")
    assert "ingested 10 rows" in output
    assert count(settings, "VLASS_again") == 10


def test_explicit_columns_and_format(settings: Settings, tmp_path: Path) -> None:
    copy = tmp_path / "vlass.data"
    copy.write_bytes(VLASS.read_bytes())
    output = ingest(
        settings,
        copy,
        "VLASS_max_pos",
        "--format",
        "csv",
        "--ra-col",
        "RA_max",
        "--dec-col",
        "DEC_max",
    )
    assert f"ingested {file_row_count(VLASS)} rows" in output
    meta = query_data(
        settings,
        admin_token(settings),
        {
            "query_type": "find_one",
            "query": {"catalog": "catalog_metadata", "filter": {"_id": "VLASS_max_pos"}},
        },
    )
    assert (meta["ra_column"], meta["dec_column"]) == ("RA_max", "DEC_max")


def write_truncated_fits(path: Path) -> Path:
    raw = gzip.decompress(IGAPS.read_bytes())
    path.write_bytes(raw[: len(raw) * 2 // 3])
    return path


def write_truncated_gzip(path: Path) -> Path:
    raw = IGAPS.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    return path


def write_no_coordinates(path: Path) -> Path:
    path.write_text("name,flux,size\nA,1.5,3\nB,2.5,4\n")
    return path


def write_bad_position(path: Path) -> Path:
    lines = VLASS.read_text().splitlines()
    header = lines[0].split(",")
    fields = lines[5].split(",")
    fields[header.index("DEC")] = "123.0"
    lines[5] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("make", "file_name", "message"),
    [
        (write_no_coordinates, "plain.csv", "no recognisable coordinate columns"),
        (write_truncated_fits, "cut.fits", "truncated"),
        (write_truncated_gzip, "cut.fits.gz", "gzip stream is incomplete or damaged"),
        (write_bad_position, "bad.csv", "row 5 has no valid position"),
    ],
)
def test_a_bad_file_is_refused_and_leaves_nothing(
    settings: Settings, tmp_path: Path, make, file_name: str, message: str
) -> None:
    path = make(tmp_path / file_name)
    result = run_cli(settings, "catalog", "ingest", path, "--name", "bad_catalog")
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr.replace("\n", " ")
    assert str(path) in result.stderr.replace("\n", "")
    assert "bad_catalog" not in catalog_names(settings)
    assert leftovers(settings) == []


def test_a_missing_column_option_is_named(settings: Settings) -> None:
    result = run_cli(settings, "catalog", "ingest", VLASS, "--name", "x", "--ra-col", "nope")
    assert result.returncode == 2
    assert "--ra-col 'nope' is not a column" in result.stderr.replace("\n", " ")


# --- the archive's own guarantees, without the command line's checks in front -------------


def rows_bson(rows: list[dict]) -> list[bytes]:
    return [bson.encode(row) for row in rows]


async def call_ingest(
    settings: Settings,
    messages: list[archive_pb2.IngestCatalogRequest],
    token: str | None = None,
) -> archive_pb2.IngestCatalogResponse:
    async def stream() -> AsyncIterator[archive_pb2.IngestCatalogRequest]:
        for message in messages:
            yield message

    async with grpc.aio.insecure_channel(settings.address("archive")) as channel:
        return await archive_pb2_grpc.ArchiveServiceStub(channel).IngestCatalog(
            stream(),
            metadata=[("authorization", f"Bearer {token or admin_token(settings)}")],
            timeout=60,
        )


def good_rows(n: int, start: int = 0) -> list[dict]:
    return [{"id": start + i, "ra": 10.0 + i * 0.01, "dec": -5.0 + i * 0.01} for i in range(n)]


def header(name: str, **fields) -> archive_pb2.IngestCatalogRequest:
    return archive_pb2.IngestCatalogRequest(
        catalog=name, ra_column="ra", dec_column="dec", **fields
    )


def test_a_bad_row_in_a_later_chunk_keeps_the_previous_catalog_whole(settings: Settings) -> None:
    first = asyncio.run(
        call_ingest(
            settings,
            [header("kept"), archive_pb2.IngestCatalogRequest(rows_bson=rows_bson(good_rows(30)))],
        )
    )
    assert first.ingested == 30
    bad = good_rows(20, start=100)
    bad[7]["dec"] = "south"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        asyncio.run(
            call_ingest(
                settings,
                [
                    header("kept"),
                    archive_pb2.IngestCatalogRequest(rows_bson=rows_bson(good_rows(50, start=200))),
                    archive_pb2.IngestCatalogRequest(rows_bson=rows_bson(bad)),
                ],
            )
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "row 58: dec is 'south'" in refused.value.details()
    ids = query_data(
        settings,
        admin_token(settings),
        {"query_type": "find", "query": {"catalog": "kept", "filter": {}, "projection": {"id": 1}}},
    )
    assert sorted(d["id"] for d in ids) == list(range(30))
    assert leftovers(settings) == []


def test_a_cancelled_stream_leaves_nothing(settings: Settings) -> None:
    async def cancel_midway() -> None:
        sent = asyncio.Event()

        async def stream() -> AsyncIterator[archive_pb2.IngestCatalogRequest]:
            yield header("cancelled")
            yield archive_pb2.IngestCatalogRequest(rows_bson=rows_bson(good_rows(40)))
            sent.set()
            await asyncio.Event().wait()  # never ends on its own

        async with grpc.aio.insecure_channel(settings.address("archive")) as channel:
            call = archive_pb2_grpc.ArchiveServiceStub(channel).IngestCatalog(
                stream(), metadata=[("authorization", f"Bearer {admin_token(settings)}")]
            )
            await sent.wait()
            # The archive has the rows in staging once the staging collection appears.
            await asyncio.to_thread(
                wait_for, lambda: leftovers(settings), bool, 30, "the staging collection"
            )
            call.cancel()

    asyncio.run(cancel_midway())
    wait_for(lambda: leftovers(settings), lambda names: names == [], 30, "staging to be dropped")
    assert "cancelled" not in catalog_names(settings)


@pytest.mark.parametrize(
    ("messages", "code", "message"),
    [
        ([], grpc.StatusCode.INVALID_ARGUMENT, "the stream was empty"),
        ([header("")], grpc.StatusCode.INVALID_ARGUMENT, "must name the catalog"),
        ([header("users")], grpc.StatusCode.INVALID_ARGUMENT, "'users' is reserved"),
        ([header("a$b")], grpc.StatusCode.INVALID_ARGUMENT, "not a valid catalog name"),
        ([header("empty")], grpc.StatusCode.INVALID_ARGUMENT, "no rows arrived"),
        (
            [header("badx", xmatch_json=json.dumps({"radius_arcsec": -1}))],
            grpc.StatusCode.INVALID_ARGUMENT,
            "radius_arcsec must be a positive number",
        ),
        (
            [
                header("badp", xmatch_json=json.dumps({"projection": {"id": 1, "ra": 0}})),
                archive_pb2.IngestCatalogRequest(rows_bson=rows_bson(good_rows(3))),
            ],
            grpc.StatusCode.INVALID_ARGUMENT,
            "the xmatch projection is invalid",
        ),
        (
            [
                header("badg", xmatch_json=json.dumps({"galaxy": {"distance_column": "z"}})),
                archive_pb2.IngestCatalogRequest(rows_bson=rows_bson(good_rows(3))),
            ],
            grpc.StatusCode.INVALID_ARGUMENT,
            "no row has the galaxy distance column 'z'",
        ),
        (
            [
                header("dup"),
                archive_pb2.IngestCatalogRequest(
                    rows_bson=rows_bson([{**r, "_id": 1} for r in good_rows(3)])
                ),
            ],
            grpc.StatusCode.INVALID_ARGUMENT,
            "row 2 was refused",
        ),
    ],
)
def test_the_archive_refuses_bad_streams(
    settings: Settings, messages: list, code: grpc.StatusCode, message: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        asyncio.run(call_ingest(settings, messages))
    assert refused.value.code() == code
    assert message in refused.value.details()
    names = catalog_names(settings)
    assert not {"empty", "badx", "badp", "badg", "dup"} & set(names)
    assert leftovers(settings) == []


def test_a_collection_that_is_not_a_catalog_is_never_replaced(
    settings: Settings, ingested: dict[str, str]
) -> None:
    # The metadata collection itself exists (from the ingestions) and is not a catalog.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        asyncio.run(
            call_ingest(
                settings,
                [
                    header("catalog_metadata"),
                    archive_pb2.IngestCatalogRequest(rows_bson=rows_bson(good_rows(2))),
                ],
            )
        )
    assert "reserved" in refused.value.details()


def test_only_admins_ingest(settings: Settings) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        asyncio.run(
            call_ingest(
                settings,
                [
                    header("mine"),
                    archive_pb2.IngestCatalogRequest(rows_bson=rows_bson(good_rows(2))),
                ],
                token=user_token(settings),
            )
        )
    # A missing ACL is SkyPortal's 401.
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "needs the ACL 'System admin'" in (refused.value.details() or "")
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        asyncio.run(call_ingest(settings, [header("mine")], token="not-a-token"))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
