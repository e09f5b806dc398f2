"""normalizer.identity: the reporter's own name, handle, address and numbers, masked; common words kept."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from normalizer.identity import IdentityMasker, mask_self_named

INDAH = IdentityMasker(names=["Indah Permata Sari"], handles=["@indah_ps"], phones=["6281234567890"],
                       addresses=["Jl. Melati No. 5 RT 03"])  # fmt: skip
BUDI = IdentityMasker(names=["Budi Santoso"])


@pytest.mark.parametrize(
    ("masker", "given", "expected"),
    [
        (BUDI, "Sy Budi, warga RT 3", "Sy [NAMA], warga RT 3"),
        (BUDI, "Hormat saya,\nBUDI.SANTOSO", "Hormat saya,\n[NAMA]"),
        (BUDI, "pak santoso\u200b ketua RT", "pak [NAMA]\u200b ketua RT"),
        (BUDI, "Вudi melapor", "[NAMA] melapor"),  # Cyrillic В
        (INDAH, "Saya Indah, warga sini", "Saya [NAMA], warga sini"),
        (INDAH, "Indah Sari melapor", "[NAMA] [NAMA] melapor"),
        (INDAH, "Salam,\nIndah", "Salam,\n[NAMA]"),
        (INDAH, "hub @indah_ps atau 812-3456-7890", "hub [AKUN] atau [NO. HP]"),
        (INDAH, "rumah di jl melati no 5 rt 03 banjir", "rumah di [ALAMAT] banjir"),
    ],
)
def test_identity_is_masked(masker: IdentityMasker, given: str, expected: str) -> None:
    assert masker.mask(given) == expected


@pytest.mark.parametrize(
    ("masker", "given"),
    [
        (INDAH, "Taman kota tidak lagi indah, ada permata di sana"),  # common words, not used as the name
        (INDAH, "Masjid Agung dan pasar Sari Rejeki"),
        (BUDI, "budiman datang, santosonya tidak"),  # longer words that only start like a part
        (IdentityMasker(names=["Dr. H. Ir"]), "Dr. Ir. H. hadir"),  # titles alone are never a name
    ],
)
def test_common_words_stay(masker: IdentityMasker, given: str) -> None:
    assert masker.mask(given) == given


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("nama saya budi santoso, warga rt 3", "nama saya [NAMA], warga rt 3"),
        ("Perkenalkan, saya Siti Aminah dari desa X", "Perkenalkan, saya [NAMA] dari desa X"),
        ("Hormat saya,\nAhmad Fauzi\nRT 05", "Hormat saya,\n[NAMA]\nRT 05"),
        ("nama saya M. Yusuf Hasan tinggal di sini", "nama saya [NAMA] tinggal di sini"),
        ("a.n. Joko Widodo.", "a.n. [NAMA]."),
        ("Salam sejahtera bapak", "Salam sejahtera bapak"),
        ("ini nama jalan", "ini nama jalan"),
    ],
)
def test_self_introductions(given: str, expected: str) -> None:
    assert mask_self_named(given) == expected


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("saya Budi Santoso NIK [NIK]", "saya [NAMA] NIK [NIK]"),
        ("Selamat pagi, saya Rudi mau melapor", "Selamat pagi, saya [NAMA] mau melapor"),
        ("ANONIM saya Budi Santoso, jalan rusak", "ANONIM saya [NAMA], jalan rusak"),
        ("saya budi santoso warga rt 3", "saya [NAMA] warga rt 3"),
        ("sy budi nik [NIK] mau lapor", "sy [NAMA] nik [NIK] mau lapor"),
        ("jalan rusak. Saya Budi.", "jalan rusak. Saya [NAMA]."),
        ("SAYA BUDI", "SAYA [NAMA]"),
        ("[ANONIM] saya Budi Santoso mau lapor", "[ANONIM] saya [NAMA] mau lapor"),  # a mail subject's tag
        ("jalan rusak (saya Budi Santoso warga rt 3) parah", "jalan rusak (saya [NAMA] warga rt 3) parah"),
    ],
)
def test_a_bare_saya_before_a_name(given: str, expected: str) -> None:
    assert mask_self_named(given) == expected


@pytest.mark.parametrize(
    "text",
    [
        "saya mau melapor, lampu jalan mati",
        "Saya Mau Melapor Jalan Rusak Di Depan Rumah Saya",  # Title Case: a capital says nothing
        "SAYA MAU LAPOR JALAN RUSAK DI DEPAN RUMAH",
        "rumah saya Jalan Merdeka no 5 banjir",  # "saya" of a thing, not its subject
        "di desa saya Sukamaju banjir sejak kemarin",
        "Saya sangat kecewa dengan pelayanan Dinas",
        "saya sudah lapor tapi tidak ada tanggapan",
        "saya kecewa dengan pelayanan puskesmas",
        "Saya Indah melihat taman kota",  # a common word is not taken for a name on a capital alone
    ],
)
def test_a_bare_saya_before_other_words_keeps_them(text: str) -> None:
    assert mask_self_named(text) == text


@given(st.lists(st.sampled_from([*"sayBUDI .,\n\u0430", "saya ", "Saya ", "pagi ", " nik ", "warga ", "Budi"]),
                max_size=30).map("".join))
def test_masking_a_self_introduction_only_replaces_spans_of_the_text(text: str) -> None:
    """What is not masked is the text as written, in order: nothing is added, moved or dropped."""
    pieces = mask_self_named(text).split("[NAMA]")
    assert text.startswith(pieces[0]) and text.endswith(pieces[-1])
    pos = len(pieces[0])
    for piece in pieces[1:]:
        found = text.find(piece, pos + 1) if piece else pos + 1
        assert found > pos, (text, pieces)  # a masked span is never empty
        pos = found + len(piece)
    assert pos <= len(text)
