"""Tesseract through pytesseract: words with boxes and confidences, and the page text.

pytesseract runs the ``tesseract`` binary with this process's environment.
Tesseract 5's OpenMP threading is about twice as slow on 2 cores (measured), and
we parallelise across pages instead, so ``OMP_THREAD_LIMIT`` defaults to 1
here (an operator's own value is kept).
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field

import numpy as np
import pytesseract
from PIL import Image

from channels.letters.errors import OcrTimeout, OcrUnavailable

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

LANG = "ind+eng"
ENGINE = f"tesseract {LANG}"




@dataclass(frozen=True)
class Word:
    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int
    block: int
    par: int
    line: int

    @property
    def center(self) -> tuple[float, float]:
        return self.left + self.width / 2, self.top + self.height / 2


@dataclass
class OcrResult:
    words: list[Word] = field(default_factory=list)

    @property
    def mean_confidence(self) -> float:
        return float(np.mean([w.conf for w in self.words])) if self.words else 0.0

    @property
    def text(self) -> str:
        return words_to_text(self.words)


PARAGRAPH_PITCH = 1.35  # a line this many times the page's usual line pitch below the last starts a paragraph


def words_to_text(words: list[Word]) -> str:
    """Lines as tesseract found them, with a blank line where the page has a paragraph gap.

    A gap is told by the pitch (top to top) between lines against the page's
    usual pitch, so single, 1.5 and double line spacing read alike: a blank
    line doubles the pitch, whatever the spacing. Gaps between line boxes
    alone would break every line of a letter typed at 1.5 spacing, and
    tesseract's own paragraph and block numbers split paragraphs in mid-flow
    (at double spacing a block ends mid-sentence).
    """
    lines: list[tuple[int, int, list[str]]] = []  # (top, bottom, words)
    prev: tuple[int, int, int] | None = None
    for w in words:
        key = (w.block, w.par, w.line)
        if key != prev:
            lines.append((w.top, w.top + w.height, []))
        top, bottom, ws = lines[-1]
        ws.append(w.text)
        lines[-1] = (min(top, w.top), max(bottom, w.top + w.height), ws)
        prev = key
    if not lines:
        return ""
    height = float(np.median([b - t for t, b, _ in lines]))

    def new_column(prev_bottom: int, top: int) -> bool:
        return top < prev_bottom - 2 * height

    pitches = [
        b[0] - a[0] for a, b in itertools.pairwise(lines) if not new_column(a[1], b[0]) and b[0] - a[0] >= 0.8 * height
    ]
    # the usual pitch: the lower quartile, so paragraph gaps (fewer than the lines) do not raise it
    usual = max(float(np.percentile(pitches, 25)), height) if len(pitches) >= 2 else None
    out = [" ".join(lines[0][2])]
    for (prev_top, prev_bottom, _), (top, _, ws) in itertools.pairwise(lines):
        if new_column(prev_bottom, top):
            gap = True
        elif usual is not None:
            gap = top - prev_top > PARAGRAPH_PITCH * usual
        else:
            gap = top - prev_bottom > 0.8 * height
        if gap:
            out.append("")
        out.append(" ".join(ws))
    return "\n".join(out)


TIMEOUT_S = 30.0  # a 300 dpi A4 page takes ~1 s


def read_words(image: np.ndarray | Image.Image, dpi: int = 300, psm: int = 3, timeout: float = TIMEOUT_S) -> OcrResult:
    """OCR one prepared page; coordinates are in ``image``'s pixels."""
    pil = Image.fromarray(image) if isinstance(image, np.ndarray) else image
    try:
        data = pytesseract.image_to_data(
            pil,
            lang=LANG,
            config=f"--psm {psm} --dpi {dpi} -c tessedit_do_invert=0",
            output_type=pytesseract.Output.DICT,
            timeout=timeout,
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise OcrUnavailable("tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-ind)") from exc
    except pytesseract.TesseractError as exc:
        raise OcrUnavailable(f"tesseract failed: {exc.message[:200]}") from exc
    except RuntimeError as exc:  # pytesseract's way of saying the timeout struck
        raise OcrTimeout(f"tesseract did not finish within {timeout:.0f} s") from exc
    words = []
    for i, text in enumerate(data["text"]):
        conf = float(data["conf"][i])
        if conf < 0 or not text.strip():
            continue
        words.append(
            Word(
                text.strip(),
                conf,
                data["left"][i],
                data["top"][i],
                data["width"][i],
                data["height"][i],
                data["block_num"][i],
                data["par_num"][i],
                data["line_num"][i],
            )
        )
    return OcrResult(words)
