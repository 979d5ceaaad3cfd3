"""The packet a filter sees: Kowalski's upstream stages, per survey, done in Python.

Kowalski prepends four stages to every filter (config.defaults.yaml, database.filters):
match the alert by candid and ``candidate.programid`` in the filter's permissions, drop the
cutouts, $lookup the object's aux document, and $project the fields below, with
``prv_candidates``/``fp_hists`` limited to the permitted programids and to the survey's
window before the alert. We build the same document directly from the alert and its aux
document (a $lookup per alert is what we avoid), so the user's pipeline runs unchanged.

One rule is stricter than Kowalski's live path and equal to its /test path: a history point
is kept only when it is strictly earlier than the alert (``jd < candidate.jd``). ZTF's own
``prv_candidates`` never hold the alert itself, but a merged aux document may hold it (a later
alert of the object lists it) or later points; either would let a filter see the future.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

Document = dict[str, Any]
# Added to an aux document by services/filters/counterparts.py: survey -> the aux documents
# of the object's counterparts there.
COUNTERPARTS = "counterparts"


@dataclass(frozen=True)
class Stream:
    """An alert stream a filter can be written against (one survey's alert collection)."""

    catalog: str
    object_id_field: str
    # Top-level alert fields the filter sees, in Kowalski's projection (cutouts are left out
    # because they are not listed).
    packet_fields: tuple[str, ...]
    # History arrays joined from the aux document.
    history_fields: tuple[str, ...]
    # A history point is kept when it is at most this many days older than the alert.
    window_days: float
    # Whether history points are also limited to the permitted programids (ZTF's points carry
    # a programid; WINTER's carry none).
    history_acl: bool
    # Left out when alerts are read back from the archive.
    cutout_fields: tuple[str, ...]
    # Where an alert's time (JD) is: the history window ends there.
    jd_path: tuple[str, ...] = ("candidate", "jd")
    # Where an alert's programid is, which the filter's permissions must hold; None: the
    # survey has none (Rubin's data rights are by stream: whoever reads the stream reads all).
    programid_path: tuple[str, ...] | None = ("candidate", "programid")
    # What filters of other surveys see of an object's history here when it is their object's
    # counterpart (aliases): nothing (False), or the points of these programids (None: all).
    shared_history: bool = False
    public_programids: tuple[int, ...] | None = None

    @property
    def aux_collection(self) -> str:
        return f"{self.catalog}_aux"

    @property
    def jd_key(self) -> str:
        """The alert's time as a query's dotted field name."""
        return ".".join(self.jd_path)

    def programid_match(self, permissions: Collection[int]) -> dict[str, Any]:
        """The find filter that keeps the alerts of the permitted programids (of a survey
        with programids; none otherwise)."""
        if self.programid_path is None:
            return {}
        return {".".join(self.programid_path): {"$in": sorted(permissions)}}

    def object_id(self, alert: Mapping[str, Any]) -> Any:
        return alert.get(self.object_id_field)


ZTF = Stream(
    catalog="ZTF_alerts",
    object_id_field="objectId",
    packet_fields=(
        "schemavsn",
        "publisher",
        "objectId",
        "candid",
        "candidate",
        "classifications",
        "coordinates",
    ),
    history_fields=("prv_candidates", "fp_hists"),
    window_days=365.0,
    history_acl=True,
    cutout_fields=("cutoutScience", "cutoutTemplate", "cutoutDifference"),
    # Its public alerts (programid 1) are everyone's; the others are the partnership's.
    shared_history=True,
    public_programids=(1,),
)

# Kowalski's WNTR upstream is a copy of PGIR's (1000-day window, no programid ACL on the
# history, whose points carry no programid); it projects `objectId`, which WINTER alerts do not
# have (they use `objectid`), so we project the field the alerts really carry.
WNTR = Stream(
    catalog="WNTR_alerts",
    object_id_field="objectid",
    packet_fields=(
        "schemavsn",
        "publisher",
        "objectid",
        "candid",
        "candidate",
        "classifications",
        "coordinates",
    ),
    history_fields=("prv_candidates",),
    window_days=1000.0,
    history_acl=False,
    cutout_fields=("cutout_science", "cutout_template", "cutout_difference"),
)

# Rubin: the packet's own records (BOOM's LSST filters read the same names); the history
# points carry the jd that decoding derived from their MJD (services/broker/surveys/lsst.py).
LSST = Stream(
    catalog="LSST_alerts",
    object_id_field="objectId",
    packet_fields=(
        "objectId",
        "candid",
        "diaSource",
        "diaObject",
        "ssSource",
        "ssObject",
        "mpc_orbits",
        "observation_reason",
        "target_name",
        "classifications",
        "coordinates",
    ),
    history_fields=("prvDiaSources", "prvDiaForcedSources", "prvDiaNondetectionLimits"),
    window_days=365.0,
    history_acl=False,
    cutout_fields=("cutoutScience", "cutoutTemplate", "cutoutDifference"),
    jd_path=("diaSource", "jd"),
    programid_path=None,
    # Rubin's alert stream is world-public.
    shared_history=True,
)

STREAMS: dict[str, Stream] = {stream.catalog: stream for stream in (ZTF, WNTR, LSST)}


def counterpart_histories(
    counterparts: Mapping[str, list[Mapping[str, Any]]], alert_jd: float
) -> Document:
    """Survey -> its counterpart objects' history before the alert, as much as that survey
    shares with other surveys' filters (Stream.shared_history, public_programids)."""
    shared: Document = {}
    for survey, documents in counterparts.items():
        other = STREAMS.get(f"{survey}_alerts")
        if other is None or not other.shared_history:
            continue
        shared[survey] = [
            {
                "_id": document.get("_id"),
                **{
                    field: _history(
                        document.get(field), alert_jd, other.window_days, other.public_programids
                    )
                    for field in other.history_fields
                },
            }
            for document in documents
        ]
    return shared


def stream_of(catalog: str) -> Stream:
    stream = STREAMS.get(catalog)
    if stream is None:
        raise ValueError(
            f"catalog {catalog!r} is not an alert stream filters can run on; "
            f"one of: {', '.join(sorted(STREAMS))}"
        )
    return stream


def _at(document: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = document
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def programid(alert: Mapping[str, Any], stream: Stream) -> Any:
    return None if stream.programid_path is None else _at(alert, stream.programid_path)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _history(
    points: Any, alert_jd: float, window_days: float, permissions: Collection[int] | None
) -> list[Any] | None:
    # $filter over a missing input gives null; so does our missing history.
    if not isinstance(points, list):
        return None
    kept = []
    for point in points:
        if not isinstance(point, Mapping):
            continue
        jd = point.get("jd")
        if not _number(jd) or not (jd < alert_jd and alert_jd - jd < window_days):
            continue
        if permissions is not None and point.get("programid") not in permissions:
            continue
        kept.append(point)
    return kept


def build_packet(
    stream: Stream,
    alert: Mapping[str, Any],
    aux: Mapping[str, Any] | None,
    permissions: Collection[int],
) -> Document | None:
    """The document the filter's own stages run on, or None when the filter may not see the
    alert (its programid is not among the permissions, for a survey with programids).

    ``aux`` is the object's aux document (``cross_matches`` and the history arrays); when it is
    missing, history arrays carried by the alert itself are used instead.
    """
    if stream.programid_path is not None and programid(alert, stream) not in permissions:
        return None
    alert_jd = _at(alert, stream.jd_path)
    source = aux if aux is not None else alert
    packet: Document = {}
    if "_id" in alert:
        packet["_id"] = alert["_id"]
    for field in stream.packet_fields:
        if field in alert:
            packet[field] = alert[field]
    for field in ("cross_matches", "aliases"):  # aliases: counterparts in other surveys
        if field in source:
            packet[field] = source[field]
    if COUNTERPARTS in source and _number(alert_jd):
        packet[COUNTERPARTS] = counterpart_histories(source[COUNTERPARTS], alert_jd)
    acl = permissions if stream.history_acl else None
    for field in stream.history_fields:
        packet[field] = (
            _history(source.get(field), alert_jd, stream.window_days, acl)
            if _number(alert_jd)
            else None
        )
    return packet
