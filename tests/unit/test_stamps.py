"""The stamp reader's own header parsing against astropy, the reference, on every bundled
alert's cutouts and on stamps astropy must read itself (scaled integers, a cube)."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from astropy.io import fits

from services.broker.surveys import stamps


def bundled_stamps(*alerts: dict[int, dict]) -> list[tuple[str, bytes]]:
    """(candid:field, gzipped stamp) of every cutout of the decoded packets."""
    found = []
    for packets in alerts:
        for candid, packet in packets.items():
            for key, value in packet.items():
                if key.lower().startswith("cutout") and value:
                    raw = value["stampData"] if isinstance(value, dict) else value
                    found.append((f"{candid}:{key}", raw))
    return found


def astropy_image(stamp_gz: bytes) -> np.ndarray:
    with fits.open(io.BytesIO(gzip.decompress(stamp_gz)), ignore_missing_simple=True) as hdus:
        return np.array(hdus[0].data)


def gzipped(hdu: fits.PrimaryHDU) -> bytes:
    buffer = io.BytesIO()
    hdu.writeto(buffer)
    return gzip.compress(buffer.getvalue())


def test_every_bundled_stamp_reads_as_astropy_reads_it(ztf_alerts: dict, wntr_alerts: dict) -> None:
    found = bundled_stamps(ztf_alerts, wntr_alerts)
    assert len(found) == 117  # 39 alerts x 3 cutouts
    plain = 0
    for name, raw in found:
        expected = astropy_image(raw)
        image = stamps.read_stamp(raw)
        assert image.dtype == expected.dtype and image.shape == expected.shape, name
        np.testing.assert_array_equal(image, expected, err_msg=name)  # NaNs equal too
        plain += stamps._plain_image(gzip.decompress(raw)) is not None
    assert plain == len(found)  # all of them took the fast path


@pytest.mark.parametrize(
    "hdu",
    [
        fits.PrimaryHDU(np.arange(12, dtype=np.int16).reshape(3, 4)),  # integers
        fits.PrimaryHDU(np.ones((2, 3, 4), dtype=np.float32)),  # a cube
    ],
    ids=["int16", "cube"],
)
def test_other_stamps_are_left_to_astropy(hdu: fits.PrimaryHDU) -> None:
    raw = gzipped(hdu)
    assert stamps._plain_image(gzip.decompress(raw)) is None
    if hdu.data.ndim == 2:
        np.testing.assert_array_equal(stamps.read_stamp(raw), astropy_image(raw))
    else:
        with pytest.raises(ValueError, match="not a 2-D image"):
            stamps.read_stamp(raw)


def test_scaled_floats_are_left_to_astropy() -> None:
    hdu = fits.PrimaryHDU(np.arange(6, dtype=np.float32).reshape(2, 3))
    hdu.header["BZERO"] = 10.0
    raw = gzipped(hdu)
    assert stamps._plain_image(gzip.decompress(raw)) is None
    np.testing.assert_array_equal(stamps.read_stamp(raw), astropy_image(raw))


def test_a_truncated_stamp_is_not_read_past_its_end() -> None:
    buffer = io.BytesIO()
    fits.PrimaryHDU(np.ones((63, 63), dtype=np.float32)).writeto(buffer)
    cut = buffer.getvalue()[: 2880 + 100]
    assert stamps._plain_image(cut) is None
