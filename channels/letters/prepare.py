"""Make a scanned page easy for tesseract: orientation, deskew, binarize, despeckle, borders.

Order matters and is chosen for cost (a 300 dpi A4 page is 8.7 Mpx, and the
whole preparation must stay a small fraction of tesseract's ~1 s):

1. On a 1/4-scale copy, find the skew angle *and* whether the text runs
   sideways, by projecting the ink pixels onto rotated axes: lines of text give
   the sharpest projection (largest energy) at the right angle. No image is
   rotated during the search; it is a ``bincount`` per candidate angle.
2. Rotate the full greyscale page once (quarter turns + skew), so the
   interpolation happens before thresholding.
3. Flatten the background (scanner shadows, grey paper) and threshold, with
   Otsu capped below the paper level: a blank page with noise must not be split
   in half by Otsu.
4. One connected-components pass removes what touches the page edge (scanner
   lid, punched holes at the edge) and the dark specks of a dirty scanner glass,
   which are smaller than any glyph's smallest part (a full stop).
5. Upside-down pages: Latin text has far more ascenders (capitals, digits, b d
   f h k l t) than descenders (g j p q y), so in each text line more ink sits
   above the x-height band than below it. When that is reversed the page is
   turned 180° — a guess (a page of lower-case text rich in g, j, p, y can
   fool it), which the caller confirms by OCR before keeping it.

It also reports whether the page is blank or looks like noise, so the caller
can send it to review instead of feeding garbage to tesseract.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SMALL = 4  # downscale factor for the analyses
MAX_SKEW = 8.0  # degrees searched either side
PAPER_CAP = 165  # threshold never above this on a flattened page (paper ≈ 255)
SPECK_AREA_300DPI = 18  # px; a full stop of 10–12 pt text at 300 dpi is ≥ 25 px
BLANK_INK = 0.0004  # ink fraction below which a page is blank
NOISE_INK = 0.22  # ink fraction above which a page is noise, not text
NOISE_SPECKS = 0.5
OCR_CHAR_HEIGHT = 16.0  # px: glyph height tesseract gets (see Prepared.for_ocr)
MIN_SCALE = 0.5  # share of the raw ink that was specks, above which it is noise


@dataclass
class Prepared:
    """A page ready for OCR: binary, text black (0) on white (255)."""

    image: np.ndarray
    quarter_turns: int  # counter-clockwise turns applied
    skew: float  # degrees of rotation applied to straighten the text
    ink: float  # fraction of ink pixels after cleaning
    blank: bool
    noise: bool
    char_height: float = 0.0  # median height of glyph components, px
    flipped: bool = False  # turned 180° by the ascender test alone: the OCR confirms it (scan.py)

    def for_ocr(self) -> tuple[np.ndarray, float]:
        """The image tesseract gets and its scale against ``image``.

        Tesseract's time grows with pixels, not with what it needs: its LSTM
        normalises each line to a fixed height anyway. Glyphs of ~16 px read
        as well as 28 px ones (measured on 12 pt letters at 300 dpi) and take
        ~25 % less time, so large text is shrunk (anti-aliased) to that size.
        """
        if not self.char_height:
            return self.image, 1.0
        f = min(1.0, max(MIN_SCALE, OCR_CHAR_HEIGHT / self.char_height))
        if f > 0.95:
            return self.image, 1.0
        return cv2.resize(self.image, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), f


def to_gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return img if img.dtype == np.uint8 else cv2.normalize(img, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_RGBA2GRAY)
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def prepare(gray: np.ndarray, dpi: float = 300.0) -> Prepared:
    """Run the whole preparation on one greyscale page (uint8, 2-D)."""
    small = cv2.resize(gray, None, fx=1 / SMALL, fy=1 / SMALL, interpolation=cv2.INTER_AREA)
    small_bin = binarize(small)
    raw_ink = float((small_bin == 0).mean())
    if raw_ink > NOISE_INK:
        return Prepared(binarize(gray), 0, 0.0, raw_ink, blank=False, noise=True)
    turns, skew = find_orientation_and_skew(clean(small_bin, dpi / SMALL)[0] == 0)
    page = binarize(rotate(gray, turns, skew))
    raw_ink = float((page == 0).mean())
    if raw_ink > NOISE_INK:  # fine-grained noise averages out at 1/4 scale; not at full scale
        return Prepared(page, turns, skew, raw_ink, blank=False, noise=True)
    binary, speck_share, char_height = clean(page, dpi)
    ink = float((binary == 0).mean())
    blank = ink < BLANK_INK
    noise = not blank and speck_share > NOISE_SPECKS and ink < 10 * BLANK_INK
    flipped = not blank and looks_upside_down(binary)
    if flipped:
        binary = cv2.rotate(binary, cv2.ROTATE_180)
        turns = (turns + 2) % 4
    return Prepared(binary, turns, skew, ink, blank=blank, noise=noise, char_height=char_height, flipped=flipped)


def binarize(gray: np.ndarray) -> np.ndarray:
    """Flatten the background, then Otsu capped at ``PAPER_CAP``; returns 0 = ink, 255 = paper."""
    h, w = gray.shape
    f = 8 if min(h, w) >= 400 else 1
    bg_small = cv2.resize(gray, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    # closing removes the (dark) text from the estimate: 15 px * 8 = 120 px (10 mm at 300 dpi), wider
    # than any stroke and than the form's registration marks
    bg_small = cv2.morphologyEx(bg_small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    bg_small = cv2.medianBlur(bg_small, 5)
    bg = cv2.resize(bg_small, (w, h), interpolation=cv2.INTER_LINEAR)
    flat = cv2.divide(gray, np.maximum(bg, 1), scale=255)
    otsu, _ = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    _, out = cv2.threshold(flat, min(otsu, PAPER_CAP), 255, cv2.THRESH_BINARY)
    return out


def _projection_energy(ys: np.ndarray, xs: np.ndarray, angle: float) -> float:
    a = np.deg2rad(angle)
    proj = np.round(ys * np.cos(a) - xs * np.sin(a)).astype(np.int64)
    proj -= proj.min()
    counts = np.bincount(proj).astype(np.float64)
    return float((counts * counts).sum())


def find_orientation_and_skew(ink: np.ndarray) -> tuple[int, float]:
    """Quarter turns (0 or 1; 180° is decided later) and the skew angle in degrees."""
    ys, xs = np.nonzero(ink)
    if len(ys) < 50:
        return 0, 0.0
    if len(ys) > 60_000:  # subsample: the projection shape survives, the cost does not grow
        pick = np.random.default_rng(0).choice(len(ys), 60_000, replace=False)
        ys, xs = ys[pick], xs[pick]
    ys = ys.astype(np.float64)
    xs = xs.astype(np.float64)
    best = (-1.0, 0, 0.0)
    for turns, (u, v) in ((0, (ys, xs)), (1, (xs, -ys))):
        for angle in np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 1.0):
            e = _projection_energy(u, v, angle)
            if e > best[0]:
                best = (e, turns, float(angle))
    _, turns, coarse = best
    u, v = (ys, xs) if turns == 0 else (xs, -ys)
    fine = max(np.arange(coarse - 1.0, coarse + 1.01, 0.1), key=lambda a: _projection_energy(u, v, a))
    return turns, round(float(fine), 2)


def rotate(gray: np.ndarray, turns: int, skew: float) -> np.ndarray:
    """Quarter turns (counter-clockwise) then the skew correction, filling with white."""
    if turns % 4 == 1:
        gray = cv2.rotate(gray, cv2.ROTATE_90_CLOCKWISE)
    if abs(skew) < 0.05:
        return gray
    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def clean(binary: np.ndarray, dpi: float) -> tuple[np.ndarray, float, float]:
    """Drop specks and anything touching the page edge.

    Returns (image, share of the ink that was specks, median glyph height).
    """
    ink = (binary == 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return binary, 0.0, 0.0
    h, w = binary.shape
    x, y, bw, bh, area = (stats[1:, i] for i in range(5))
    min_area = max(3, round(SPECK_AREA_300DPI * (dpi / 300.0) ** 2))
    speck = area < min_area
    edge = (x == 0) | (y == 0) | (x + bw >= w) | (y + bh >= h)
    drop = np.concatenate(([False], speck | edge))
    total = float(area.sum())
    speck_share = float(area[speck].sum()) / total if total else 0.0
    out = binary.copy()
    for i in np.flatnonzero(drop):  # per dropped component, within its box: specks are tiny, so this is cheap
        cx, cy, cw, ch = stats[i, :4]
        region = out[cy : cy + ch, cx : cx + cw]
        region[labels[cy : cy + ch, cx : cx + cw] == i] = 255
    kept = bh[~(speck | edge)]
    glyphs = kept[(kept > 2 * np.sqrt(min_area)) & (kept < h / 20)]  # letters, not dots or rules
    return out, speck_share, float(np.median(glyphs)) if len(glyphs) else 0.0


def looks_upside_down(binary: np.ndarray) -> bool:
    """True when descenders outweigh ascenders across the page's text lines."""
    small = cv2.resize(binary, None, fx=1 / 2, fy=1 / 2, interpolation=cv2.INTER_AREA) < 128
    rows = small.sum(axis=1).astype(np.float64)
    if rows.max() <= 0:
        return False
    above = below = 0.0
    in_line = rows > 0
    edges = np.flatnonzero(np.diff(np.concatenate(([0], in_line.astype(np.int8), [0]))))
    spans = [(t, b) for t, b in zip(edges[::2], edges[1::2], strict=True) if b - t >= 6]
    if not spans:
        return False
    typical = float(np.median([b - t for t, b in spans]))
    for top, bottom in spans:
        prof = rows[top:bottom]
        if bottom - top > 1.6 * typical:  # boxes, tables, pictures: not a line of text
            continue
        core = np.flatnonzero(prof >= 0.5 * prof.max())
        above += prof[: core[0]].sum()
        below += prof[core[-1] + 1 :].sum()
    return below > 1.25 * above and below - above > 0.001 * small.size
