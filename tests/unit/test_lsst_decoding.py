"""Rubin's alerts of every schema version in lsst-alert-packet decode, from Confluent-framed
records and from container files, field for field as the package's own JSON sample says."""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import fastavro
import pytest

from services.broker.surveys import DecodeError, lsst_schemas
from services.broker.surveys.lsst import LSST

SCHEMAS = list(lsst_schemas.schemas().values())
# What decoding adds to Rubin's fields (services/broker/surveys/lsst.py).
DERIVED = {"candid", "objectId", "jd", "magpsf", "sigmapsf", "isdiffpos"}


# The package's fakeAlert.avro of 8.0 was written with timestamps that its alert.json does not
# have (0 there): the fields where the package's two samples disagree.
SAMPLES_DISAGREE = {("8.0", "diaSource.time_processed"), ("8.0", "diaObject.validityStart")}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def same(decoded: Any, expected: Any, where: str, skip: set[str]) -> int:
    """``decoded`` holds every field of ``expected`` that its schema defines, with its value
    (floats as Avro's float32 keeps them); its other fields are unset (null, empty) or derived
    by decoding. fastavro gives every field of a record, so a JSON key that the decoded record
    lacks is one the schema does not define (the samples carry a few). Answers how many
    values were compared."""
    if where in skip:
        return 0
    if isinstance(expected, dict):
        assert isinstance(decoded, dict), where
        compared = 0
        for key, value in expected.items():
            if key in decoded:
                compared += same(decoded[key], value, f"{where}.{key}".lstrip("."), skip)
        for key in decoded.keys() - expected.keys() - DERIVED:
            assert decoded[key] in (None, [], {}), (
                f"{where}.{key} = {decoded[key]!r}: not in the sample"
            )
        return compared
    if isinstance(expected, list):
        assert isinstance(decoded, list) and len(decoded) == len(expected), where
        return sum(
            same(d, e, f"{where}[{index}]", skip)
            for index, (d, e) in enumerate(zip(decoded, expected, strict=True))
        )
    if isinstance(decoded, datetime):  # a timestamp logical type; the JSON has its number
        assert decoded == EPOCH + timedelta(microseconds=expected) or decoded == EPOCH + timedelta(
            milliseconds=expected
        ), (where, decoded, expected)
    elif isinstance(expected, float) and not isinstance(decoded, int):
        assert math.isclose(decoded, expected, rel_tol=1e-6, abs_tol=1e-12), (where, decoded)
    else:
        assert decoded == expected, (where, decoded, expected)
    return 1


def sample(schema: lsst_schemas.AlertSchema) -> dict[str, Any]:
    return json.loads(schema.sample_json.read_text())


def test_the_package_ships_every_major_version_up_to_11_1() -> None:
    versions = {schema.version for schema in SCHEMAS}
    assert {"3.0", "7.4", "8.0", "9.0", "10.0", "11.0", "11.1"} <= versions
    assert lsst_schemas.latest().schema_id == max(s.schema_id for s in SCHEMAS) >= 1101


def check(
    packet: dict[str, Any], schema: lsst_schemas.AlertSchema, package_file: bool = False
) -> None:
    skip = {
        where for version, where in SAMPLES_DISAGREE if package_file and version == schema.version
    }
    compared = same(packet, sample(schema), "", skip)
    # Most of the sample is compared, not skipped as fields of no schema.
    assert compared >= 40, compared


def written(schema: lsst_schemas.AlertSchema) -> bytes:
    """The JSON sample written schemaless with its version's schema."""
    body = io.BytesIO()
    fastavro.schemaless_writer(body, schema.parsed, sample(schema))
    return body.getvalue()


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.version)
def test_a_confluent_framed_record_decodes_as_the_json_sample(
    schema: lsst_schemas.AlertSchema,
) -> None:
    message = lsst_schemas.confluent_frame(schema.schema_id, written(schema))
    assert message[0] == 0 and int.from_bytes(message[1:5], "big") == schema.schema_id
    (packet,) = LSST(".*").decode(message)
    check(packet, schema)


@pytest.mark.parametrize("schema", SCHEMAS, ids=lambda s: s.version)
def test_container_files_decode_as_the_json_sample(schema: lsst_schemas.AlertSchema) -> None:
    # The package's own container file, and one written here from the JSON sample.
    (packet,) = LSST(".*").decode(schema.sample_avro.read_bytes())
    check(packet, schema, package_file=True)
    container = io.BytesIO()
    fastavro.writer(container, schema.parsed, [sample(schema)])
    (packet,) = LSST(".*").decode(container.getvalue())
    check(packet, schema)


def test_decoding_keys_the_alert_by_its_source_and_object() -> None:
    schema = lsst_schemas.latest()
    (packet,) = LSST(".*").decode(schema.sample_avro.read_bytes())
    expected = sample(schema)
    assert packet["candid"] == expected["diaSourceId"]
    assert packet["objectId"] == str(expected["diaObject"]["diaObjectId"])
    source = packet["diaSource"]
    assert source["jd"] == pytest.approx(expected["diaSource"]["midpointMjdTai"] + 2400000.5)
    # 1241 nJy: 31.4 - 2.5 log10(1241) = 23.666 AB, positive difference.
    assert source["magpsf"] == pytest.approx(31.4 - 2.5 * math.log10(1241.0))
    assert source["isdiffpos"] == "t"
    assert all("jd" in point for point in packet["prvDiaSources"])


def test_an_unknown_schema_id_is_a_poison_record_with_its_reason() -> None:
    schema = lsst_schemas.latest()
    message = lsst_schemas.confluent_frame(9999, b"\x02\x04")
    with pytest.raises(DecodeError, match=r"schema id 9999 .*known: .*1101 \(11\.1\)"):
        LSST(".*").decode(message)
    # A known id with a body that is not of that schema: poison too, saying which schema.
    with pytest.raises(DecodeError, match=f"schema {schema.schema_id}"):
        LSST(".*").decode(lsst_schemas.confluent_frame(schema.schema_id, b"\xff" * 3))
    with pytest.raises(DecodeError, match="not an Avro alert packet"):
        LSST(".*").decode(b"not avro at all")
