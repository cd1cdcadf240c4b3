"""Message entities as Telegram computes them for text a user typed, for the offline updates (tests, console).

Telegram, not the client, finds the commands in a message, and where a command ends decides what the bot
reads: `/grant, 12345 admin` carries a `bot_command` entity of length 6 (`/grant`), `/cmd@OtherBot foo` one
of length 13. The rules here follow Telegram's own parser (tdlib's MessageEntity.cpp, `match_bot_commands`
and `match_mentions`): a command is `/` then 1 to 64 ASCII letters, digits or `_`, optionally `@` and a 3 to
32 character username of the same characters; it may not follow a word character, `/`, `<` or `>`, and may
not be followed by one (unless the username is there, in which case the username is dropped). Offsets and
lengths are in UTF-16 code units, as the Bot API counts them.

Besides commands: mentions, hashtags, e-mail addresses and `http(s)://` links, found more simply than
Telegram does (enough for the bot, which reads only commands, to see realistic entity lists)."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_COMMAND_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?![\w@])"
)
_URL = re.compile(r"(?<![\w/])https?://[^\s<>\"«»]+", re.IGNORECASE)
_URL_TRAILING = ".:;,('?!`"


def is_word_character(ch: str) -> bool:
    """Telegram's word characters: letters, numbers and the underscore."""
    return ch == "_" or unicodedata.category(ch)[0] in "LN"


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _run(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _COMMAND_CHARS:
        pos += 1
    return pos


def bot_commands(text: str) -> list[tuple[int, int]]:
    """(start, end) in code points of every bot command in `text`."""
    found: list[tuple[int, int]] = []
    pos = 0
    while True:
        pos = text.find("/", pos)
        if pos < 0:
            return found
        if pos > 0 and (is_word_character(text[pos - 1]) or text[pos - 1] in "/<>"):
            pos += 1
            continue
        begin = pos
        pos = _run(text, pos + 1)
        end = pos
        if not 1 <= end - begin - 1 <= 64:
            continue
        has_mention = False
        if pos < len(text) and text[pos] == "@":
            mention_end = _run(text, pos + 1)
            if 3 <= mention_end - pos - 1 <= 32:
                end = mention_end
                has_mention = True
            pos = mention_end
        if pos < len(text) and (is_word_character(text[pos]) or text[pos] in "/<>"):
            if not has_mention:
                continue
            end = _run(text, begin + 1)  # the username is not part of the command after all
        found.append((begin, end))


def mentions(text: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    pos = 0
    while True:
        pos = text.find("@", pos)
        if pos < 0:
            return found
        if pos > 0 and is_word_character(text[pos - 1]):
            pos += 1
            continue
        begin = pos
        pos = _run(text, pos + 1)
        if 2 <= pos - begin - 1 <= 32 and not (pos < len(text) and is_word_character(text[pos])):
            found.append((begin, pos))


def hashtags(text: str) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for match in re.finditer(r"(?<![\w#])#(\w+)(?!#)", text):
        if any(unicodedata.category(ch)[0] == "L" for ch in match.group(1)):
            found.append(match.span())
    return found


def _spans(pattern: re.Pattern[str], text: str, strip: str = "") -> list[tuple[int, int]]:
    out = []
    for match in pattern.finditer(text):
        begin, end = match.span()
        while strip and end > begin and text[end - 1] in strip:
            end -= 1
        out.append((begin, end))
    return out


def entities(text: str) -> list[dict[str, Any]]:
    """The Bot API `entities` of a typed message, sorted by offset, in UTF-16 code units."""
    spans: list[tuple[int, int, str]] = []
    spans += [(b, e, "bot_command") for b, e in bot_commands(text)]
    spans += [(b, e, "url") for b, e in _spans(_URL, text, _URL_TRAILING)]
    spans += [(b, e, "email") for b, e in _spans(_EMAIL, text)]
    spans += [(b, e, "mention") for b, e in mentions(text)]
    spans += [(b, e, "hashtag") for b, e in hashtags(text)]
    taken: list[tuple[int, int]] = []
    out = []
    for begin, end, kind in sorted(spans, key=lambda s: (s[0], -s[1])):
        if any(begin < t_end and t_begin < end for t_begin, t_end in taken):
            continue  # entities never overlap: the first (longest) found wins
        taken.append((begin, end))
        out.append({"type": kind, "offset": utf16_len(text[:begin]), "length": utf16_len(text[begin:end])})
    return out
