"""Technical values in a clerk's words: a held scan's reasons, its account, file sizes, receipt kinds and states.

The pipeline keeps its reasons in English (the CLI and the log show them so); the console says them in the page's
language and keeps the original beside for operators. A value it has no words for is shown as it is.
"""

from __future__ import annotations

import re

from gateway.console.i18n import state_label

_REASONS: list[tuple[re.Pattern[str], tuple[str, str]]] = [
    (re.compile(r"page (\d+): blank"), ("Halaman {0} kosong", "Page {0} is blank")),
    (re.compile(r"page (\d+): looks like noise, not text"),
     ("Halaman {0} berisi bintik atau noda, bukan tulisan", "Page {0} holds specks or smudges, not writing")),
    (re.compile(r"page (\d+): OCR timed out"),
     ("Halaman {0}: pembacaan teks terlalu lama dan dihentikan", "Page {0}: reading its text took too long")),
    (re.compile(r"page (\d+): no readable text"),
     ("Halaman {0}: tidak ada tulisan yang terbaca", "Page {0}: no writing could be read")),
    (re.compile(r"page (\d+): low OCR confidence \((\d+) < (\d+)\)"),
     ("Halaman {0}: tulisan sulit dibaca mesin (keyakinan {1}%, perlu {2}%)",
      "Page {0}: the writing is hard for the machine to read ({1}% sure, {2}% needed)")),
    (re.compile(r"no complaint text found"), ("Isi pengaduan tidak ditemukan", "No complaint text was found")),
    # the return path's (issue 15): a BALAS/INFO/reply the gateway would not post as the reporter's answer
    (re.compile(r"follow_up_of_unknown"),
     ("Menjawab nomor tiket yang tidak dikenal atau milik pelapor lain: ditahan, bukan jawaban pelapor",
      "Answers a ticket number that is unknown or someone else's: held, not the reporter's answer")),
    (re.compile(r"follow_up_id_invalid"),
     ("Nomor tiket dalam BALAS/INFO tidak sah: seluruh pesan menjadi pengaduan baru",
      "The ticket number in BALAS/INFO is not valid: the whole message became a new complaint")),
    (re.compile(r"no_substance"), ("Isinya terlalu sedikit untuk ditindaklanjuti", "Too little text to act on")),
    (re.compile(r"empty mail"), ("Surel tanpa isi", "An email with no text")),
    (re.compile(r"waiting_for_details"), ("Menunggu rincian dari pelapor", "Waiting for the reporter's details")),
]
_BLANK = re.compile(r"page (\d+): blank")
_ACCOUNTS = {"counter": ("loket", "counter"), "box": ("kotak pengaduan", "complaint box")}
_CHANNELS = {"letters.scan": ("Surat (pindaian)", "Letter (scan)"),
             "letters.hotfolder": ("Surat (folder pindaian)", "Letter (scan folder)"),
             "letters.upload": ("Surat (unggahan)", "Letter (upload)"),
             "desk.walkin": ("Loket: datang langsung", "Desk: walk-in"),
             "desk.phone": ("Loket: telepon", "Desk: phone"),
             "desk.callcentre": ("Pusat panggilan", "Call centre")}
_KINDS = {"receipt": ("Tanda terima", "Receipt"), "held": ("Pemberitahuan ditahan untuk diperiksa", "Held notice"),
          "reply": ("Balasan", "Reply"), "update": ("Kabar tindak lanjut", "Update"),
          "rejection": ("Pemberitahuan: tidak dapat diproses", "Notice: cannot be processed"),
          "details": ("Permintaan rincian", "Request for details"), "forward": ("Penerusan", "Forward"),
          "citizen_response": ("Jawaban warga", "Citizen's answer")}
_RECEIPT_STATES = {"queued": ("Dalam antrean", "Queued"), "sending": ("Sedang dikirim", "Sending"),
                   "sent": ("Terkirim", "Sent"), "delivered": ("Sampai", "Delivered"),
                   "printed": ("Dicetak", "Printed"), "failed": ("Gagal", "Failed"),
                   "retrying": ("Dicoba lagi", "Retrying"), "suppressed": ("Tidak dikirim", "Not sent"),
                   "pending": ("Dalam antrean", "Queued"), "held": ("Ditahan sampai ditinjau", "Held until reviewed"),
                   "cancelled": ("Dibatalkan", "Cancelled"),
                   "rate_limited": ("Tidak dikirim (terlalu banyak dalam satu jam)", "Not sent (too many in one hour)"),
                   "unsure": ("Belum pasti terkirim (menunggu laporan kirim)", "Not sure it went (waiting for a report)")}
