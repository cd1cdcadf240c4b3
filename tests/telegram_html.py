"""A checker for Telegram's HTML parse mode, written from the Bot API's rules (independent of core.text):
only Telegram's tags, properly nested and closed, the attributes they allow, every <, > and & outside a tag
written as an entity, only the entities Telegram knows, and at most 4096 characters after parsing."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

LIMIT = 4096
TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "tg-emoji",
    "code",
    "pre",
    "blockquote",
}
ENTITIES = {"lt", "gt", "amp", "quot"}


class TelegramHtmlError(ValueError):
    pass


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {k for k, _v in attrs}
        values = dict(attrs)
        if tag not in TAGS:
            self.errors.append(f"tag <{tag}> is not allowed")
        elif tag == "a" and not values.get("href"):
            self.errors.append("<a> without href")
        elif tag == "span" and values.get("class") != "tg-spoiler":
            self.errors.append('<span> must have class="tg-spoiler"')
        elif tag == "tg-emoji" and not values.get("emoji-id"):
            self.errors.append("<tg-emoji> without emoji-id")
        elif tag == "code" and names - {"class"}:
            self.errors.append("<code> with attributes other than class")
        elif tag == "blockquote" and names - {"expandable"}:
            self.errors.append("<blockquote> with unknown attributes")
        elif tag not in {"a", "span", "tg-emoji", "code", "blockquote"} and attrs:
            self.errors.append(f"<{tag}> takes no attributes")
        if self.stack and self.stack[-1] in ("code", "pre") and not (self.stack[-1] == "pre" and tag == "code"):
            self.errors.append(f"<{tag}> inside <{self.stack[-1]}>")
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.errors.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close <{self.stack[-1] if self.stack else ''}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for ch in "<>&":
            if ch in data:
                self.errors.append(f"unescaped {ch!r} in text")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ENTITIES:
            self.errors.append(f"unknown entity &{name};")
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.errors.append("HTML comment")

    def handle_decl(self, decl: str) -> None:
        self.errors.append("declaration")

    def handle_pi(self, data: str) -> None:
        self.errors.append("processing instruction")

    def unknown_decl(self, data: str) -> None:
        self.errors.append("unknown declaration")


def check(text: str) -> str:
    """The plain text of a valid message; raises TelegramHtmlError saying what is wrong."""
    if not text.strip():
        raise TelegramHtmlError("empty message")
    parser = _Checker()
    parser.feed(text)
    parser.close()
    if parser.stack:
        parser.errors.append(f"unclosed <{parser.stack[-1]}>")
    if re.search(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text):
        parser.errors.append("bare & in text")
    plain = "".join(parser.text)
    if len(plain) > LIMIT:
        parser.errors.append(f"{len(plain)} characters after parsing (limit {LIMIT})")
    if parser.errors:
        raise TelegramHtmlError("; ".join(dict.fromkeys(parser.errors)) + f" in {text[:200]!r}")
    return plain


def is_valid(text: str) -> bool:
    try:
        check(text)
    except TelegramHtmlError:
        return False
    return True
