"""ZTF alert -> the ML models' inputs, as Kowalski prepares them (see models/README.md).

The broker sends these to the ml service as ``AlertInput``: the triplet as float32 bytes in
row-major order (``triplet.tobytes()``) and the features as 25 floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from services.broker.surveys.stamps import read_stamp

STAMP_SIDE = 63
TRIPLET_SHAPE = (STAMP_SIDE, STAMP_SIDE, 3)
# Fills the bottom/right of a cutout smaller than 63x63 (at a CCD edge), as Kowalski does.
PAD_VALUE = 1e-9
CUTOUT_KEYS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")

# ACAI's inputs, raw candidate values in this order.
ZTF_FEATURES = (
    "drb",
    "diffmaglim",
    "ra",
    "dec",
    "magpsf",
    "sigmapsf",
    "chipsf",
    "fwhm",
    "sky",
    "chinr",
    "sharpnr",
    "sgscore1",
    "distpsnr1",
    "sgscore2",
    "distpsnr2",
    "sgscore3",
    "distpsnr3",
    "ndethist",
    "ncovhist",
    "scorr",
    "nmtchps",
    "clrcoeff",
    "clrcounc",
    "neargaia",
    "neargaiabright",
)


def normalized_cutout(stamp: bytes) -> np.ndarray:
    """A gzipped FITS stamp -> float32 [63, 63]: NaN -> 0, unit L2 norm, padded with 1e-9."""
    image = np.nan_to_num(np.array(read_stamp(stamp), dtype=np.float32), copy=False)
    if image.ndim != 2:
        raise ValueError(f"cutout is not a 2-D image: shape {image.shape}")
    rows, cols = image.shape
    if rows > STAMP_SIDE or cols > STAMP_SIDE:
        raise ValueError(f"cutout is {rows}x{cols}, larger than {STAMP_SIDE}x{STAMP_SIDE}")
    # float32 arithmetic, as Kowalski: where the squares overflow (ZTF fills template pixels
    # without data with float32's maximum) the norm is inf and the stamp becomes zeros.
    with np.errstate(over="ignore"):
        norm = np.linalg.norm(image)
    # An all-zero (or all-NaN) stamp stays zero instead of becoming NaN (Kowalski: 0/0).
    if norm > 0:
        image /= norm
    if (rows, cols) != (STAMP_SIDE, STAMP_SIDE):
        image = np.pad(
            image,
            [(0, STAMP_SIDE - rows), (0, STAMP_SIDE - cols)],
            mode="constant",
            constant_values=PAD_VALUE,
        )
    return image


def make_triplet(packet: Mapping[str, Any], cutout_keys: Sequence[str] = CUTOUT_KEYS) -> np.ndarray:
    """The science, template and difference cutouts stacked on the last axis: float32 [63,63,3]."""
    channels = []
    for key in cutout_keys:
        cutout = packet.get(key)
        stamp = cutout.get("stampData") if isinstance(cutout, Mapping) else None
        if not stamp:
            raise ValueError(f"alert has no {key}.stampData")
        try:
            channels.append(normalized_cutout(stamp))
        except (OSError, ValueError, TypeError) as exc:  # gzip/FITS errors are OSErrors
            raise ValueError(f"{key} is not a usable gzipped FITS stamp: {exc}") from exc
    return np.stack(channels, axis=-1)


def ztf_features(candidate: Mapping[str, Any]) -> np.ndarray:
    """ACAI's 25 features of a ZTF ``candidate``: float32 [25], a null or missing value -> 0."""
    values = [candidate.get(name) for name in ZTF_FEATURES]
    return np.array([0.0 if value is None else value for value in values], dtype=np.float32)
