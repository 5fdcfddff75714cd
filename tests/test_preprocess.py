import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from core.data import samples
from core.images import preprocess, strokes
from core.images.preprocess import InputError, to_mnist


def png_bytes(a: np.ndarray, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, format=fmt)
    return buf.getvalue()


def test_output_is_mnist_shaped_and_centred_by_mass(digit_gray):
    pre = to_mnist(digit_gray)
    assert not pre.empty
    assert pre.image.shape == (28, 28) and pre.image.dtype == np.float32
    assert 0.0 <= pre.image.min() and pre.image.max() <= 1.0
    cy, cx = ndimage.center_of_mass(pre.image)
    assert abs(cy - 13.5) < 0.6 and abs(cx - 13.5) < 0.6


def test_position_and_size_on_canvas_do_not_matter(unipen):
    rec = unipen[5]
    a = to_mnist(strokes.render(strokes.canvas_paths(rec, box=200)) / 255.0).image
    b = to_mnist(strokes.render(strokes.canvas_paths(rec, box=90, offset=(-80, 70)), width=10) / 255.0).image
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.85


def test_fits_the_longer_side_into_20_pixels_keeping_aspect():
    img = np.zeros((280, 280), np.float32)
    img[40:240, 130:150] = 1.0  # a tall bar, 200 x 20: a "1"
    pre = to_mnist(img)
    rows = np.nonzero(pre.steps["fit20"].max(axis=1) > 0.1)[0]
    cols = np.nonzero(pre.steps["fit20"].max(axis=0) > 0.1)[0]
    assert 19 <= len(rows) <= 21
    assert len(cols) <= 7  # not stretched into a square


def test_polarity_is_detected(digit_gray):
    dark_on_light = to_mnist(1.0 - digit_gray)
    light_on_dark = to_mnist(digit_gray)
    assert dark_on_light.inverted and not light_on_dark.inverted
    assert np.abs(dark_on_light.image - light_on_dark.image).max() < 0.05


@pytest.mark.parametrize("style", samples.STYLES)
def test_photo_styles_look_like_the_clean_drawing(unipen, style):
    rec = unipen[12]
    clean = to_mnist(strokes.render(strokes.canvas_paths(rec)) / 255.0).image
    photo = to_mnist(preprocess.decode_image(samples.make_photo(rec, style, seed=3))).image
    assert np.corrcoef(clean.ravel(), photo.ravel())[0, 1] > 0.75


def test_empty_and_dot_are_empty():
    assert to_mnist(np.zeros((280, 280), np.float32)).empty
    dot = np.zeros((280, 280), np.float32)
    yy, xx = np.mgrid[:280, :280]
    dot[(yy - 140) ** 2 + (xx - 100) ** 2 < 100] = 1.0
    assert to_mnist(dot).empty
    noise = np.random.default_rng(0).uniform(0, 0.05, (280, 280)).astype(np.float32)
    assert to_mnist(noise).empty


def test_canvas_rgba_to_gray():
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[100:120, 50:200, :3] = 255
    gray = preprocess.canvas_to_gray(rgba)
    assert gray.shape == (280, 280) and gray[110, 100] == 1.0 and gray[0, 0] == 0.0
    transparent = rgba.copy()
    transparent[..., 3] = 0
    transparent[100:120, 50:200, 3] = 255
    assert np.array_equal(preprocess.canvas_to_gray(transparent), gray)


