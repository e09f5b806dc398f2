"""The printable answer letter: the agency's answer (or a status change) to a complaint that came by letter.

An A4 letter in the form of an Indonesian official letter (letterhead, place and date, Nomor / Lampiran /
Perihal, "Kepada Yth." with the reporter's name and address from the letter, the body, the closing and the
signature block), for staff to print and post. Indonesian by default, English too. The body is the
gateway's update text; nothing here decides what it says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

from channels.citizen_time import DEFAULT_TIMEZONE, citizen_date
from channels.letters.receipt_pdf import format_tracking_id

FONT_DIRS = (Path("/usr/share/fonts/truetype/liberation"), Path("/usr/share/fonts/truetype/dejavu"))
# Times-compatible first (what official letters are set in), then DejaVu (full Unicode), then the core font
SERIF_FACES = (("LiberationSerif", "LiberationSerif-Regular.ttf", "LiberationSerif-Bold.ttf"),
               ("DejaVuSerif", "DejaVuSerif.ttf", "DejaVuSerif-Bold.ttf"))
MAX_ADDRESS_LINES = 6
MAX_BODY_CHARS = 20_000

WORDS = {
    "id": {
        "head": "LAYANAN ASPIRASI DAN PENGADUAN ONLINE RAKYAT (LAPOR!)",
        "sub": "Sistem Pengelolaan Pengaduan Pelayanan Publik Nasional (SP4N)",
        "number": "Nomor", "attachment": "Lampiran", "subject": "Perihal", "none": "-",
        "about": "Tanggapan atas Pengaduan No. Tiket {tid}",
        "to": "Kepada Yth.", "sir": "Bapak/Ibu {name}", "nobody": "Bapak/Ibu Pelapor", "there": "di tempat",
        "close": "Demikian kami sampaikan. Atas perhatian Bapak/Ibu, kami ucapkan terima kasih.",
        "regards": "Hormat kami,", "signer": "Pengelola Layanan Pengaduan",
        "printed": "Surat ini dicetak oleh sistem dan sah tanpa tanda tangan.",
        "keep": "Sebutkan nomor tiket {tid} setiap kali menanggapi atau menanyakan pengaduan ini.",
        "page": "Halaman {n}", "ticket": "No. tiket {tid}",
    },
    "en": {
        "head": "PUBLIC ASPIRATIONS AND COMPLAINTS SERVICE (LAPOR!)",
        "sub": "National Public Service Complaint Management System (SP4N)",
        "number": "Number", "attachment": "Enclosure", "subject": "Subject", "none": "-",
        "about": "Answer to complaint, ticket no. {tid}",
        "to": "To", "sir": "{name}", "nobody": "The reporter", "there": "",
        "close": "Thank you for your attention.",
        "regards": "Yours sincerely,", "signer": "Complaints Service",
        "printed": "This letter is printed by the system and valid without a signature.",
        "keep": "Please quote ticket number {tid} whenever you answer or ask about this complaint.",
        "page": "Page {n}", "ticket": "Ticket no. {tid}",
    },
}


@dataclass(frozen=True)
class Addressee:
    """Whom the letter goes to, as the citizen's letter gave it (either may be missing)."""

    name: str | None = None
    address: str | None = None

    def lines(self, words: dict[str, str]) -> list[str]:
        name = " ".join((self.name or "").split())[:120]
        out = [words["sir"].format(name=name) if name else words["nobody"]]
        out += [" ".join(line.split())[:200] for line in (self.address or "").splitlines()
                if line.strip()][:MAX_ADDRESS_LINES]
        if words["there"]:
            out.append(words["there"])
        return out


