"""The hot folder through ``lapor-gateway run``: files dropped become complaints once, across a kill -9."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

import pytest

from gateway.bench.synth import LetterSpec
from tests.e2e.letters.conftest import (
    drop,
    files_in,
    inbox,
    letter_image_pdf,
    letter_png,
    letter_text_pdf,
    sha256,
    wait_moved,
)
from tests.e2e_helpers import intake_log, records_by_external_id, wait_record
from tests.gateway_proc import GatewayProcess, wait_until
from tests.unit.channels.letters.render import png_bomb, text_pdf

pytestmark = pytest.mark.peer

SPECS = {
    "01-surat-ketik.pdf": LetterSpec(name="Rina Marlina", nik="3201014101900001", phone="0813-1111-2222",
                                     subject="Sampah Menumpuk di Pasar Cisalak"),
    "02-scan.png": LetterSpec(name="Joko Susilo", nik="3201011202850002", phone="0813-3333-4444",
                              subject="Saluran Air Tersumbat di Gang Melati"),
    "03-scan.pdf": LetterSpec(name="Sri Wahyuni", nik="3201015303880003", phone="0813-5555-6666",
                              subject="Pungutan di Kantor Kelurahan Sukajadi"),
    "04-surat-ketik.pdf": LetterSpec(name="Hendra Gunawan", nik="3201011404920004", phone="0813-7777-8888",
                                     subject="Jembatan Bambu Hampir Roboh"),
}  # fmt: skip


def _content(name: str) -> bytes:
    spec = SPECS[name]
    if name.endswith(".png"):
        return letter_png(spec, seed=21)
    if name.startswith("03"):
        return letter_image_pdf(spec, seed=22)
    return letter_text_pdf(spec)


def test_dropped_files_become_one_complaint_each_across_kill9(letters_gateway: Callable[..., GatewayProcess]) -> None:
    gw = letters_gateway()
    dropped = {name: _content(name) for name in SPECS}
    for name, data in dropped.items():
        drop(gw, name, data)
    processed = inbox(gw) / "processed"
    # kill as soon as the first file is through: the scans behind it (OCR, ~1 s a page) are in flight
    wait_until(lambda: files_in(processed), 60, interval=0.02, what="the first processed file")
    gw.kill9()
    through_at_kill = sorted(files_in(processed))
    print(f"files through when killed: {through_at_kill}")  # shown with -s: where the kill landed
    gw.start()
    wait_moved(gw, list(dropped))

    by_ext = wait_until(lambda: (r := records_by_external_id(gw)) and len(r) >= len(dropped) and r, 60,
                        interval=0.2, what="every dropped file in the central store")  # fmt: skip
    # one complaint per file, none twice, nothing else
    assert set(by_ext) == {sha256(d) for d in dropped.values()}
    assert all(len(v) == 1 for v in by_ext.values()), f"a file became two complaints (killed after {through_at_kill})"
    for name, data in dropped.items():
        rec = by_ext[sha256(data)][0]
        assert rec["channel"] == "letters.scan" and rec["account"] == "counter"
        assert rec["subject"] == SPECS[name].subject
        assert rec["reporter"]["nik"] == SPECS[name].nik
    # every file moved exactly once, byte for byte; nothing deleted, nothing failed, nothing left
    assert files_in(processed) == dropped
    assert files_in(inbox(gw) / "failed") == {}
    assert files_in(inbox(gw)) == {}
    # the intake log: each one received and forwarded once
    events = Counter(tuple(line.split()[2:5]) for line in intake_log(gw).splitlines()[1:] if "forwarded" in line)
    assert len(events) == len(dropped) and set(events.values()) == {1}

    # staff scan the same letter again: kept beside the first, recognised, no second complaint
    drop(gw, "02-scan.png", dropped["02-scan.png"])
    wait_moved(gw, ["02-scan.png"])
    assert (processed / "02-scan.1.png").read_bytes() == dropped["02-scan.png"]
    assert len(files_in(processed)) == len(dropped) + 1
    wait_until(lambda: "(duplicate)" in gw.log_text(), 10, what="the duplicate noted in the process log")
    assert {k: len(v) for k, v in records_by_external_id(gw).items()} == {sha256(d): 1 for d in dropped.values()}


def test_bad_files_go_to_failed_with_a_reason_and_the_batch_goes_on(
    letters_gateway: Callable[..., GatewayProcess],
) -> None:
    # 3 MB per file: the 2.3 MB scanner PDF fits, the 7 MB PNG scan does not
    gw = letters_gateway({"LAPOR_LETTERS__MAX_FILE_BYTES": str(3_000_000)})
    good_typed = letter_text_pdf(LetterSpec(name="Yuliani Putri", subject="Antrean BPJS Terlalu Lama"))
    good_scan = letter_image_pdf(LetterSpec(name="Teguh Santoso", subject="Air PDAM Keruh Seminggu"), seed=31)
    locked_spec = LetterSpec(name="Kartika Sari", nik="3201016505910006", subject="Laporan Rahasia Dinas")
    batch = {
        "a-bom.png": png_bomb(),
        "b-rusak.pdf": good_typed[:300],
        "c-besar.png": letter_png(LetterSpec(name="Oversized Person"), seed=32),
        "d-terkunci.pdf": text_pdf(locked_spec.lines(), encrypt_password="kunci123"),
        "e-baik.pdf": good_typed,
        "f-scan.pdf": good_scan,
    }
    for name, data in batch.items():
        drop(gw, name, data)
    drop(gw, "g-masih-disalin.pdf.part", b"%PDF-1.4 scanner still writing")
    wait_moved(gw, list(batch))

    failed = inbox(gw) / "failed"
    reasons = {p.name.removesuffix(".reason.txt"): p.read_text() for p in failed.glob("*.reason.txt")}
    assert set(reasons) == {"a-bom.png", "b-rusak.pdf", "c-besar.png", "d-terkunci.pdf"}
    assert reasons["a-bom.png"].startswith("413 ") and "decompression bomb" in reasons["a-bom.png"]
    assert reasons["b-rusak.pdf"].startswith("422 ") and "corrupt" in reasons["b-rusak.pdf"]
    assert reasons["c-besar.png"].startswith("413 ") and "larger than the limit" in reasons["c-besar.png"]
    assert reasons["d-terkunci.pdf"].startswith("422 ") and "password-protected" in reasons["d-terkunci.pdf"]
    for name in reasons:  # the refused file itself is kept, unchanged, beside its reason
        assert (failed / name).read_bytes() == batch[name]
    assert not any(w in "".join(reasons.values()) for w in ("Kartika", locked_spec.nik))  # a reason holds no content

    # the rest of the same batch became complaints
    typed = wait_record(gw, sha256(good_typed))
    scanned = wait_record(gw, sha256(good_scan))
    assert typed["subject"] == "Antrean BPJS Terlalu Lama" and typed["ocr"]["engine"] == "pdf-text-layer"
    assert scanned["subject"] == "Air PDAM Keruh Seminggu" and scanned["ocr"]["engine"].startswith("tesseract")
    assert set(files_in(inbox(gw) / "processed")) == {"e-baik.pdf", "f-scan.pdf"}
    assert len(records_by_external_id(gw)) == 2
    assert (inbox(gw) / "g-masih-disalin.pdf.part").exists()  # still being written: left alone


def test_refused_scan_is_an_intake_log_event(letters_gateway: Callable[..., GatewayProcess]) -> None:
    gw = letters_gateway()
    drop(gw, "a-bom.png", png_bomb())
    wait_moved(gw, ["a-bom.png"])
    typed = letter_text_pdf(LetterSpec(name="Penanda Urutan", subject="Penanda"))
    drop(gw, "b-penanda.pdf", typed)  # the folder reports a refusal before it reads the next file
    wait_record(gw, sha256(typed))
    log = intake_log(gw)
    assert re.search(r"letters\.hotfolder\s+failed.*decompression bomb", log), log
