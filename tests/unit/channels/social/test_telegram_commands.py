"""Telegram's ``/cmd@<bot>`` (a command addressed to one bot in a group) is cut to ``/cmd`` by the channel."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import MessageEntity

from channels.social.telegram import without_bot_suffix


def command(offset: int, length: int) -> MessageEntity:
    return MessageEntity(MessageEntity.BOT_COMMAND, offset, length)


@pytest.mark.parametrize(("text", "entities", "expected"), [
    ("/start@lapor1708_bot", [command(0, 20)], "/start"),
    ("/start", [command(0, 6)], "/start"),
    ("/cek@lapor1708_bot 4820193746", [command(0, 18)], "/cek 4820193746"),
    ("/rahasia@bot /start@bot", [command(0, 12), command(13, 10)], "/rahasia /start"),
    # offsets count UTF-16 units: the emoji before the command is two
    ("🙏 /cek@LaporBot 4820193746", [command(3, 13)], "🙏 /cek 4820193746"),
    ("/start@lapor1708_bot", [], "/start@lapor1708_bot"),  # not marked a command: left as written
    ("kirim ke budi@contoh.id", [MessageEntity(MessageEntity.EMAIL, 9, 14)], "kirim ke budi@contoh.id"),
    # hostile offsets: past the end, negative, or inside a surrogate pair leave the text as it came
    ("/start@x", [command(0, 99)], "/start"),
    ("/x@b", [command(-3, 5)], "/x@b"),
    ("/x@b🙏", [command(0, 5)], "/x@b🙏"),
    ("@/x", [command(0, 3)], "@/x"),
])
def test_without_bot_suffix(text: str, entities: list[MessageEntity], expected: str) -> None:
    assert without_bot_suffix(text, entities) == expected


@given(st.text(), st.lists(st.tuples(st.integers(-5, 60), st.integers(0, 60)), max_size=4))
def test_any_text_and_entities_give_text_without_surrogates_and_never_longer(text: str, spans: list[tuple[int, int]]) -> None:
    out = without_bot_suffix(text, [command(o, n) for o, n in spans])
    out.encode("utf-8")  # a lone surrogate would raise: never one made by a cut
    assert len(out.encode("utf-16-le")) <= len(text.encode("utf-16-le"))
