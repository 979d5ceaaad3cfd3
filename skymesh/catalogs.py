"""``skymesh catalog ingest``: read a catalog file and stream its rows to the archive.

The file (CSV, FITS or Parquet) is read whole and checked before anything is sent: a file that
cannot be parsed, has no rows, or has no usable coordinate columns is refused with a message
naming the problem. Rows then travel in chunks over the archive's ``IngestCatalog`` stream,
which stages them and publishes the catalog only once every row has arrived (all or nothing).

Row conversion, so that every value is BSON: numpy/Arrow values become Python ones, FITS
strings are decoded and right-stripped, dates become UTC datetimes and decimals Decimal128.
A null or NaN cell drops its field from the row (as Kowalski's ingesters do: the row stays,
the field is absent); NaN inside an array column is kept, so arrays keep their length.
Column names lose what MongoDB cannot store: dots become underscores and a leading ``$`` an
underscore; pandas' index columns (``__index_level_0__``) are not data and are left out.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import decimal
import gzip
import json
import math
import re
import warnings
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import bson
import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

    from skymesh.config import Settings

FORMATS = ("csv", "fits", "parquet")
SUFFIX_FORMATS = {
    ".csv": "csv",
    ".fits": "fits",
    ".fit": "fits",
    ".fts": "fits",
    ".parquet": "parquet",
    ".pq": "parquet",
}
# Coordinate column pairs recognised when --ra-col/--dec-col are not given (case-insensitive).
COORDINATE_PAIRS = (
    ("ra", "dec"),
    ("raj2000", "dej2000"),
    ("raj2000", "decj2000"),
    ("ra_deg", "dec_deg"),
    ("radeg", "dedeg"),
    ("ra_icrs", "de_icrs"),
    ("objra", "objdec"),
    ("ramean", "decmean"),
    ("alpha_j2000", "delta_j2000"),
)
PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")
CHUNK_ROWS = 1000
CHUNK_BYTES = 4 * 1024 * 1024
INT64_MAX = 2**63 - 1
DEFAULT_XMATCH_RADIUS_ARCSEC = 2.0
# Kowalski's galaxy catalogs (CLU): a 300" cone, then 30 kpc at the galaxy's distance.
DEFAULT_GALAXY_RADIUS_ARCSEC = 300.0
DEFAULT_GALAXY_MAX_KPC = 30.0
DEFAULT_GALAXY_LOW_DISTANCE_ARCSEC = 300.0


class CatalogFileError(ValueError):
    """The catalog file cannot be ingested; the message says why."""


@dataclass
class CatalogFile:
    path: Path
    format: str
    table: pa.Table
    ra_column: str
    dec_column: str

    @property
    def rows(self) -> int:
        return self.table.num_rows

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[list[bytes]]:
        """The rows as BSON documents, in chunks of at most ``rows`` rows or ~4 MiB."""
        for start in range(0, self.rows, rows):
            chunk: list[bytes] = []
            size = 0
            for offset, row in enumerate(self.table.slice(start, rows).to_pylist()):
                try:
                    encoded = bson.encode(bson_row(row))
                except (bson.errors.InvalidDocument, OverflowError, TypeError) as exc:
                    raise CatalogFileError(
                        f"{self.path}: row {start + offset + 1} cannot be stored: {exc}"
                    ) from exc
                if chunk and size + len(encoded) > CHUNK_BYTES:
                    yield chunk
                    chunk, size = [], 0
                chunk.append(encoded)
                size += len(encoded)
            if chunk:
                yield chunk


def detect_format(path: Path, given: str | None = None) -> str:
    if given:
        if given not in FORMATS:
            raise CatalogFileError(f"unknown format {given!r}; one of {', '.join(FORMATS)}")
        return given
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    fmt = SUFFIX_FORMATS.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        raise CatalogFileError(
            f"cannot tell the format of {path.name} from its name; "
            f"pass --format ({', '.join(FORMATS)})"
        )
    return fmt


def read_catalog(
    path: Path,
    fmt: str | None = None,
    ra_column: str | None = None,
    dec_column: str | None = None,
    max_docs: int | None = None,
) -> CatalogFile:
    """Reads and checks the whole file; raises :class:`CatalogFileError` naming the problem."""
    if not path.is_file():
        raise CatalogFileError(f"{path}: no such file")
    fmt = detect_format(path, fmt)
    reader = {"csv": _read_csv, "fits": _read_fits, "parquet": _read_parquet}[fmt]
    table = _clean_names(reader(path), path)
    if max_docs is not None:
        if max_docs <= 0:
            raise CatalogFileError("--max-docs must be a positive number of rows")
        table = table.slice(0, max_docs)
    if table.num_rows == 0:
        raise CatalogFileError(f"{path}: the file has no rows")
    ra_column, dec_column = coordinate_columns(table.column_names, ra_column, dec_column, path)
    _check_coordinates(table, ra_column, dec_column, path)
    return CatalogFile(path, fmt, table, ra_column, dec_column)


def coordinate_columns(
    columns: Sequence[str], ra: str | None, dec: str | None, path: Path
) -> tuple[str, str]:
    for given, flag in ((ra, "--ra-col"), (dec, "--dec-col")):
        if given is not None and given not in columns:
            raise CatalogFileError(
                f"{path}: {flag} {given!r} is not a column; columns: {_listing(columns)}"
            )
    if ra is not None and dec is not None:
        return ra, dec
    by_lower = {c.lower(): c for c in columns}
    for ra_name, dec_name in COORDINATE_PAIRS:
        if ra_name in by_lower and dec_name in by_lower:
            return ra or by_lower[ra_name], dec or by_lower[dec_name]
    pairs = ", ".join(f"{r}/{d}" for r, d in COORDINATE_PAIRS)
    raise CatalogFileError(
        f"{path}: no recognisable coordinate columns (looked for {pairs}, any case); "
        f"pass --ra-col and --dec-col. Columns: {_listing(columns)}"
    )


def _listing(columns: Sequence[str], most: int = 30) -> str:
    shown = ", ".join(columns[:most])
    return shown + (f", ... ({len(columns)} in all)" if len(columns) > most else "")


def _check_coordinates(table: pa.Table, ra_column: str, dec_column: str, path: Path) -> None:
    """Every row needs a numeric position in degrees: ra in [0, 360], dec in [-90, 90]."""
    import pyarrow as pa

    from skymesh.sky import first_bad_position

    values = {}
    for name in (ra_column, dec_column):
        column = table.column(name)
        if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
            raise CatalogFileError(
                f"{path}: coordinate column {name!r} holds {column.type}, not numbers in degrees"
            )
        values[name] = column.to_numpy(zero_copy_only=False).astype(float)
    bad = first_bad_position(values[ra_column], values[dec_column])
    if bad is not None:
        raise CatalogFileError(
            f"{path}: row {bad + 1} has no valid position: {ra_column}="
            f"{values[ra_column][bad]}, {dec_column}={values[dec_column][bad]} "
            "(need ra in [0, 360] and dec in [-90, 90] degrees)"
        )


def _read_csv(path: Path) -> pa.Table:
    import pyarrow as pa
    from pyarrow import csv

    try:
        # Empty cells are nulls in every column, strings included, as pandas reads them.
        return csv.read_csv(path, convert_options=csv.ConvertOptions(strings_can_be_null=True))
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        raise CatalogFileError(f"{path}: not a readable CSV file: {exc}") from exc


def _read_parquet(path: Path) -> pa.Table:
    import pyarrow as pa
    from pyarrow import parquet

    try:
        return parquet.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise CatalogFileError(f"{path}: not a readable Parquet file: {exc}") from exc


def _read_fits(path: Path) -> pa.Table:
    """The first table HDU; a truncated file (or gzip stream) is refused, not half read."""
    import io

    from astropy.io import fits
    from astropy.table import Table

    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise CatalogFileError(
                f"{path}: the gzip stream is incomplete or damaged: {exc}"
            ) from exc
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with fits.open(io.BytesIO(raw), memmap=False) as hdus:
                hdus.readall()
                truncated = [w for w in caught if "truncated" in str(w.message).lower()]
                if truncated:
                    raise CatalogFileError(
                        f"{path}: the FITS file is truncated ({truncated[0].message})"
                    )
                index = next(
                    (
                        i
                        for i, hdu in enumerate(hdus)
                        if isinstance(hdu, fits.BinTableHDU | fits.TableHDU)
                    ),
                    None,
                )
                if index is None:
                    raise CatalogFileError(f"{path}: the FITS file holds no table")
                table = Table.read(hdus, hdu=index)
    except CatalogFileError:
        raise
    except (OSError, ValueError, TypeError, IndexError) as exc:
        raise CatalogFileError(f"{path}: not a readable FITS table: {exc}") from exc
    return _astropy_to_arrow(table)


def _astropy_to_arrow(table: Any) -> pa.Table:
    import pyarrow as pa

    arrays = {}
    for name in table.colnames:
        column = table[name]
        mask = np.ma.getmaskarray(column) if hasattr(column, "mask") else None
        data = np.asarray(column.filled() if mask is not None else column)
        if data.dtype.kind == "S":
            data = np.char.rstrip(np.char.decode(data, "utf-8", errors="replace"))
        elif data.dtype.byteorder not in ("=", "|"):
            data = data.astype(data.dtype.newbyteorder("="))
        if data.ndim > 1:
            row_mask = mask.reshape(len(data), -1).all(axis=1) if mask is not None else None
            arrays[name] = pa.array(
                [
                    None if row_mask is not None and row_mask[i] else row
                    for i, row in enumerate(data.tolist())
                ]
            )
        else:
            arrays[name] = pa.array(data, mask=mask if mask is not None and mask.any() else None)
    return pa.table(arrays)


def _clean_names(table: pa.Table, path: Path) -> pa.Table:
    keep = [name for name in table.column_names if not PANDAS_INDEX.match(name)]
    table = table.select(keep)
    names = [re.sub(r"^\$", "_", name.replace(".", "_")) for name in keep]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise CatalogFileError(f"{path}: duplicate column names: {', '.join(duplicates)}")
    if "coordinates" in names:
        raise CatalogFileError(
            f"{path}: a column is named 'coordinates', which the archive computes for each row"
        )
    return table.rename_columns(names)


def bson_row(row: dict[str, Any]) -> dict[str, Any]:
    """A row with BSON-friendly values; null and NaN cells drop their field."""
    return {
        key: _bson_value(value)
        for key, value in row.items()
        if value is not None and not (isinstance(value, float) and math.isnan(value))
    }


def _bson_value(value: Any) -> Any:
    if isinstance(value, bool | float | str | bytes) or value is None:
        return value
    if isinstance(value, int):
        if abs(value) > INT64_MAX:
            raise OverflowError(f"integer {value} does not fit BSON's 64 bits")
        return value
    if isinstance(value, list | tuple):
        return [_bson_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _bson_value(v) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return bson.decimal128.Decimal128(value)
    if isinstance(value, np.generic):
        return _bson_value(value.item())
    raise TypeError(f"cannot store a {type(value).__name__} value")


# --- the command --------------------------------------------------------------------------


def add_ingest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="CSV, FITS (.fits, .fits.gz) or Parquet file")
    parser.add_argument("--name", required=True, help="catalog (collection) name")
    parser.add_argument("--ra-col", help="right ascension column, degrees (default: detected)")
    parser.add_argument("--dec-col", help="declination column, degrees (default: detected)")
    parser.add_argument("--format", choices=FORMATS, help="file format (default: from the name)")
    parser.add_argument("--max-docs", type=int, help="ingest only the first N rows")
    xmatch = parser.add_argument_group("cross-matching (alerts against this catalog)")
    xmatch.add_argument(
        "--no-xmatch", action="store_true", help="do not cross-match alerts with this catalog"
    )
    xmatch.add_argument(
        "--xmatch-radius",
        type=float,
        metavar="ARCSEC",
        help=f'cone radius (default {DEFAULT_XMATCH_RADIUS_ARCSEC:g}", '
        f'{DEFAULT_GALAXY_RADIUS_ARCSEC:g}" with --galaxy-distance-rule)',
    )
    xmatch.add_argument(
        "--xmatch-projection",
        metavar="JSON",
        help='fields of a match to keep, e.g. \'{"_id": 1, "coordinates.radec_str": 1}\'',
    )
    xmatch.add_argument(
        "--galaxy-distance-rule",
        metavar="COLUMN",
        help="galaxy catalog (CLU/NED style): keep matches within --galaxy-max-kpc at the "
        "distance given by COLUMN (a redshift or a distance in Mpc)",
    )
    xmatch.add_argument(
        "--galaxy-distance-method",
        choices=("redshift", "mpc"),
        default="redshift",
        help="what the distance column holds (default redshift)",
    )
    xmatch.add_argument(
        "--galaxy-max-kpc",
        type=float,
        default=DEFAULT_GALAXY_MAX_KPC,
        help=f"physical radius at the galaxy (default {DEFAULT_GALAXY_MAX_KPC:g} kpc)",
    )
    xmatch.add_argument(
        "--galaxy-low-distance-radius",
        type=float,
        metavar="ARCSEC",
        default=DEFAULT_GALAXY_LOW_DISTANCE_ARCSEC,
        help="cone for nearby galaxies (z < 0.01 or < 40 Mpc), where the physical radius "
        f'would be unphysically large (default {DEFAULT_GALAXY_LOW_DISTANCE_ARCSEC:g}")',
    )


def xmatch_config(args: argparse.Namespace) -> dict[str, Any]:
    """The catalog's cross-match configuration from the command line."""
    projection: dict[str, Any] = {}
    if args.xmatch_projection:
        try:
            projection = json.loads(args.xmatch_projection)
        except json.JSONDecodeError as exc:
            raise CatalogFileError(f"--xmatch-projection is not JSON: {exc}") from exc
        if not isinstance(projection, dict):
            raise CatalogFileError("--xmatch-projection must be a JSON object")
    galaxy = None
    radius = args.xmatch_radius
    if args.galaxy_distance_rule:
        galaxy = {
            "distance_column": args.galaxy_distance_rule,
            "distance_method": args.galaxy_distance_method,
            "max_distance_kpc": args.galaxy_max_kpc,
            "low_distance_radius_arcsec": args.galaxy_low_distance_radius,
        }
        radius = DEFAULT_GALAXY_RADIUS_ARCSEC if radius is None else radius
    return {
        "enabled": not args.no_xmatch,
        "radius_arcsec": DEFAULT_XMATCH_RADIUS_ARCSEC if radius is None else radius,
        "projection": projection,
        "galaxy": galaxy,
    }


