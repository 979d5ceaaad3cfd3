"""Realistic Rubin (LSST) alert streams made from the sample alert of lsst-alert-packet.

Each object gets a position, a first epoch and a light curve (a rise and a decline in one
band after another); its alerts come a night or so apart, each carrying the earlier
detections as ``prvDiaSources`` and forced photometry as ``prvDiaForcedSources``, as Rubin's
do. Ids are new and 64-bit like Rubin's. Cutouts, when asked for, are the bundled ZTF stamps
(plain FITS, as Rubin sends them). Records are Confluent-framed with the schema's id, as on
Rubin's Kafka (services/broker/surveys/lsst_schemas.py).
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import math
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import fastavro

from services.broker.surveys import lsst_schemas
from skymesh.synthetic import bundled_packets

# Ids of the generated alerts start here (Rubin's are 64-bit integers).
LSST_ID_BASE = 170_000_000_000_000_000
BANDS = "ugrizy"
# The generated objects' diaObjectIds are LSST_ID_BASE + this + index.
OBJECT_ID_OFFSET = 10**15
# Every generated object id starts so (for removing them again).
GENERATED_OBJECT_PREFIX = str(LSST_ID_BASE + OBJECT_ID_OFFSET)[:7]
# The topic `make run` streams generated alerts to (it matches the default topic regex).
LSST_TOPIC = "lsst-alerts-v11-1"


@dataclass(frozen=True)
class LsstObject:
    index: int
    ra: float
    dec: float
    first_mjd: float
    peak_njy: float

    @property
    def dia_object_id(self) -> int:
        return LSST_ID_BASE + OBJECT_ID_OFFSET + self.index


def next_to(
    obj: LsstObject, ztf_packet: Mapping[str, Any], separation_arcsec: float, angle_deg: float
) -> LsstObject:
    """``obj`` moved to ``separation_arcsec`` from a ZTF alert, towards ``angle_deg`` (east of
    north): within the archive's 2" it becomes that ZTF object's counterpart."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    candidate = ztf_packet["candidate"]
    ztf = SkyCoord(candidate["ra"] * u.deg, candidate["dec"] * u.deg)
    near = ztf.directional_offset_by(angle_deg * u.deg, separation_arcsec * u.arcsec)
    return replace(obj, ra=near.ra.deg, dec=near.dec.deg)


def objects(n: int, seed: int, first: int = 0) -> list[LsstObject]:
    rng = random.Random(seed)
    return [
        LsstObject(
            index=first + i,
            ra=rng.uniform(0.0, 360.0),
            dec=math.degrees(math.asin(rng.uniform(-1.0, 0.5))),  # Rubin's southern sky
            first_mjd=rng.uniform(60900.0, 61200.0),
            peak_njy=10 ** rng.uniform(3.0, 5.0),  # 18.9 to 23.9 AB
        )
        for i in range(n)
    ]


def _stamps() -> list[bytes]:
    """The bundled ZTF stamps as plain FITS (science, template, difference of one alert)."""
    _, packet = bundled_packets()[0]
    return [
        gzip.decompress(packet[f"cutout{kind}"]["stampData"])
        for kind in ("Science", "Template", "Difference")
    ]


def alerts(
    objects_: list[LsstObject],
    per_object: int,
    seed: int,
    cutouts: bool = False,
    schema: lsst_schemas.AlertSchema | None = None,
) -> Iterator[dict[str, Any]]:
    """Each object's ``per_object`` alerts, in time order object by object."""
    schema = schema or lsst_schemas.latest()
    template = json.loads(schema.sample_json.read_text())
    rng = random.Random(seed)
    stamps = _stamps() if cutouts else None
    for obj in objects_:
        sources: list[dict[str, Any]] = []
        forced: list[dict[str, Any]] = []
        mjd = obj.first_mjd
        for epoch in range(per_object):
            band = BANDS[(obj.index + epoch) % len(BANDS)]
            # A rise to the peak at the third epoch, then a decline.
            flux = obj.peak_njy * math.exp(-abs(epoch - 2) / 2.0) * rng.uniform(0.9, 1.1)
            error = flux / rng.uniform(8.0, 40.0)
            source_id = LSST_ID_BASE + obj.index * 1000 + epoch
            source = copy.deepcopy(template["diaSource"])
            source.update(
                diaSourceId=source_id,
                diaObjectId=obj.dia_object_id,
                midpointMjdTai=mjd,
                band=band,
                ra=(obj.ra + rng.gauss(0.0, 0.05) / 3600.0) % 360.0,
                dec=obj.dec + rng.gauss(0.0, 0.05) / 3600.0,
                psfFlux=flux,
                psfFluxErr=error,
                apFlux=flux * 1.02,
                apFluxErr=error * 1.1,
                snr=flux / error,
                visit=int(mjd * 100),
            )
            dia_object = copy.deepcopy(template["diaObject"])
            dia_object.update(
                diaObjectId=obj.dia_object_id,
                ra=obj.ra,
                dec=obj.dec,
                firstDiaSourceMjdTai=obj.first_mjd,
                lastDiaSourceMjdTai=mjd,
                nDiaSources=epoch + 1,
            )
            alert = copy.deepcopy(template)
            alert.update(
                diaSourceId=source_id,
                diaSource=source,
                prvDiaSources=[copy.deepcopy(s) for s in sources] or None,
                prvDiaForcedSources=[copy.deepcopy(f) for f in forced] or None,
                diaObject=dia_object,
            )
            if stamps:
                science, reference, difference = stamps
                alert.update(
                    cutoutScience=science, cutoutTemplate=reference, cutoutDifference=difference
                )
            yield alert
            sources.append(source)
            forced.append(
                {
                    "diaForcedSourceId": source_id + 500,
                    "diaObjectId": obj.dia_object_id,
                    "ra": obj.ra,
                    "dec": obj.dec,
                    "visit": int((mjd - 0.5) * 100),
                    "detector": source.get("detector", 42),
                    "midpointMjdTai": mjd - 0.5,
                    "band": band,
                    "psfFlux": flux * rng.uniform(0.6, 0.9),
                    "psfFluxErr": error,
                    "timeProcessedMjdTai": mjd - 0.49,
                }
            )
            mjd += rng.uniform(0.8, 3.0)


def confluent_messages(
    alerts_: Iterator[dict[str, Any]], schema: lsst_schemas.AlertSchema | None = None
) -> list[bytes]:
    """Each alert as a Confluent-framed record of its schema (Rubin's wire format)."""
    schema = schema or lsst_schemas.latest()
    messages = []
    for alert in alerts_:
        body = io.BytesIO()
        fastavro.schemaless_writer(body, schema.parsed, alert)
        messages.append(lsst_schemas.confluent_frame(schema.schema_id, body.getvalue()))
    return messages


def messages(
    n_objects: int, per_object: int, seed: int, first: int = 0, cutouts: bool = True
) -> list[bytes]:
    """A stream of ``per_object`` alerts of each of ``n_objects`` objects, Confluent-framed."""
    return confluent_messages(
        alerts(objects(n_objects, seed, first), per_object, seed, cutouts=cutouts)
    )
