"""Tesseract through pytesseract: words with boxes and confidences, and the page text.

pytesseract runs the ``tesseract`` binary with this process's environment.
Tesseract 5's OpenMP threading is twice as slow on 2 cores (PEERS.md §4), and
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


def words_to_text(words: list[Word]) -> str:
    """Lines as tesseract found them, with a blank line where the page has a vertical gap.

    Tesseract's own paragraph numbers split sentences in mid-flow on letters, so
    paragraphs are told by the gap between lines instead (a blank line of text
    leaves a gap of well over half a line's height).
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
    out = [" ".join(lines[0][2])]
    for (_, prev_bottom, _), (top, _, ws) in itertools.pairwise(lines):
        if top - prev_bottom > 0.8 * height or top < prev_bottom - 2 * height:  # a gap, or a new column
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
