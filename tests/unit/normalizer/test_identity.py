"""normalizer.identity: the reporter's own name, handle, address and numbers, masked; common words kept."""

import pytest

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
