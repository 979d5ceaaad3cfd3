"""The Kowalski-style loop: one alert at a time, the way Kowalski's broker processes it.

Per alert: decode, enrich, batch-1 inference of the six models with onnxruntime, one cone
query per catalog, insert, aux upsert, and one database aggregation per filter. It runs on the
same machine and database as the mesh, so the two are measured side by side; the database
(one Python core) dominates it.
"""

from __future__ import annotations

import io
import time
from typing import Any

import astropy.units as u
import fastavro
import onnxruntime as ort
from astropy.coordinates import SkyCoord
from pymongo import ASCENDING, MongoClient, UpdateOne
from pymongo.errors import OperationFailure

from bench.filters import FILTERS, kowalski_upstream
from services.broker.surveys.ml_inputs import make_triplet, ztf_features
from skymesh.cli import BUNDLED_CATALOGS
from skymesh.config import REPO_ROOT, Settings
from skymesh.sky import angular_separation_deg, cone_pixel_ranges
from skymesh.synthetic import synthetic_messages

XMATCH_RADIUS_DEG = 2 / 3600
MODELS = REPO_ROOT / "models" / "triton"
SEED = 20261122


def within_cone(row: dict[str, Any], ra: float, dec: float, radius_deg: float) -> bool:
    row_ra, row_dec = row["coordinates"]["radec_geojson"]["coordinates"]
    return angular_separation_deg(ra, dec, row_ra + 180, row_dec) <= radius_deg


def kowalski_loop(settings: Settings, sample: int, budget_s: float) -> tuple[int, float]:
    """Kowalski's per-alert path on a sample of alerts; returns (alerts, seconds)."""
    sessions = {
        path.parent.parent.name: ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for path in sorted(MODELS.glob("*/1/model.onnx"))
    }
    messages = synthetic_messages(sample, SEED + 1, first=2 * 10**6)
    with MongoClient(settings.mongo_uri) as client:
        catalogs = client[settings.db_name]
        db = client["kowalski_loop"]
        db["ZTF_alerts"].create_index([("candid", ASCENDING)], unique=True)
        started = time.monotonic()
        done = 0
        for message in messages:
            (packet,) = list(fastavro.reader(io.BytesIO(message)))
            candidate = packet["candidate"]
            ra, dec = candidate["ra"], candidate["dec"]
            sky = SkyCoord(ra * u.deg, dec * u.deg)
            packet["coordinates"] = {
                "radec_geojson": {"type": "Point", "coordinates": [ra - 180, dec]},
                "l": sky.galactic.l.deg,
                "b": sky.galactic.b.deg,
            }
            triplet = make_triplet(packet)[None]
            features = ztf_features(candidate)[None]
            packet["classifications"] = {}
            for name, session in sessions.items():
                feeds = {
                    i.name: features if i.shape[-1] == 25 else triplet for i in session.get_inputs()
                }
                packet["classifications"][name] = float(session.run(None, feeds)[0][0, 0])
            cross_matches = {}
            for name in BUNDLED_CATALOGS.values():
                pixels = cone_pixel_ranges(ra, dec, XMATCH_RADIUS_DEG)
                rows = list(
                    catalogs[name].find(
                        {"$or": [{"coordinates.healpix": {"$gte": a, "$lt": b}} for a, b in pixels]}
                    )
                )
                cross_matches[name] = [
                    row for row in rows if within_cone(row, ra, dec, XMATCH_RADIUS_DEG)
                ]
            prv = packet.pop("prv_candidates") or []
            fp = packet.pop("fp_hists", None) or []
            packet["_id"] = packet["candid"]
            db["ZTF_alerts"].insert_one(packet)
            db["ZTF_alerts_aux"].bulk_write(
                [
                    UpdateOne(
                        {"_id": packet["objectId"]},
                        {
                            "$addToSet": {
                                "prv_candidates": {"$each": prv},
                                "fp_hists": {"$each": fp},
                            },
                            "$setOnInsert": {"cross_matches": cross_matches},
                        },
                        upsert=True,
                    )
                ]
            )
            for _, permissions, pipeline in FILTERS:
                try:
                    list(
                        db["ZTF_alerts"].aggregate(
                            kowalski_upstream(packet["candid"], permissions) + pipeline
                        )
                    )
                except OperationFailure:
                    pass  # Kowalski logs a failing filter and goes on
            done += 1
            if time.monotonic() - started > budget_s:
                break
        return done, time.monotonic() - started