def test_decode_rejects_bad_files():
    with pytest.raises(InputError, match="not an image"):
        preprocess.decode_image(b"this is a text file, not a picture")
    good = png_bytes(np.zeros((64, 64), np.uint8))
    with pytest.raises(InputError, match="corrupt|truncated|opened"):
        preprocess.decode_image(good[: len(good) // 2])
    with pytest.raises(InputError, match="empty"):
        preprocess.decode_image(b"")
    with pytest.raises(InputError, match="MB"):
        preprocess.decode_image(b"0" * (preprocess.MAX_UPLOAD_BYTES + 1))


def test_decode_refuses_50_megapixels_from_the_header():
    # A 10000x5000 PNG compresses to a few kB: the pixel limit must stop it before decoding.
    data = png_bytes(np.zeros((5000, 10000), np.uint8))
    assert len(data) < preprocess.MAX_UPLOAD_BYTES
    with pytest.raises(InputError, match="50 megapixels"):
        preprocess.decode_image(data)


def test_decode_handles_rgba_transparency_and_jpeg(digit_gray):
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = (digit_gray * 255).astype(np.uint8)  # black ink drawn on a transparent layer
    gray = preprocess.decode_image(png_bytes(rgba))
    assert to_mnist(gray).inverted  # read as dark ink on light
    jpeg = preprocess.decode_image(png_bytes(((1 - digit_gray) * 255).astype(np.uint8), "JPEG"))
    assert np.corrcoef(to_mnist(jpeg).image.ravel(), to_mnist(digit_gray).image.ravel())[0, 1] > 0.9


def test_rejects_wrong_shapes():
    with pytest.raises(InputError):
        to_mnist(np.zeros((280, 280, 3)))
    with pytest.raises(InputError):
        to_mnist(np.zeros((4, 4)))


def test_rejects_values_outside_0_1():
    with pytest.raises(InputError, match="between 0 and 1"):
        to_mnist(np.full((28, 28), 255.0))  # 8-bit pixels not divided by 255
    nan = np.zeros((28, 28))
    nan[3, 3] = np.nan
    with pytest.raises(InputError, match="between 0 and 1"):
        to_mnist(nan)


def test_decode_reads_16_bit_scans(digit_gray):
    scan = (50_000 - digit_gray * 48_000).astype(np.uint16)  # dark ink on light paper, 16 bits a pixel
    gray = preprocess.decode_image(png_bytes(scan))
    assert gray.min() == 0.0 and gray.max() == 1.0
    pre = to_mnist(gray)
    assert pre.inverted and not pre.empty
    assert np.corrcoef(pre.image.ravel(), to_mnist(digit_gray).image.ravel())[0, 1] > 0.95


def test_decode_shrinks_huge_pictures_before_working_on_them(digit_gray):
    big = np.asarray(Image.fromarray((digit_gray * 255).astype(np.uint8)).resize((4200, 4200)))
    gray = preprocess.decode_image(png_bytes(big))
    assert max(gray.shape) <= 2 * preprocess.WORK_SIDE and gray.dtype == np.float32
    assert np.corrcoef(to_mnist(gray).image.ravel(), to_mnist(digit_gray).image.ravel())[0, 1] > 0.95


def test_the_canvas_is_never_read_inverted(digit_gray):
    # A huge digit whose strokes cover most of the border: guessing polarity would invert it.
    gray = np.zeros((280, 280), np.float32)
    gray[:, :30] = gray[:, -30:] = gray[:30] = gray[-30:] = 1.0
    gray[100:180, 130:150] = 1.0
    assert to_mnist(gray).inverted  # the guess goes wrong ...
    assert not preprocess.from_canvas(gray).inverted  # ... the canvas path knows better


def test_one_pixel_specks_are_no_digit_not_a_crash():
    specks = np.zeros((100, 100), np.float32)
    specks[5:95:7, 5:95:7] = 1.0  # a grid of isolated single pixels
    assert to_mnist(specks).empty
    rng = np.random.default_rng(0)
    for density in (0.002, 0.01, 0.03):  # salt noise: never an exception, whatever it makes of it
        for _ in range(20):
            to_mnist((rng.random((64, 64)) < density).astype(np.float32))


def test_a_long_thin_strip_is_read_not_refused(digit_gray):
    strip = np.full((8, 10_000), 255, np.uint8)
    gray = preprocess.decode_image(png_bytes(strip))
    assert min(gray.shape) >= 8
    assert to_mnist(gray).empty  # a blank strip: no digit, and no shape error


def test_pixels_that_are_not_numbers_are_refused():
    pixels = np.zeros((40, 40), np.float32)
    pixels[10:30, 18:22] = 1.0
    pixels[0, 0] = np.nan
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="F").save(buf, format="TIFF")
    with pytest.raises(InputError, match="not numbers"):
        preprocess.decode_image(buf.getvalue())


def test_read_image_file_checks_the_size_before_reading(tmp_path, digit_gray):
    good = tmp_path / "seven.png"
    good.write_bytes(png_bytes((digit_gray * 255).astype(np.uint8)))
    assert not to_mnist(preprocess.read_image_file(good)).empty
    huge = tmp_path / "huge.png"
    with open(huge, "wb") as f:
        f.truncate(300 * 2**20)  # 300 MB on paper, nothing on disk
    with pytest.raises(InputError, match="300.0 MB; the limit is 20 MB"):
        preprocess.read_image_file(huge)
    with pytest.raises(InputError, match="limit is 20 MB"):
        preprocess.read_image_file("/dev/zero")  # no size to check: reading stops at the limit


def test_the_frame_maps_back_onto_the_drawing(digit_gray):
    """The 28x28 input, drawn back over the 280x280 drawing through frame_on_input, lands on the ink."""
    pre = preprocess.from_canvas(digit_gray)
    back = preprocess.frame_to_input(pre.image, pre, digit_gray.shape)
    ink, mapped = digit_gray > 0.5, back > 0.5
    assert mapped.sum() > 0.3 * ink.sum()
    assert (mapped & ink).sum() / mapped.sum() > 0.8  # what the network saw lies on what was drawn
    assert np.corrcoef(back.ravel(), digit_gray.ravel())[0, 1] > 0.7


def test_an_animation_is_read_from_its_first_frame_with_ink(digit_gray):
    blank = Image.new("L", (280, 280), 255)
    digit = Image.fromarray((255 - digit_gray * 255).astype(np.uint8))
    buf = io.BytesIO()
    grey = Image.new("L", (280, 280), 235)  # flat too, but not the same frame (GIF merges repeated frames)
    blank.save(buf, "GIF", save_all=True, append_images=[grey, digit, blank], duration=100, loop=0)
    data = buf.getvalue()
    assert preprocess.animation_frame(data) == (2, 4)
    pre = to_mnist(preprocess.decode_image(data))
    assert not pre.empty
    assert preprocess.animation_frame(_png(digit)) is None


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (no pixels follow): what a decompression bomb looks like."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


@pytest.mark.parametrize("width, height, megapixels", [(10_000, 5_000, 50), (10_000, 10_000, 100),
                                                       (20_000, 10_000, 200)])
def test_huge_pictures_get_the_megapixel_limit_and_no_pillow_warning(width, height, megapixels, recwarn):
    """Above Pillow's own thresholds (89 MP: a warning in the log; 179 MP: an error) the message stays the app's."""
    with pytest.raises(InputError, match=f"too large \\({megapixels} megapixels.*the limit is 40 megapixels"):
        preprocess.decode_image(_png_header(width, height))
    assert not [w for w in recwarn if "DecompressionBomb" in type(w.message).__name__]


def test_where_the_drawing_lies_on_a_black_picture_moves_only_its_frame(unipen):
    """The steps up to the crop run on the box around the lit pixels: a wider black margin changes no pixel of
    the input the networks read, and the frame maps back onto the ink where it now lies."""
    drawn = (strokes.render(strokes.canvas_paths(unipen[3], box=150, offset=(-40, 30)), width=14) / 255.0)
    wider = np.zeros((330, 300), np.float32)
    wider[37:317, 11:291] = drawn
    pre, moved = preprocess.from_canvas(drawn), preprocess.from_canvas(wider)
    assert np.array_equal(pre.image, moved.image) and not pre.empty
    k, oy, ox = pre.frame_on_input
    assert moved.frame_on_input == pytest.approx((k, oy + 37, ox + 11), abs=1e-9)
    assert np.array_equal(moved.steps["ink"][37:317, 11:291], pre.steps["ink"]) and moved.steps["ink"].sum() == \
        pre.steps["ink"].sum()


def test_a_dot_is_what_the_stroke_width_says_whether_or_not_the_runs_bound_decides(monkeypatch):
    """``_a_dot`` skips the distance transform when the rows' runs of ink bound the stroke width well below half
    the crop: on dots, bars, rings and strokes of every size it says what the stroke width says."""
    width_of = preprocess.stroke_width
    transforms = []
    monkeypatch.setattr(preprocess, "stroke_width", lambda mask: transforms.append(1) or width_of(mask))
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:90, :90]
    dots, decided = 0, 0
    for n in range(300):
        cy, cx, ry, rx = *rng.uniform(30, 60, 2), *rng.uniform(1, 30, 2)
        ink = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1
        if n % 3 == 1:  # a ring
            ink &= ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 >= rng.uniform(0.2, 0.9)
        if n % 3 == 2:  # and a stroke across it
            ink |= (np.abs(yy - cy - (xx - cx) * rng.uniform(-2, 2)) < rng.uniform(1, 12)) & (np.abs(xx - cx) < 35)
        rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
        crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        dot = max(crop.shape) < 2.0 * max(width_of(crop), 1.0)
        before = len(transforms)
        assert preprocess._a_dot(crop) == dot, (n, crop.shape)
        dots, decided = dots + dot, decided + (len(transforms) == before)
    assert 30 < dots < 270 and 30 < decided < 270  # both answers, and both ways of reaching them, were tried


def test_the_quick_percentile_is_numpys_to_the_bit():
    """``preprocess._percentile`` replaces ``np.percentile`` on every picture: the same float32 value, with ties,
    one and two values."""
    rng = np.random.default_rng(0)
    cases = [np.array([0.5], np.float32), np.array([0.2, 0.9], np.float32), np.zeros(7, np.float32)]
    for _ in range(3000):
        n = int(rng.integers(1, 2000))
        values = rng.random(n) ** rng.uniform(0.2, 5)
        cases.append((np.round(values * 10) / 10 if rng.random() < 0.3 else values).astype(np.float32))
    for values in cases:
        for q in (20, 75, 80, 99):
            ours, numpy_s = preprocess._percentile(values, q), np.percentile(values, q)
            assert ours == numpy_s and ours.dtype == numpy_s.dtype == np.float32, (values.size, q, ours, numpy_s)
    for percentile in (np.percentile, preprocess._percentile):  # no value: the same error as numpy's
        with pytest.raises(IndexError):
            percentile(np.zeros(0, np.float32), 75)
