"""The words of an update for the citizen: the agency's answer, a request for details or a status change.

Worded from the ``update_<style>`` sections of ``config/templates/<lang>.toml`` (sms, email, chat, letter),
in the receipts' language. Every text names the tracking ID outside the agency's words. An SMS stays in
the GSM-7 alphabet when the answer allows it (typographic quotes, dashes and accents folded), and at most
:data:`SMS_MAX_PARTS` concatenated parts: a longer answer is cut at a word and ends with where the full
answer is read.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from channels.sms.gsm import is_gsm7, sms_parts
from gateway.worker.templates import Templates

CHAT_MAX_UNITS = 4096  # Telegram's and WhatsApp's limit for one message (Telegram counts UTF-16 units)
SMS_MAX_PARTS = 4  # 612 GSM-7 characters or 268 UCS-2 ones: one message on the phone, four on the bill
MAX_STATUS = 60  # a status name; the store's own words for an unknown one are cut there
MAX_TEXT = 20_000  # what of an answer is kept at all (a store bug must not make a megabyte message)

_FOLD = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u2026": "...", "\u2022": "-", "\u00b7": "-", "\t": " ", "\u00a0": " ", "\u2007": " ", "\u202f": " ",
    "\u2009": " ", "\u200a": " ", "\u2002": " ", "\u2003": " ", "\u200b": "", "\u200c": "", "\u200d": "",
    "\ufeff": "", "\u2028": "\n", "\u2029": "\n", "\r": "",
})  # fmt: skip
_CONTROLS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class UpdateText:
    text: str
    subject: str | None = None


def clean(text: str) -> str:
    """The agency's words as a message may carry them: no control or bidi characters, no lone surrogates."""
    # Not normalizer.text.clean_text: that one readies a citizen's text for the record (spaces collapsed, NFC);
    # these words go out to a phone as the agency laid them out, folded towards GSM-7 and stripped of bidi.
    return _CONTROLS.sub("", text[:MAX_TEXT].translate(_FOLD)).strip()


def gsm_fold(text: str) -> str:
    """GSM-7 when the text allows it: accents the alphabet lacks are dropped (``ā`` → ``a``), letters it has
    kept (``é``); a text with anything else (emoji, other scripts) is returned as it is, for UCS-2."""
    if is_gsm7(text):
        return text
    out = []
    for ch in text:
        if is_gsm7(ch):
            out.append(ch)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if not base or not is_gsm7(base):
            return text
        out.append(base)
    return "".join(out)


class Render:
    """A template with everything but the agency's words filled in."""

    def __init__(self, template: str, values: dict[str, str]) -> None:
        self.template, self.values = template, values

    def __call__(self, text: str) -> str:
        return self.template.format(**self.values, text=text)


def fit_sms(render: Render, text: str, more: str, max_parts: int = SMS_MAX_PARTS) -> str:
    """``render(text)`` within ``max_parts`` SMS; when the answer is too long, the longest start of it cut at
    a word that fits with ``more`` (where to read the rest) after it."""
    return fit(render, text, more, lambda message: sms_parts(message) <= max_parts)


def fit_chat(render: Render, text: str, more: str, max_units: int = CHAT_MAX_UNITS) -> str:
    """``render(text)`` within one chat message (UTF-16 units, as Telegram counts), cut as :func:`fit_sms`."""
    return fit(render, text, more, lambda message: len(message.encode("utf-16-le", "surrogatepass")) // 2 <= max_units)


def fit(render: Render, text: str, more: str, fits: Callable[[str], bool]) -> str:
    whole = render(text)
    if fits(whole):
        return whole
    lo, hi = 0, len(text)  # the longest prefix length that fits, by bisection (a message grows with its text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(render(text[:mid].rstrip() + more)):
            lo = mid
        else:
            hi = mid - 1
    cut = text[:lo]
    space = cut.rfind(" ")
    if space >= lo * 2 // 3:  # a word boundary near the end: do not split a word
        cut = cut[:space]
    return render(cut.rstrip() + more)


class UpdateTexts:
    def __init__(self, templates: Templates) -> None:
        self.templates = templates

    def template(self, style: str, key: str) -> str:
        data = self.templates.data
        section = data.get(f"update_{style}") or data["update_chat"]
        return section.get(key) or data["update_chat"][key]

    def status_name(self, status: str) -> str:
        """The status in the citizen's words; one the store made up is shown as it came, on one clean line."""
        return " ".join(clean(self.templates.status_name(status)).split())[:MAX_STATUS]

    def render(self, style: str, kind: str, tracking_id: str, status: str | None, text: str | None) -> UpdateText:
        """The message for one update (``kind``: response, request_details or status) in one channel style."""
        key = kind if kind in ("response", "request_details") else "status"
        words = clean(text or "")
        if key != "status" and not words:
            key = "status"  # an answer with no words tells what changed
        values = {"tracking_id": tracking_id, "status": self.status_name(status or "received")}
        render = Render(self.template(style, key), values)
        subject = Render(self.template("email", "subject"), values)("") if style == "email" else None
        if style == "chat":  # Telegram and WhatsApp take 4096 characters, an X DM 10,000: one message each
            return UpdateText(fit_chat(render, words, Render(self.template("sms", "more"), values)("")))
        if style != "sms":
            return UpdateText(render(words), subject)
        sms_render = Render(gsm_fold(self.template("sms", key)), {k: gsm_fold(v) for k, v in values.items()})
        more = gsm_fold(Render(self.template("sms", "more"), values)(""))
        return UpdateText(fit_sms(sms_render, gsm_fold(words), more))