async def stream_catalog(
    settings: Settings,
    catalog: CatalogFile,
    name: str,
    xmatch: dict[str, Any],
    on_chunk: Callable[[int], None] | None = None,
    on_sent: Callable[[], None] | None = None,
) -> int:
    """Streams the rows to the archive's IngestCatalog; returns the rows it ingested."""
    import grpc

    from skymesh.archive.v1 import archive_pb2, archive_pb2_grpc
    from skymesh.runtime.clients import service_channel

    failure: list[BaseException] = []

    async def requests() -> AsyncIterator[archive_pb2.IngestCatalogRequest]:
        yield archive_pb2.IngestCatalogRequest(
            catalog=name,
            ra_column=catalog.ra_column,
            dec_column=catalog.dec_column,
            xmatch_json=json.dumps(xmatch),
        )
        try:
            for chunk in catalog.chunks():
                yield archive_pb2.IngestCatalogRequest(rows_bson=chunk)
                if on_chunk:
                    on_chunk(len(chunk))
            if on_sent:
                on_sent()
        except Exception as exc:
            # gRPC cancels the call when this iterator fails; keep the reason to report it.
            failure.append(exc)
            raise

    async with service_channel(settings, "archive", caller="cli") as channel:
        stub = archive_pb2_grpc.ArchiveServiceStub(channel)
        try:
            response = await stub.IngestCatalog(requests())
        except grpc.aio.AioRpcError as exc:
            if failure:
                raise failure[0] from None
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                raise CatalogFileError(
                    f"cannot reach the archive at {settings.address('archive')} "
                    f"(is the mesh running? `make run`): {exc.details()}"
                ) from exc
            raise CatalogFileError(f"the archive refused {name}: {exc.details()}") from exc
    return response.ingested


