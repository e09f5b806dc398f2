"""Category suggestion over the configured vocabulary."""

import tomllib
from dataclasses import dataclass

import pytest

from normalizer.category import DEFAULT_CATEGORIES_PATH, CategoryModel, roots, suggest_categories

DESIGN_VOCABULARY = {
    "Administrasi Kependudukan", "Administrasi Pendaftaran Online", "Badan Usaha Milik Desa (Bumdes)",
    "Bantuan Siswa Miskin", "BPJS Ketenagakerjaan", "BPJS Kesehatan", "Dampak Lingkungan", "Dana Desa", "Harga BBM",
    "Harga Elpiji", "Kartu Indonesia Pintar", "Kartu Indonesia Sehat", "Pariwisata", "Pemerintahan Desa",
    "Kepolisian", "Layanan Air Minum", "Pelayanan Pos", "Pajak", "Ketertiban Umum", "Pungutan Liar", "Transportasi",
    "Listrik", "Ruang Publik", "Infrastruktur", "Kesehatan", "Pendidikan", "Bantuan Sosial", "Perizinan", "Lainnya",
}  # fmt: skip


@dataclass(frozen=True)
class Case:
    label: str
    text: str
    first: str


CASES = [
    Case("road in SMS shorthand", "Jalan rusak parah di depan SDN 3 Cibeureum, sdh 3 bln tdk diperbaiki", "Infrastruktur"),
    Case("street light", "lampu jln mati sdh seminggu, gelap bgt kalo mlm", "Infrastruktur"),
    Case("flood and drainage", "Tiap hujan banjir krn drainase mampet di perumahan kami", "Infrastruktur"),
    Case("water utility", "Air PDAM tdk mengalir sdh 3 hari di blok C", "Layanan Air Minum"),
    Case("electricity", "listrik padam terus tiap malam, tolong PLN", "Listrik"),
    Case("e-KTP", "e-KTP saya blm jadi2 sdh 1 thn, katanya blangko habis", "Administrasi Kependudukan"),
    Case("family card", "Mau urus kartu keluarga baru di disdukcapil lama sekali", "Administrasi Kependudukan"),
    Case("BPJS health", "Iuran BPJS kesehatan sy sdh dibayar tp kartu msh nonaktif di faskes", "BPJS Kesehatan"),
    Case("BPJS employment", "Klaim JHT BPJS ketenagakerjaan sy blm cair padahal sdh resign 3 bln", "BPJS Ketenagakerjaan"),
    Case("hospital", "Pasien di RSUD ditelantarkan di IGD berjam-jam, dokter tdk ada", "Kesehatan"),
    Case("school", "Guru di SMPN 2 sering tdk masuk kelas, siswa dibiarkan belajar sendiri", "Pendidikan"),
    Case("social aid", "Bantuan PKH dan BPNT tdk sampai ke warga miskin di desa kami", "Bantuan Sosial"),
    Case("illegal levy", "Ada pungli di kantor kelurahan, diminta uang seikhlasnya utk surat", "Pungutan Liar"),
    Case("street vendors", "PKL berjualan di trotoar, pejalan kaki terganggu, mohon satpol PP tertibkan", "Ketertiban Umum"),
    Case("public transport", "Sopir angkot ngetem sembarangan di depan terminal", "Transportasi"),
    Case("rubbish and smell", "Sampah menumpuk di TPS, bau busuk sampai ke rumah warga", "Dampak Lingkungan"),
    Case("police", "Motor saya dicuri, lapor ke polsek tdk ditanggapi", "Kepolisian"),
    Case("LPG", "Gas elpiji 3 kg langka dan harganya naik di pangkalan", "Harga Elpiji"),
    Case("fuel", "SPBU di jalan raya sering kehabisan pertalite", "Harga BBM"),
    Case("tax", "Tagihan PBB saya naik dua kali lipat tanpa pemberitahuan", "Pajak"),
    Case("building permit", "Urus IMB di DPMPTSP sudah 6 bulan belum terbit", "Perizinan"),
    Case("nothing matches", "halo selamat pagi", "Lainnya"),
    Case("empty", "", "Lainnya"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.label)
def test_suggest_categories(case: Case) -> None:
    suggestions = suggest_categories(case.text)
    assert suggestions[0][0] == case.first
    assert 1 <= len(suggestions) <= 3
    confidences = [c for _, c in suggestions]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert sum(confidences) <= 1.0 + 1e-9
    assert confidences == sorted(confidences, reverse=True)


def test_config_covers_the_design_vocabulary() -> None:
    with open(DEFAULT_CATEGORIES_PATH, "rb") as f:
        assert set(tomllib.load(f)["categories"]) == DESIGN_VOCABULARY


def test_model_from_another_file(tmp_path) -> None:
    path = tmp_path / "cats.toml"
    path.write_text(
        'fallback = "Umum"\n[slang]\nsgr = "segera"\n'
        '[categories.Jalan]\nstrong = ["jalan rusak"]\nkeywords = ["aspal"]\n'
        '[categories.Umum]\nkeywords = []\n'
    )
    model = CategoryModel.from_toml(path)
    assert suggest_categories("jln rusak, sgr diaspal", model=model)[0][0] == "Jalan"
    assert suggest_categories("lampu mati", model=model) == [("Umum", 1.0)]
    assert suggest_categories("jalan rusak", top=1, model=model) == [("Jalan", 0.6)]  # 3 / (3 + 2)


@pytest.mark.parametrize(
    ("word", "root"),
    [("diperbaiki", "baik"), ("perbaikan", "baik"), ("pembayaran", "bayar"), ("menyapu", "sapu"),
     ("pungutannya", "pungut"), ("ditertibkan", "tertib"), ("kesehatan", "sehat")],
)  # fmt: skip
def test_light_stemming_reaches_the_root(word: str, root: str) -> None:
    assert root in roots(word)