# what a peer reported about a message we sent: Kannel's DLR, WhatsApp's and Twilio's statuses, a mail's bounce
_DELIVERY = {"delivered": ("sampai ke penerima", "delivered"), "read": ("sudah dibaca", "read"),
             "accepted": ("diterima operator", "accepted by the operator"),
             "buffered": ("menunggu di operator", "waiting at the operator"),
             "queued": ("menunggu di operator", "waiting at the operator"), "sent": ("dikirim operator", "sent on"),
             "failed": ("gagal sampai", "not delivered"), "undelivered": ("gagal sampai", "not delivered"),
             "rejected": ("ditolak operator", "refused by the operator"),
             "bounce": ("surel ditolak server penerima (bounce)", "mail bounced"),
             "auto_reply": ("dijawab otomatis (misalnya sedang cuti)", "answered automatically (e.g. out of office)")}
_RESPONSE_STATES = {"held": ("Ditahan (terlalu banyak dalam satu jam)", "Held (too many in one hour)"),
                    "dead_letter": ("Gagal diteruskan", "Forward gave up"), "rejected": ("Ditolak", "Rejected")}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1 if lang == "en" else 0]


def reason_words(reason: object, lang: str) -> str:
    """One review reason in words; '' when there are none for it (show the reason itself)."""
    text = str(reason or "")
    for pattern, pair in _REASONS:
        m = pattern.fullmatch(text)
        if m:
            return _pick(pair, lang).format(*m.groups())
    return ""


def blank_pages(reasons: object) -> set[int]:
    """The page numbers the reasons call blank (their cleaned image is all white: not worth showing)."""
    out = set()
    for r in reasons if isinstance(reasons, list) else []:
        m = _BLANK.fullmatch(str(r))
        if m:
            out.add(int(m.group(1)))
    return out


def page_number(filename: object) -> int | None:
    """The page a cleaned page image is of (``<stem>-page<N>.png``), else None (the original file)."""
    m = re.search(r"-page(\d+)\.png$", str(filename or ""))
    return int(m.group(1)) if m else None


def account_words(account: object, lang: str) -> str:
    pair = _ACCOUNTS.get(str(account))
    return _pick(pair, lang) if pair else str(account or "")


def channel_words(channel: object, lang: str) -> str:
    pair = _CHANNELS.get(str(channel))
    return _pick(pair, lang) if pair else ""


def kind_words(kind: object, lang: str) -> str:
    pair = _KINDS.get(str(kind))
    return _pick(pair, lang) if pair else str(kind or "")


def receipt_state_words(state: object, lang: str) -> str:
    pair = _RECEIPT_STATES.get(str(state))
    return _pick(pair, lang) if pair else (state_label(state, lang) or str(state or ""))


def delivery_words(status: object, lang: str) -> str:
    """A delivery report's status in words; '' when there are none for it (the page shows the code alone)."""
    pair = _DELIVERY.get(str(status or ""))
    return _pick(pair, lang) if pair else ""


def response_state_words(state: object, lang: str) -> str:
    """A citizen's answer's state (its ``held`` is the hourly cap, not a review)."""
    pair = _RESPONSE_STATES.get(str(state))
    return _pick(pair, lang) if pair else receipt_state_words(state, lang)


def human_size(size: object, lang: str) -> str:
    """Bytes as B, KB or MB (1024 steps), one decimal, the decimal mark of the page's language."""
    try:
        n = float(size)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(size or "")
    if n < 1024:
        return f"{n:.0f} B"
    value, unit = (n / 1024, "KB") if n < 1024 * 1024 else (n / (1024 * 1024), "MB")
    text = f"{value:.1f}"
    return f"{text.replace('.', ',') if lang != 'en' else text} {unit}"
