import pytest

from services.broker.surveys import ZTF, DecodeError
from tests.conftest import ZTF_DIR

SURVEY = ZTF(r"^ztf_\d{8}_programid\d+$")


def test_ztf_packet_splits_into_alert_and_sorted_null_free_history() -> None:
    path = ZTF_DIR / "20231012" / "2475433850315015009.avro"
    (packet,) = SURVEY.decode(path.read_bytes())
    prepared = SURVEY.prepare(packet)
    assert prepared.candid == packet["candid"] == prepared.alert["_id"]
    assert prepared.object_id == packet["objectId"] == prepared.aux["_id"]
    assert "prv_candidates" not in prepared.alert and "fp_hists" not in prepared.alert
    assert prepared.alert["candidate"] == packet["candidate"]
    for field in ("prv_candidates", "fp_hists"):
        history = prepared.aux[field]
        assert len(history) == len(packet[field])
        assert [p["jd"] for p in history] == sorted(p["jd"] for p in packet[field])
        assert all(value is not None for point in history for value in point.values())


def test_garbage_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="not an Avro alert packet"):
        SURVEY.decode(b"definitely not avro")


def test_packet_without_candid_is_a_decode_error() -> None:
    with pytest.raises(DecodeError, match="without candid/objectId"):
        SURVEY.prepare({"objectId": "ZTF20aaaaaaa"})
