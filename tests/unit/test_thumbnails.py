"""Alert stamps as the portal's PNG thumbnails (SKYPORTAL_SPEC.md §3.3)."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

from services.broker.surveys import WINTER, ZTF
from services.broker.thumbnails import clean, read_stamp, render_png, scale
from tests.conftest import WNTR_DIR, ZTF_DIR, decode_alert

SURVEY = ZTF(r"^ztf_\d{8}_programid\d+$")
ONE_STAMP = ZTF_DIR / "20231012" / "2475433850015010009.avro"


def pixels(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.size == (168, 168)
    return np.asarray(image.convert("RGB")).astype(int)


def stamp(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    fits.PrimaryHDU(image).writeto(buffer)
    return gzip.compress(buffer.getvalue())


def test_every_ztf_alert_has_three_168px_png_thumbnails() -> None:
    for path in sorted(ZTF_DIR.rglob("*.avro")):
        alert = SURVEY.prepare(decode_alert(path)).alert
        thumbnails = SURVEY.thumbnails(alert)
        assert set(thumbnails) == {"new", "ref", "sub"}
        for png in thumbnails.values():
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
            pixels(png)


def test_winter_thumbnails_render_from_its_raw_stamps() -> None:
    survey = WINTER(r"^winter_\d{8}$")
    path = sorted(WNTR_DIR.rglob("*.avro"))[0]
    alert = survey.prepare(decode_alert(path)).alert
    thumbnails = survey.thumbnails(alert)
    assert set(thumbnails) == {"new", "ref", "sub"}
    for png in thumbnails.values():
        pixels(png)


def test_sub_is_scaled_linearly_and_the_others_logarithmically() -> None:
    ramp = np.linspace(0.0, 100.0, 101).reshape(1, -1).repeat(3, axis=0)
    low = np.percentile(ramp, 1)  # the 1st-percentile limit clips the bottom to 0
    linear = scale(ramp, "sub")
    assert linear == pytest.approx(np.clip((ramp - low) / (100.0 - low), 0, 1))
    stretched = np.log(1000 * ramp / 100 + 1) / np.log(1001)  # astropy's LogStretch(a=1000)
    low = np.percentile(stretched, 1)
    for kind in ("new", "ref"):
        assert scale(ramp, kind) == pytest.approx(np.clip((stretched - low) / (1 - low), 0, 1))
    assert scale(ramp, "new")[0, 50] > 0.8 > 0.55 > linear[0, 50]
    # And the rendered images differ accordingly.
    stamps = SURVEY.thumbnail_stamps(SURVEY.prepare(decode_alert(ONE_STAMP)).alert)
    assert not np.array_equal(
        pixels(render_png(stamps["new"], "new", flip=True)),
        pixels(render_png(stamps["new"], "sub", flip=True)),
    )


def test_flip_reverses_the_rendered_rows() -> None:
    # 42 px → 168 px is an exact 4x upsampling: the flipped render is the mirror image.
    image = np.arange(42 * 42, dtype=np.float64).reshape(42, 42) % 97 + np.arange(42)[:, None]
    flipped = pixels(render_png(stamp(image), "new", flip=True))
    unflipped = pixels(render_png(stamp(image), "new", flip=False))
    assert not np.array_equal(flipped, unflipped)
    assert np.array_equal(flipped, unflipped[::-1])
    # origin lower: the stamp's first row is drawn at the bottom unless flipped.
    bottom_heavy = np.zeros((42, 42))
    bottom_heavy[0] = 1.0
    top = pixels(render_png(stamp(bottom_heavy), "sub", flip=True))[:4].mean()
    bottom = pixels(render_png(stamp(bottom_heavy), "sub", flip=False))[-4:].mean()
    assert top == bottom > 200
    # The real 63 px stamps resample by 8/3, nearest: mirror images too.
    stamps = SURVEY.thumbnail_stamps(SURVEY.prepare(decode_alert(ONE_STAMP)).alert)
    for kind, data in stamps.items():
        flipped = pixels(render_png(data, kind, flip=True))
        unflipped = pixels(render_png(data, kind, flip=False))
        assert np.array_equal(flipped, unflipped[::-1])


def test_huge_and_missing_pixels_become_the_mean_of_the_finite_ones() -> None:
    image = np.array([[1.0, 2.0], [np.nan, 1e30]])
    assert clean(image).tolist() == [[1.0, 2.0], [1.5, 1.5]]
    assert clean(np.full((2, 2), np.nan)).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert scale(np.ones((4, 4)), "new").tolist() == np.zeros((4, 4)).tolist()
    pixels(render_png(stamp(np.array([[np.nan, 1e25], [3.0, -1e21]])), "ref", flip=True))


def matplotlib_png(image: np.ndarray, kind: str, flip: bool) -> bytes:
    """The thumbnail as matplotlib draws it: Kowalski's figure, with nearest resampling."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scaled = scale(clean(np.flipud(image) if flip else image), kind)
    fig = Figure(figsize=(4.0, 4.0), dpi=42)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.imshow(scaled, cmap="bone", origin="lower", vmin=0.0, vmax=1.0, interpolation="nearest")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=42)
    return buffer.getvalue()


def test_every_bundled_stamp_draws_the_pixels_matplotlib_draws() -> None:
    """Every ZTF and WINTER stamp, each kind, and a stamp that is not square."""
    raws: list[tuple[bytes, bool]] = []
    for survey, directory in ((SURVEY, ZTF_DIR), (WINTER(r"^winter_\d{8}$"), WNTR_DIR)):
        for path in sorted(directory.rglob("*.avro")):
            alert = survey.prepare(decode_alert(path)).alert
            flip = survey.flip_thumbnails
            raws += [(raw, flip) for raw in survey.thumbnail_stamps(alert).values()]
    assert len(raws) == 117  # 37 ZTF and 2 WINTER alerts, 3 stamps each
    for raw, flip in raws:
        for kind in ("new", "sub"):
            assert np.array_equal(
                pixels(render_png(raw, kind, flip=flip)),
                pixels(matplotlib_png(read_stamp(raw), kind, flip=flip)),
            ), kind


def test_a_stamp_that_is_not_square_keeps_its_aspect_on_white() -> None:
    image = np.random.default_rng(7).normal(100, 5, size=(40, 52))
    drawn = pixels(render_png(stamp(image), "new", flip=False))
    reference = pixels(matplotlib_png(image, "new", flip=False))
    # 52 columns fill the width; 40 rows leave white bands above and below.
    assert (drawn[:10] == 255).all() and (drawn[-10:] == 255).all()
    # matplotlib places the 129.2-px tall image on fractional rows: a row boundary may fall
    # one row off, so each drawn row is the reference's row or a neighbour of it.
    for row in range(168):
        neighbours = reference[max(row - 1, 0) : row + 2]
        assert any(np.array_equal(drawn[row], other) for other in neighbours), row
