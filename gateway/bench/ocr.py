"""``lapor-gateway bench ocr``: the gateway's letter pipeline against plain tesseract, same pages, same run.

Pages are generated (:func:`gateway.bench.synth.bench_pages`: skewed 1–2°,
blurred, noisy, 300 dark specks). For each page, in alternation so both see
the same machine load: ``tesseract PAGE.png - -l ind`` (OMP_THREAD_LIMIT=1,
as the pipeline runs it) and the pipeline's own load → prepare → OCR of the
same PNG bytes, one page at a time (no page parallelism, to compare per-page
cost). CER is the Levenshtein distance over the ground truth's length, after
collapsing whitespace.
"""

from __future__ import annotations

import io
import os
import re
import statistics
import subprocess
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

from gateway.bench.synth import bench_pages

GOAL_TIME_RATIO = 1.2
GOAL_CER_RATIO = 0.7


def levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def normalize_ws(s: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", s)).strip()


def cer(truth: str, text: str) -> float:
    """Character error rate, whitespace-normalised (0.01 = 1 %)."""
    a, b = normalize_ws(truth), normalize_ws(text)
    return levenshtein(a, b) / max(len(a), 1)


class _NullBlobs:
    def put(self, data: bytes, media_type: str, filename: str | None = None) -> Any:
        raise NotImplementedError

    def get(self, sha256: str) -> bytes:
        raise KeyError(sha256)


def run_ocr_bench(pages: int = 6) -> dict:
    from channels.letters.scan import LettersChannel

    env = {**os.environ, "OMP_THREAD_LIMIT": os.environ.get("OMP_THREAD_LIMIT", "1")}
    channel = LettersChannel(_NullBlobs(), workers=1)
    raw_t, our_t, raw_c, our_c = [], [], [], []
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as d:
        for i, page in enumerate(bench_pages(pages)):
            buf = io.BytesIO()
            page.image.save(buf, format="PNG", dpi=(300, 300))
            data = buf.getvalue()
            png = Path(d) / f"page{i}.png"
            png.write_bytes(data)
            t0 = time.perf_counter()
            raw = subprocess.run(
                ["tesseract", str(png), "-", "-l", "ind"], env=env, capture_output=True, text=True, check=True
            ).stdout
            t1 = time.perf_counter()
            _, results = channel.read_pages(data)
            t2 = time.perf_counter()
            raw_t.append(t1 - t0)
            our_t.append(t2 - t1)
            raw_c.append(cer(page.truth, raw))
            our_c.append(cer(page.truth, "\n".join(r.text for r in results)))
    raw_time, our_time = statistics.mean(raw_t), statistics.mean(our_t)
    raw_cer, our_cer = statistics.mean(raw_c), statistics.mean(our_c)
    time_ratio = our_time / raw_time
    cer_ratio = our_cer / raw_cer if raw_cer else (0.0 if our_cer == 0 else float("inf"))
    return {
        "pages": pages,
        "raw_tesseract": {
            "cmd": "tesseract IMAGE - -l ind",
            "s_per_page": round(raw_time, 3),
            "cer": round(raw_cer, 4),
        },
        "gateway": {
            "pipeline": "prepare + tesseract ind+eng",
            "s_per_page": round(our_time, 3),
            "cer": round(our_cer, 4),
        },
        "time_ratio": round(time_ratio, 3),
        "cer_ratio": round(cer_ratio, 3),
        "goal": {"time_ratio_max": GOAL_TIME_RATIO, "cer_ratio_max": GOAL_CER_RATIO},
        "ok": time_ratio <= GOAL_TIME_RATIO and cer_ratio <= GOAL_CER_RATIO,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run_ocr_bench(), indent=2))
