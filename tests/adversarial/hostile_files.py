"""Small files that are expensive to read: what an attacker attaches or drops into the hot folder."""

from __future__ import annotations

import io
import zlib

from PIL import Image


def flate_bomb_pdf(tokens: int = 3_000_000) -> bytes:
    """A one-page PDF whose content stream inflates to ``tokens`` path operators (a few MB from tens of KB)."""
    content = zlib.compress(b"0 0 m 1 1 l S\n" * tokens, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def huge_g4_tiff(pages: int = 30, side: int = 7700) -> bytes:
    """``pages`` blank bilevel pages of ``side``² pixels, CCITT G4: small on disk, gigabytes decoded."""
    page = Image.new("1", (side, side), 1)
    buf = io.BytesIO()
    page.save(buf, format="TIFF", compression="group4", save_all=True, append_images=[page] * (pages - 1),
              dpi=(300, 300))
    return buf.getvalue()
