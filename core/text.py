"""Safe Telegram HTML: the one place replies are formatted and split.

Rules every handler follows:
- Build replies with `t("Hello {name}", name=user_text)`: the template is translated, every
  argument is HTML-escaped unless it is wrapped in `Html(...)` (already-safe markup we built).
- Send with `core.reply` helpers, which split anything over Telegram's 4096-character limit
  with `split_html`, closing and reopening tags so every part is valid HTML on its own.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from core.i18n import _

TELEGRAM_LIMIT = 4096
# Telegram's HTML mode knows only these tags; anything else we escape.
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}


_DIRTY = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff]")
_C0 = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """`value` without C0 control characters other than tab and line feed (a CR becomes a line feed, a lone
    surrogate U+FFFD). Replies (through `esc`) and the database (storage.sanitize) both use it."""
    if not _DIRTY.search(value):
        return value  # the common case costs one scan
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", _C0.sub("", value))


class Html(str):
    """A string that is already safe Telegram HTML; `t()` and `esc()` leave it alone."""

    __slots__ = ()


def esc(value: object) -> Html:
    """Escape any value for Telegram HTML (None becomes ''); control characters a user typed are dropped."""
    if isinstance(value, Html):
        return value
    if value is None:
        return Html("")
    return Html(html.escape(clean_text(str(value)), quote=False))


def t(template: str, /, **kwargs: object) -> Html:
    """Translate `template` and fill it with escaped arguments."""
    translated = _(template)
    return Html(translated.format(**{k: esc(v) for k, v in kwargs.items()}))


def fill(translated: str, /, **kwargs: object) -> Html:
    """Fill an already translated template (e.g. from ngettext) with escaped arguments."""
    return Html(translated.format(**{k: esc(v) for k, v in kwargs.items()}))


def bold(value: object) -> Html:
    return Html(f"<b>{esc(value)}</b>")


def italic(value: object) -> Html:
    return Html(f"<i>{esc(value)}</i>")


def code(value: object) -> Html:
    return Html(f"<code>{esc(value)}</code>")


def link(url: str, label: object) -> Html:
    return Html(f'<a href="{html.escape(url, quote=True)}">{esc(label)}</a>')


def lines(*parts: object) -> Html:
    """Join escaped parts with newlines, dropping empty ones."""
    return Html("\n".join(esc(p) for p in parts if p not in (None, "")))


def plain_length(text: str) -> int:
    """Length Telegram counts against its limit: the text after entities are parsed."""
    return len(html.unescape(re.sub(r"<[^>]+>", "", text)))


class _Tokens(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tokens: list[tuple[str, str, str]] = []  # (kind, raw, tagname)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", self.get_starttag_text() or f"<{tag}>", tag))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", f"</{tag}>", tag))

    def handle_data(self, data: str) -> None:
        self.tokens.append(("text", data, ""))

    def handle_entityref(self, name: str) -> None:
        self.tokens.append(("entity", f"&{name};", ""))

    def handle_charref(self, name: str) -> None:
        self.tokens.append(("entity", f"&#{name};", ""))


def split_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split HTML into parts of at most `limit` characters each, every part valid on its own.

    Prefers to break at line ends, then at spaces; open tags are closed at the end of a part
    and reopened at the start of the next. Entities are never cut.
    """
    if len(text) <= limit:
        return [text]
    parser = _Tokens()
    parser.feed(text)
    parser.close()
    # Break text tokens into atoms: lines and words, so a cut falls at a natural place.
    atoms: list[tuple[str, str, str]] = []
    for kind, raw, tag in parser.tokens:
        if kind == "text":
            for piece in re.findall(r"[^\n ]*[\n ]?", raw):
                if not piece:
                    continue
                while len(piece) > limit // 2:  # a monstrous word: cut it
                    atoms.append(("text", piece[: limit // 2], ""))
                    piece = piece[limit // 2 :]
                atoms.append(("text", piece, ""))
        else:
            atoms.append((kind, raw, tag))

    parts: list[str] = []
    open_tags: list[tuple[str, str]] = []  # (tagname, raw start tag)
    current = ""
    last_newline = -1  # index in `current` just after the last newline, to prefer line breaks

    def closing() -> str:
        return "".join(f"</{name}>" for name, _raw in reversed(open_tags))

    def reopening() -> str:
        return "".join(raw for _name, raw in open_tags)

    for kind, raw, tag in atoms:
        reserve = len(closing()) + (len(f"</{tag}>") if kind == "start" else 0)
        if current and len(current) + len(raw) + reserve > limit:
            if last_newline > len(current) // 2:
                head, tail = current[:last_newline], current[last_newline:]
                parts.append(head.rstrip("\n") or head)
                current = tail
            else:
                parts.append(current + closing())
                current = reopening()
            last_newline = -1
        current += raw
        if kind == "start":
            open_tags.append((tag, raw))
        elif kind == "end":
            for i in range(len(open_tags) - 1, -1, -1):
                if open_tags[i][0] == tag:
                    del open_tags[i]
                    break
        elif raw.endswith("\n") and not open_tags:
            last_newline = len(current)
    if current.strip():
        parts.append(current)
    return [p for p in parts if p.strip()] or [text[:limit]]
