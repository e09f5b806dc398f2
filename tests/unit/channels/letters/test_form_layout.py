"""The printed complaint-box form, measured on the PDF ``lapor-gateway form`` writes (pdfplumber word boxes).

No text may touch a box (a label covered by a checkbox, as "instansi" was by the
Rahasia box), every text stays inside the margins, and the boxes drawn are the
ones the reader looks in (``form.FIELDS``/``form.CHECKBOXES``, one layout for both).
"""

from __future__ import annotations

from pathlib import Path

import pdfplumber
import pytest

from channels.letters import form

PT_PER_MM = 72 / 25.4
TOLERANCE_PT = 0.5


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    path = form.render_form_pdf(Path(tmp_path_factory.mktemp("form")) / "form.pdf")
    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) == 1
        p = pdf.pages[0]
        yield {
            "width": float(p.width),
            "words": p.extract_words(use_text_flow=True, keep_blank_chars=True, x_tolerance=1.5),
            "rects": [r for r in p.rects if r["stroke"] and not r["fill"]],  # the outlined boxes, not the marks
        }


def _mm_box(b: form.Box) -> tuple[float, float, float, float]:
    return b.x * PT_PER_MM, b.y * PT_PER_MM, (b.x + b.w) * PT_PER_MM, (b.y + b.h) * PT_PER_MM


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] - TOLERANCE_PT and b[0] < a[2] - TOLERANCE_PT and a[1] < b[3] - TOLERANCE_PT and b[1] < a[3] - TOLERANCE_PT


def _word_box(w: dict) -> tuple[float, float, float, float]:
    return float(w["x0"]), float(w["top"]), float(w["x1"]), float(w["bottom"])


def test_the_drawn_boxes_are_the_ones_the_reader_uses(page) -> None:
    drawn = sorted((round(r["x0"], 1), round(r["top"], 1), round(r["x1"], 1), round(r["bottom"], 1)) for r in page["rects"])
    layout = sorted(tuple(round(v, 1) for v in _mm_box(b)) for b in (*form.FIELDS, *form.CHECKBOXES))
    assert drawn == layout


def test_no_text_touches_a_checkbox_or_a_field_box(page) -> None:
    boxes = {b.key: _mm_box(b) for b in (*form.FIELDS, *form.CHECKBOXES)}
    hits = [
        f"{w['text']!r} overlaps the {key} box"
        for w in page["words"]
        for key, box in boxes.items()
        if _overlap(_word_box(w), box)
    ]
    assert not hits, "\n".join(hits)


def test_every_checkbox_label_is_whole_and_beside_its_box(page) -> None:
    text = " ".join(w["text"] for w in page["words"])
    for b in form.CHECKBOXES:
        assert b.label in text
        first = next(w for w in page["words"] if w["text"].startswith(b.label.split()[0]))
        assert float(first["x0"]) > (b.x + b.w) * PT_PER_MM  # right of its box
        assert abs((float(first["top"]) + float(first["bottom"])) / 2 - (b.y + b.h / 2) * PT_PER_MM) < 2 * PT_PER_MM


def test_every_text_stays_inside_the_margins(page) -> None:
    left, right = (v * PT_PER_MM for v in form.MARGIN_MM)
    outside = [
        f"{w['text']!r} at {float(w['x0']) / PT_PER_MM:.1f}-{float(w['x1']) / PT_PER_MM:.1f} mm"
        for w in page["words"]
        if float(w["x0"]) < left - TOLERANCE_PT or float(w["x1"]) > right + TOLERANCE_PT
    ]
    assert not outside, "\n".join(outside)
    assert all(_mm_box(b)[0] >= left - TOLERANCE_PT and _mm_box(b)[2] <= right + TOLERANCE_PT for b in form.FIELDS)


def test_texts_do_not_overlap_each_other(page) -> None:
    words = [_word_box(w) for w in page["words"]]
    clashes = [
        (page["words"][i]["text"], page["words"][j]["text"])
        for i in range(len(words))
        for j in range(i + 1, len(words))
        if _overlap(words[i], words[j])
    ]
    assert not clashes
