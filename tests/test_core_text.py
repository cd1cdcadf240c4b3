"""Safe HTML: escaping, translation hooks and splitting long replies into valid parts."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import TELEGRAM_LIMIT, Html, bold, esc, split_html, t

ALLOWED = {"b", "i", "u", "s", "a", "code", "pre", "blockquote", "strong", "em"}


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        assert tag in ALLOWED, tag
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, (tag, self.stack)
        self.stack.pop()


def assert_valid(part: str) -> None:
    checker = _Checker()
    checker.feed(part)
    checker.close()
    assert checker.stack == []
    assert len(part) <= TELEGRAM_LIMIT
    # no bare '<' or '&' that Telegram would reject
    stripped = part
    for tag in ALLOWED:
        stripped = stripped.replace(f"<{tag}>", "").replace(f"</{tag}>", "")
    assert "<" not in stripped.split("<a href")[0] or "<a href" in part


def test_t_escapes_arguments_not_template() -> None:
    assert t("Hello <b>{name}</b>", name="<script>&") == "Hello <b>&lt;script&gt;&amp;</b>"
    assert esc(Html("<b>x</b>")) == "<b>x</b>"
    assert bold("a<b") == "<b>a&lt;b</b>"


def test_short_text_is_one_part() -> None:
    assert split_html("hello") == ["hello"]


def test_long_lines_split_at_line_ends() -> None:
    text = "\n".join(f"<b>Line {i}</b> " + "x" * 50 for i in range(400))
    parts = split_html(text)
    assert len(parts) > 1
    for part in parts:
        assert_valid(part)
    assert "".join(p.replace("\n", "") for p in parts) == text.replace("\n", "")  # cut only at line ends


def test_a_tag_spanning_the_cut_is_closed_and_reopened() -> None:
    text = "<b>" + ("word " * 2000) + "</b>"
    parts = split_html(text)
    assert len(parts) >= 3
    for part in parts:
        assert part.startswith("<b>") and part.endswith("</b>")
        assert_valid(part)


def test_entities_are_not_cut() -> None:
    text = esc("&<>" * 3000)
    for part in split_html(text):
        assert_valid(part)
        assert not part.endswith("&") and not part.endswith("&l")


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=0, max_size=12000))
def test_any_escaped_text_splits_into_valid_parts(raw: str) -> None:
    text = bold("Title") + "\n" + esc(raw)
    for part in split_html(text):
        assert_valid(part)


@pytest.mark.parametrize("limit", [50, 200, 4096])
def test_limit_respected(limit: int) -> None:
    text = "\n".join(bold(f"heading {i}") + " " + esc("é & ü " * 20) for i in range(100))
    for part in split_html(text, limit=limit):
        assert len(part) <= limit
