"""PII: masking for body_public, detection for public replies, contact normalization."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from normalizer.pii import find_pii, mask_pii, normalize_email, normalize_phone


def kinds(s: str) -> list[str]:
    return [hit.kind for hit in find_pii(s)]


@dataclass(frozen=True)
class Case:
    label: str
    fn: Callable[[str], Any]
    given: str
    expected: Any


CASES = [
    # mask_pii: what must go
    Case("NIK after its label", mask_pii, "NIK saya 3201234567890001 tolong dicek", "NIK saya [NIK] tolong dicek"),
    Case("bare 16 digits are an NIK", mask_pii, "atas nama Siti 3273015708900002 belum terdaftar", "atas nama Siti [NIK] belum terdaftar"),
    Case("NIK grouped with spaces", mask_pii, "ktp 3201 2345 6789 0001", "ktp [NIK]"),
    Case("NIK grouped with dots as printed", mask_pii, "NIK: 32.01.23.456789.0003.", "NIK: [NIK]."),
    Case("KK number by its label", mask_pii, "No KK: 3201 2345 6789 0002, NIK 3201234567890003", "No KK: [NO. KK], NIK [NIK]"),
    Case("Kartu Keluarga spelled out", mask_pii, "kartu keluarga 3201234567890004 hilang", "kartu keluarga [NO. KK] hilang"),
    Case("KKS card number", mask_pii, "No. KKS 6013 0112 3456 7890 belum cair", "No. KKS [NO. KKS] belum cair"),
    Case("BPJS card number after its label", mask_pii, "no bpjs 0001234567890 ditolak RS", "no bpjs [NO. KARTU] ditolak RS"),
    Case("mobile 08 with dashes", mask_pii, "hubungi 0812-3456-7890 ya", "hubungi [NO. HP] ya"),
    Case("mobile +62 with spaces", mask_pii, "WA +62 812 3456 7891", "WA [NO. HP]"),
    Case("mobile 62 compact", mask_pii, "sms ke 6281234567892.", "sms ke [NO. HP]."),
    Case("mobile 08 compact at sentence end", mask_pii, "nomor HP saya 081234567890.", "nomor HP saya [NO. HP]."),
    Case("landline only after a label", mask_pii, "telp: 021 7654321", "telp: [NO. HP]"),
    Case("email", mask_pii, "balas ke budi.santoso+lapor@gmail.com ya", "balas ke [EMAIL] ya"),
    Case("email in caps and a sub-domain", mask_pii, "Email: WARGA@Mail.Desa.ID.", "Email: [EMAIL]."),
    Case("several in one message", mask_pii, "Sy Budi, NIK 3201234567890001, HP 081234567890, budi@x.id",
         "Sy Budi, NIK [NIK], HP [NO. HP], [EMAIL]"),
    # mask_pii: what must stay
    Case("money stays", mask_pii, "dipungut Rp 150.000 dan Rp1.500.000", "dipungut Rp 150.000 dan Rp1.500.000"),
    Case("huge money with dots stays", mask_pii, "kerugian Rp 1.500.000.000.000.000", "kerugian Rp 1.500.000.000.000.000"),
    Case("money after a label stays", mask_pii, "biaya KTP 15.000.000 katanya", "biaya KTP 15.000.000 katanya"),
    Case("dates and times stay", mask_pii, "tgl 08.12.2023 jam 10.00 dan 08-12-2023, 08122023",
         "tgl 08.12.2023 jam 10.00 dan 08-12-2023, 08122023"),
    Case("RT/RW stay", mask_pii, "di RT 05/RW 03 dan RT 005 RW 012", "di RT 05/RW 03 dan RT 005 RW 012"),
    Case("short numbers stay", mask_pii, "SDN 3, 2 orang, jalan no 45, kode pos 40135", "SDN 3, 2 orang, jalan no 45, kode pos 40135"),
    Case("LAPOR's own masking stays", mask_pii, "nik [***************]860005", "nik [***************]860005"),
    Case("a tracking id stays", mask_pii, "INFO 8082656733 korban bertambah", "INFO 8082656733 korban bertambah"),
    # find_pii kinds, for the social channel's public/DM decision
    Case("kinds in text order", kinds, "HP 081234567890 NIK 3201234567890001 a@b.id", ["phone", "nik", "email"]),
    Case("no PII", kinds, "Jalan rusak di depan SDN 3, Rp 150.000", []),
    # normalize_phone
    Case("08 form", normalize_phone, "0812-3456-7890", "6281234567890"),
    Case("+62 with spaces", normalize_phone, "+62 812 3456 7890", "6281234567890"),
    Case("62 compact (Kannel sender)", normalize_phone, "6281234567890", "6281234567890"),
    Case("+62 (0) habit", normalize_phone, "+62 (0)812 3456 7890", "6281234567890"),
    Case("0062 prefix", normalize_phone, "0062 812 3456 7890", "6281234567890"),
    Case("Jakarta landline", normalize_phone, "(021) 765-4321", "62217654321"),
    Case("another country kept", normalize_phone, "+1 415 555 0100", "14155550100"),
    Case("too short", normalize_phone, "12345", None),
    Case("not a number", normalize_phone, "nomor saya", None),
    Case("empty", normalize_phone, "", None),
    # normalize_email
    Case("display name and caps", normalize_email, "Budi <Budi.S@Gmail.COM>", "budi.s@gmail.com"),
    Case("mailto", normalize_email, "mailto:warga@desa.id", "warga@desa.id"),
    Case("no domain dot", normalize_email, "a@b", None),
    Case("not an address", normalize_email, "bukan email", None),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_pii(case: Case) -> None:
    assert case.fn(case.given) == case.expected


def test_spans_point_at_the_data() -> None:
    text = "NIK 3201234567890001 / HP 0812 3456 7890"
    assert [text[h.start : h.end] for h in find_pii(text)] == ["3201234567890001", "0812 3456 7890"]
    assert find_pii(text)[0].span == (4, 20)