def _fonts() -> tuple[str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    registered = set(pdfmetrics.getRegisteredFontNames())
    for face, regular, bold in SERIF_FACES:
        if face in registered:
            return face, f"{face}-Bold"
        for folder in FONT_DIRS:
            if (folder / regular).exists() and (folder / bold).exists():
                try:
                    pdfmetrics.registerFont(TTFont(face, str(folder / regular)))
                    pdfmetrics.registerFont(TTFont(f"{face}-Bold", str(folder / bold)))
                except Exception:  # a damaged font file: the next face
                    continue
                return face, f"{face}-Bold"
    return "Times-Roman", "Times-Bold"  # Latin-1 only, but a letter still prints


def render_answer_pdf(
    path: str | Path,
    tracking_id: str,
    update_id: str,
    body: str,
    to: Addressee,
    when: datetime,
    *,
    language: str = "id",
    place: str | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Path:
    """Write the answer letter to ``path`` (written beside it, then renamed: a half-written PDF never shows)."""
    from reportlab.lib.enums import TA_JUSTIFY, TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    words = WORDS.get(language[:2], WORDS["id"])
    regular, bold = _fonts()
    path = Path(path)
    tid = format_tracking_id(tracking_id)
    text = ParagraphStyle("text", fontName=regular, fontSize=11.5, leading=16)
    para = ParagraphStyle("para", parent=text, alignment=TA_JUSTIFY, spaceAfter=7)
    small = ParagraphStyle("small", parent=text, fontSize=9, leading=12)

    def p(s: str, style: ParagraphStyle = text) -> Paragraph:
        return Paragraph(escape(s).replace("\n", "<br/>"), style)

    date_line = citizen_date(when, language, timezone)
    meta = Table(
        [[p(words["number"]), p(":"), p(f"LAPOR/{tracking_id}/{update_id}")],
         [p(words["attachment"]), p(":"), p(words["none"])],
         [p(words["subject"]), p(":"), Paragraph(f"<b>{escape(words['about'].format(tid=tid))}</b>",
                                                 ParagraphStyle("b", parent=text, fontName=bold))]],
        colWidths=[24 * mm, 4 * mm, 142 * mm], hAlign="LEFT",
    )
    meta.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                              ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    # place and date on their own line at the right, above Nomor / Lampiran / Perihal (as official letters are
    # laid out): beside them, the subject had 92 mm and the ticket number broke over two lines in DejaVu Serif
    dated = p(f"{place}, {date_line}" if place else date_line, ParagraphStyle("dated", parent=text, alignment=TA_RIGHT))
    story: list = [dated, Spacer(1, 4 * mm), meta, Spacer(1, 9 * mm), p(words["to"])]
    story += [p(line) for line in to.lines(words)]
    story.append(Spacer(1, 8 * mm))
    for chunk in body[:MAX_BODY_CHARS].replace("\r", "").split("\n\n"):
        if chunk.strip():
            story.append(p(chunk.strip(), para))
    story.append(p(words["close"], para))
    signature = Table([[p(words["regards"])], [p(words["signer"] + ",")], [Spacer(1, 14 * mm)],
                       [Paragraph("<u>LAPOR!</u>", ParagraphStyle("s", parent=text, fontName=bold))],
                       [p(words["printed"], small)]],
                      colWidths=[70 * mm], hAlign="RIGHT")
    signature.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [Spacer(1, 6 * mm), KeepTogether(signature), Spacer(1, 8 * mm), p(words["keep"].format(tid=tid), small)]

    def page(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        w, h = A4
        canvas.saveState()
        canvas.setFont(bold, 14)
        canvas.drawCentredString(w / 2, h - 20 * mm, words["head"])
        canvas.setFont(regular, 10.5)
        canvas.drawCentredString(w / 2, h - 26 * mm, words["sub"])
        canvas.setFont(regular, 9)
        canvas.drawCentredString(w / 2, h - 31 * mm, "lapor.go.id  ·  SMS 1708")
        canvas.setLineWidth(1.6)
        canvas.line(20 * mm, h - 34 * mm, w - 20 * mm, h - 34 * mm)
        canvas.setLineWidth(0.5)
        canvas.line(20 * mm, h - 35.2 * mm, w - 20 * mm, h - 35.2 * mm)
        canvas.setFont(regular, 8.5)
        canvas.drawString(20 * mm, 12 * mm, words["ticket"].format(tid=tid))
        canvas.drawRightString(w - 20 * mm, 12 * mm, words["page"].format(n=doc.page))
        canvas.restoreState()

    tmp = path.with_name(f".{path.name}.part")
    doc = SimpleDocTemplate(str(tmp), pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=42 * mm,
                            bottomMargin=22 * mm, title=f"{words['about'].format(tid=tracking_id)}",
                            author="LAPOR!", lang=language[:2])
    doc.build(story, onFirstPage=page, onLaterPages=page)
    tmp.replace(path)
    return path
