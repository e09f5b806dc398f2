"""Issue 13 items 8 and 9: ``show`` readable by default (summary, timeline, receipt texts, ISO times with the
zone) and ``--json``; ``review`` with text excerpts, a right page count, corrections before approval, and page
images in a private folder; ``scan`` says "held for review"."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gateway import cli as gateway_cli
from gateway.store.records import Event, ReceiptRow
from normalizer.tracking import new_tracking_id
from tests.unit.gateway.cli.cli_data import add_complaint, blobs, cli, journal, new_gateway

SECRET_TEXT = "dana perbaikan jembatan dipotong kepala desa"


@pytest.fixture
def gw(tmp_path: Path):
    return new_gateway(tmp_path)


def _receipt(text: str, kind: str = "receipt") -> ReceiptRow:
    return ReceiptRow(dedup_key=f"{kind}-{new_tracking_id()}", kind=kind, channel="sms.kannel",
                      target={"to": "6281200000001"}, body={"text": text})


def test_show_is_readable_with_timeline_receipt_texts_and_zoned_times(gw):
    tid = new_tracking_id()
    add_complaint(gw, {"tracking_id": tid, "body": "Lampu jalan mati di depan SDN 3 sejak seminggu",
                       "reporter": {"phone": "6281200000001"}, "privacy": {"anonymous": False},
                       "category_suggestion": [{"category": "Infrastruktur", "confidence": 0.8}]},
                  receipts=[_receipt(f"LAPOR! No. tiket {tid}. Cek status: CEK {tid} ke 1708")],
                  events=[Event("sms.kannel", "normalized", tid, category="Infrastruktur", at=1764638102.0)])
    done = cli(gw, "show", tid, columns=80)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert not out.lstrip().startswith("{")  # not JSON
    assert f"Complaint {tid}" in out and "Lampu jalan mati" in out and "Infrastruktur" in out
    assert "2026-12-02T08:15:02+07:00 WIB" in out  # the record's received_at (01:15:02 UTC), in service.timezone
    timeline = out.split("Timeline")[1].split("Receipts and replies")[0]
    assert "\n2025-12-02\n" in timeline and "08:15:02" in timeline  # the event's time, zoned, as `log` shows it
    assert "Timeline (1 events, WIB)" in out and "normalized" in out
    assert f"CEK {tid} ke 1708" in out and "receipt via sms.kannel" in out and "pending" in out
    assert "6281200000001" not in out.split("Receipts and replies")[1]  # a receipt's address is never opened
    assert max(len(ln) for ln in out.splitlines()) <= 80


def test_show_at_80_columns_short_times_indented_text_no_trailing_spaces(gw):
    tid = new_tracking_id()
    long_text = " ".join(["Laporan Anda sudah kami terima dan akan diteruskan ke instansi terkait."] * 3)
    add_complaint(gw, {"tracking_id": tid, "body": "Lampu jalan mati"},
                  receipts=[_receipt(long_text)],
                  events=[Event("sms.kannel", "normalized", tid, detail="answer_from_other_contact", at=1764638102.0),
                          Event("sms.kannel", "receipt_sent", tid, at=1764638102.0 + 86400)])
    out = cli(gw, "show", tid, columns=80).stdout
    lines = out.splitlines()
    assert all(len(ln) <= 80 and ln == ln.rstrip() for ln in lines), [ln for ln in lines if ln != ln.rstrip()]
    timeline = out.split("Timeline")[1].split("Receipts and replies")[0]
    assert "+07:00" not in timeline and "\n2025-12-02\n" in timeline and "\n2025-12-03\n" in timeline
    row = next(ln for ln in timeline.splitlines() if "normalized" in ln)
    assert row.startswith("08:15:02 ") and "answer_from_other_contact" in row  # 9 columns for the time, not 25
    receipt = out.split("Receipts and replies")[1].split("Conversation")[0].splitlines()
    text_lines = [ln for ln in receipt if "Laporan" in ln or "instansi" in ln or "terkait" in ln]
    assert len(text_lines) >= 3 and all(ln.startswith("    ") for ln in text_lines)  # wrapped at the indent
    wide = cli(gw, "show", tid, columns=120).stdout.split("Timeline")[1]
    assert "2025-12-02 08:15:02" in wide and "2025-12-03 08:15:02" in wide


def test_show_json_has_iso_times_and_the_texts(gw):
    tid = add_complaint(gw, {"body": "Sampah menumpuk di pasar"}, receipts=[_receipt("No. tiket diterima")])
    done = cli(gw, "show", tid, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["state"] == "normalized" and data["record"]["body"] == "Sampah menumpuk di pasar"
    assert data["record"]["received_at"] == "2026-12-02T08:15:02+07:00"
    (r,) = data["receipts"]
    assert r["text"] == "No. tiket diterima" and r["created_at"].endswith("+07:00")
    assert "target" not in r and "6281200000001" not in done.stdout


def test_show_never_prints_a_confidential_text_nor_an_anonymous_contact(gw):
    secret = add_complaint(gw, {"subject": "[RAHASIA] jembatan", "body": SECRET_TEXT,
                                "privacy": {"confidential": True}}, confidential=True)
    anon = add_complaint(gw, {"body": "Pungli di loket kelurahan", "privacy": {"anonymous": True}}, anonymous=True,
                         receipts=[_receipt("No. tiket")])
    for args in ((secret,), (secret, "--json")):
        out = cli(gw, "show", *args).stdout
        assert secret in out and "jembatan" not in out and "confidential: not shown" in out
    for args in ((anon,), (anon, "--json")):
        out = cli(gw, "show", *args).stdout
        assert anon in out and "6281200000001" not in out
    assert "anonymous: identity sealed in the vault" in cli(gw, "show", anon).stdout


def test_show_refuses_a_bad_id_and_an_unknown_one(gw):
    bad = cli(gw, "show", "12345")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    # an operator's words, not the citizen's ('the number on your receipt'), within 80 columns
    assert "12345: not a tracking ID (it has 10 digits)" in bad.stderr and "your receipt" not in bad.stderr
    assert all(len(line) <= 80 for line in bad.stderr.splitlines())
    unknown = cli(gw, "show", new_tracking_id())
    assert unknown.returncode == 1 and "no complaint" in unknown.stderr


# --- review ---------------------------------------------------------------------------------

def _held_scan(gw, body: str = "Jln rusak di dpn kntr desa, mhn dprbaiki", **extra) -> str:
    store = blobs(gw)
    original = store.put(b"\x89PNG the original upload", "image/png", "surat.png")
    page = store.put(b"\x89PNG the cleaned page", "image/png", "surat-page1.png")
    record = {"channel": "letters.hotfolder", "account": "box", "body": body, "needs_review": ["low_confidence"],
              "ocr": {"engine": "tesseract", "mean_confidence": 41.0, "pages": 1},
              "attachments": [original.model_dump(), page.model_dump()], **extra}
    return add_complaint(gw, record, state="review", outcome="needs_review", receipts=[_receipt("No. tiket")])


def test_review_lists_text_excerpt_and_the_right_page_count(gw):
    tid = _held_scan(gw)
    secret = _held_scan(gw, SECRET_TEXT, privacy={"confidential": True})
    out = cli(gw, "review", columns=160).stdout
    assert tid in out and "Jln rusak di dpn kntr desa" in out
    row = next(ln for ln in out.splitlines() if tid in ln)
    assert row.split("│")[3].strip() == "1"  # pages: the original upload is not a second page
    assert secret in out and "jembatan" not in out  # a confidential text is not shown


def test_review_at_80_columns_every_line_fits_and_names_every_reason(gw):
    _held_scan(gw)
    out = cli(gw, "review", columns=80).stdout
    assert max(len(line) for line in out.splitlines()) <= 80, out
    hints = out.split("decide:", 1)[1]
    for reason in ("unreadable", "not_a_complaint", "incomplete", "duplicate", "out_of_scope", "do_not_notify"):
        assert reason in hints


def test_review_correction_from_a_file_then_approval(gw, tmp_path: Path):
    tid = _held_scan(gw)
    fix = tmp_path / "koreksi.txt"
    fix.write_text("Subject: Jalan rusak\nCategory: Infrastruktur\n\nJalan rusak di depan kantor desa, NIK saya "
                   "3273010101010001, mohon diperbaiki.\n")
    done = cli(gw, "review", "--approve", tid, "--text-file", str(fix))
    assert done.returncode == 0, done.stderr
    assert f"{tid} corrected" in done.stdout and "approved" in done.stdout
    j = journal(gw)
    row = j.complaint_by_tracking(tid)
    j.close()
    record = json.loads(row["record"])
    assert row["state"] == "normalized"  # on its way to the store, corrected
    assert record["body"].startswith("Jalan rusak di depan kantor desa") and record["subject"] == "Jalan rusak"
    assert record["category_suggestion"][0] == {"category": "Infrastruktur", "confidence": 1.0}
    assert "3273010101010001" not in record["body_public"]  # the public text masked again
    assert "review_corrected" in cli(gw, "log", "--tracking", tid).stdout


def test_review_correction_refused_when_not_waiting_or_empty(gw, tmp_path: Path):
    tid = _held_scan(gw)
    empty = tmp_path / "kosong.txt"
    empty.write_text("# only a comment\n\n")
    done = cli(gw, "review", "--edit", tid, "--text-file", str(empty))
    assert done.returncode == 1 and "empty" in done.stderr
    done = cli(gw, "review", "--edit", new_tracking_id(), "--text-file", str(empty))
    assert done.returncode == 1 and "not waiting for review" in done.stderr
    done = cli(gw, "review", "--edit", tid)  # no terminal: no editor
    assert done.returncode == 2 and "--text-file" in done.stderr
    j = journal(gw)
    assert j.complaint_by_tracking(tid)["state"] == "review"
    j.close()


def test_review_edit_opens_the_editor_at_a_terminal(gw, tmp_path: Path, monkeypatch, capsys):
    tid = _held_scan(gw)
    editor = tmp_path / "editor.sh"
    editor.write_text('#!/bin/sh\nsed -i "s/Jln rusak di dpn kntr desa/Jalan rusak depan kantor desa/" "$1"\n')
    editor.chmod(0o755)
    for k, v in gw.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert gateway_cli.main(["review", "--edit", tid]) == 0
    assert f"{tid} corrected" in capsys.readouterr().out
    j = journal(gw)
    assert json.loads(j.complaint_by_tracking(tid)["record"])["body"].startswith("Jalan rusak depan kantor desa")
    j.close()


def test_review_images_go_to_a_private_folder_that_is_removed(gw, tmp_path: Path, monkeypatch, capsys):
    tid = _held_scan(gw)
    for k, v in gw.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.chdir(tmp_path)
    seen: dict[str, object] = {}

    def enter(_prompt: str = "") -> str:  # the reviewer looks, then presses Enter
        folder = next((tmp_path / "tmp").iterdir())
        seen["mode"] = stat.S_IMODE(folder.stat().st_mode)
        seen["files"] = sorted(p.name for p in folder.iterdir())
        return ""

    monkeypatch.setattr("builtins.input", enter)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert gateway_cli.main(["review", "--images", tid]) == 0
    assert seen["mode"] == 0o700 and seen["files"] == [f"{tid}-1.png", f"{tid}-2.png"]
    assert list((tmp_path / "tmp").iterdir()) == []  # removed
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing in the working folder
    capsys.readouterr()
    # not at a terminal and no --out: refused, nothing written
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert gateway_cli.main(["review", "--images", tid]) == 2
    out = tmp_path / "keep"
    assert gateway_cli.main(["review", "--images", tid, "--out", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())


def test_scan_says_held_for_review_for_a_held_scan(gw, tmp_path: Path, monkeypatch, capsys):
    from channels.letters.scan import LettersChannel
    from channels.message import InboundMessage
    from gateway.cli import letters

    held = _held_scan(gw)
    for k, v in gw.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("COLUMNS", "120")
    scan = tmp_path / "surat.png"
    scan.write_bytes(b"\x89PNG")
    monkeypatch.setattr(LettersChannel, "read_file", lambda self, path: InboundMessage(
        channel="letters.scan", account="counter", external_id="sha-1", sender="", text="Jln rusak"))
    monkeypatch.setattr(letters, "_wait_for_tracking", lambda journal, accepted, wait: dict.fromkeys(accepted, held))
    assert gateway_cli.main(["scan", "--wait", "1", str(scan)]) == 0
    out = capsys.readouterr().out
    row = next(ln for ln in out.splitlines() if held in ln)
    assert "held for review" in row and "accepted" not in row


def test_review_reject_keeps_its_reason_and_show_prints_it(gw):
    tid = _held_scan(gw, "Jual pulsa murah hubungi kami")
    assert cli(gw, "review", "--approve", tid, "--reason", "x").returncode == 2  # a reason goes with --reject
    done = cli(gw, "review", "--reject", tid, "--because", "do_not_notify", "--reason", "Bukan pengaduan:   iklan pulsa")
    assert done.returncode == 0 and "rejected" in done.stdout, done.stderr
    j = journal(gw)
    try:
        assert j.complaint_by_tracking(tid)["review_reason"] == "Bukan pengaduan: iklan pulsa"
    finally:
        j.close()
    out = cli(gw, "show", tid, columns=120).stdout
    assert "rejected because" in out and "Bukan pengaduan: iklan pulsa" in out
    assert json.loads(cli(gw, "show", tid, "--json").stdout)["review_reason"] == "Bukan pengaduan: iklan pulsa"
    assert "iklan pulsa" not in cli(gw, "log", "--tracking", tid).stdout  # free text: not in the intake log