def ingest_command(settings: Settings, args: argparse.Namespace) -> int:
    """``skymesh catalog ingest``: returns the exit status."""
    import sys

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.text import Text

    console = Console(stderr=True)
    try:
        xmatch = xmatch_config(args)
        with console.status(Text(f"reading {args.path}")):
            catalog = read_catalog(args.path, args.format, args.ra_col, args.dec_col, args.max_docs)
        console.print(
            f"{args.path.name}: {catalog.rows} rows, {catalog.table.num_columns} columns, "
            f"positions from {catalog.ra_column}/{catalog.dec_column}",
            markup=False,
        )
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task(f"ingesting {args.name}", total=catalog.rows)
            ingested = asyncio.run(
                stream_catalog(
                    settings,
                    catalog,
                    args.name,
                    xmatch,
                    on_chunk=lambda n: progress.advance(task, n),
                    on_sent=lambda: progress.update(
                        task, description=f"indexing and publishing {args.name}"
                    ),
                )
            )
    except CatalogFileError as exc:
        # soft_wrap: paths and messages stay on one line, whole and copyable.
        console.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        return 2
    if ingested != catalog.rows:
        console.print(
            Text.assemble(("error: ", "bold red"), f"ingested {ingested} of {catalog.rows} rows")
        )
        return 1
    print(f"ingested {ingested} rows into {args.name}", file=sys.stdout)
    return 0
