"""A plan's own rating vocabulary, learnt from its key or legend (pure).

Plans score progress in many ways: R/A/G letters or words, 1-4 numbers, their own words ("Secure /
Developing / Emerging"), ticks and crosses, emoji, or a colour alone. Most print a key somewhere: above
the table ("Key: 1 Not started 2 Some progress 3 On track 4 Complete"), beside it, on a sheet or table
of its own ("Rating | Meaning"), below it, or in the rating column's heading ("RAG (1 = on track, 3 = off
track)"). `RatingKey` holds what the key says: each symbol and each colour → the plan's rating code, with
the meaning as written (for the preview). A key's meaning is read by its words first ("Not started" is
Red whatever the number), then by its colour. Code "C" is "complete": Blue when the plan uses Blue.

`key_entries(text)` reads one line of text; `pair_entry(symbol, meaning, fill)` one row of a key table;
`RatingKey.read(text)` splits a rating (and the comment after it) off a cell's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.i18n import _
from plans.rag import _COMPLETE, _norm, parse_rag, rag_from_fill, split_rag_prefix

COMPLETE = "C"
_LEAD = re.compile(
    r"^\s*(?:(?:rag|rating|ratings|status|progress|bragg?)\s*)?(?:key|legend|scale|ratings?|scoring)\b\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
_PART = re.compile(r"^\s*(?P<sym>.{1,24}?)\s*(?:=|:|–|—|\s-\s|→)\s*(?P<meaning>[^=]{2,60}?)\s*$")
_NUMBERED = re.compile(
    r"(?P<sym>\b\d\b|[A-Z]\b)\s*[=:.)\-–—]?\s*(?P<meaning>[A-Za-z][A-Za-z /'’&-]*?)\s*"
    r"(?=[,;]?\s*(?:\b\d\b|\b[A-Z]\b)\s*[=:.)\-–—]?\s*[A-Za-z]|[,;.]?\s*$)"
)
_BARE = re.compile(r"^\s*(?P<sym>[^\w\s]{1,3}|\d{1,2}|[A-Za-z])\s+(?P<meaning>[A-Za-z].{1,59}?)\s*$")  # "🟢 On track"
_SEPARATORS = re.compile(r"\s*(?:[,;|\n]|\s{2,}|\t)\s*")


def meaning_code(meaning: str, fill: str | None = None) -> str | None:
    """What a key's meaning says, as a code: by its words, else by its colour."""
    word = _norm(meaning)
    if not word:
        return rag_from_fill(fill)
    if word in _COMPLETE or any(word.startswith(w + " ") for w in _COMPLETE):
        return COMPLETE
    code = parse_rag(meaning)
    if code is None:
        code, _rest = split_rag_prefix(meaning)
    if code is None:
        head = word.split(" ")[0]
        if head in ("completed", "complete", "achieved", "done"):
            return COMPLETE
    return code or rag_from_fill(fill)


def _symbol(text: str) -> str:
    return _norm(text) or text.strip().lower()


@dataclass
class RatingKey:
    """Symbols and colours → the plan's codes (R, A, G, B, or C for complete)."""

    tokens: dict[str, str] = field(default_factory=dict)  # normalised symbol or word → code
    fills: dict[str, str] = field(default_factory=dict)  # RGB → code
    entries: list[tuple[str, str, str]] = field(default_factory=list)  # (symbol or #colour, meaning, code)
    where: list[str] = field(default_factory=list)  # where it was found, for the preview
    lines: set[tuple[int, int]] = field(default_factory=set)  # (table index, source line) of its rows

    def __bool__(self) -> bool:
        return bool(self.tokens or self.fills)

    def add(self, symbol: str, meaning: str, code: str, fill: str | None = None) -> None:
        sym = _symbol(symbol) if symbol else ""
        if sym and sym not in self.tokens:
            self.tokens[sym] = code
            self.entries.append((symbol.strip(), meaning.strip(), code))
        if fill and fill not in self.fills:
            self.fills[fill] = code
            if not sym:
                self.entries.append((f"#{fill}", meaning.strip(), code))
        word = _norm(meaning)
        if word and word not in self.tokens and parse_rag(meaning) is None:
            self.tokens[word] = code  # the meaning written out in a cell means the same

    def merge(self, other: RatingKey) -> None:
        for sym, code in other.tokens.items():
            self.tokens.setdefault(sym, code)
        for fill, code in other.fills.items():
            self.fills.setdefault(fill, code)
        for entry in other.entries:
            sym = entry[0]
            if sym.startswith("#"):
                clash = self.fills.get(sym[1:], entry[2]) != entry[2]
            else:
                clash = self.tokens.get(_symbol(sym), entry[2]) != entry[2]
            if entry not in self.entries and not clash:
                self.entries.append(entry)
        self.where += [w for w in other.where if w not in self.where]
        self.lines |= other.lines

    @property
    def codes(self) -> set[str]:
        return set(self.tokens.values()) | set(self.fills.values())

    def describe(self) -> str:
        """'1 = Not started (R), 2 = Some progress (A) …' for the preview (symbols as written)."""
        return ", ".join(f"{s} = {m} ({c})" for s, m, c in self.entries[:12])

    def read(self, text: str) -> tuple[str | None, str]:
        """(code, comment) when `text` is a symbol of the key or starts with one and a separator."""
        stripped = text.strip()
        word = _symbol(stripped)
        if word in self.tokens:
            return self.tokens[word], ""
        lower = stripped.lower()
        for sym in sorted(self.tokens, key=len, reverse=True):
            if not lower.startswith(sym):
                continue
            rest = stripped[len(sym) :]
            alnum = sym[-1:].isalnum()
            m = re.match(r"^(?:\s*[–—:)]|\s+-|\s*\.(?=\s))\s*" if alnum else r"^\s*[–—\-:]?\s*", rest)
            if m is None or (alnum and not m.group(0).strip()) or not rest[m.end() :].strip():
                continue
            return self.tokens[sym], rest[m.end() :].strip()
        return None, stripped


def key_entries(text: str) -> list[tuple[str, str, str]]:
    """The (symbol, meaning, code) entries a line of text spells out, when it reads as a key: two or more
    entries with different codes. '' when it is not a key."""
    if not text or len(text) > 400:
        return []
    body = _LEAD.sub("", text, count=1)
    labelled = body != text
    entries: list[tuple[str, str, str]] = []
    parts = [p for p in _SEPARATORS.split(body) if p.strip()]
    for part in parts:
        m = _PART.match(part) or _BARE.match(part)
        if m is None:
            continue
        sym, meaning = m.group("sym").strip(), m.group("meaning").strip()
        if len(sym.split()) > 3:
            continue
        code = meaning_code(meaning)
        if code is None and meaning_code(sym) is not None and len(meaning.split()) <= 3:
            sym, meaning, code = meaning, sym, meaning_code(sym)  # "Not started = 1"
        if code is not None:
            entries.append((sym, meaning, code))
    if len(entries) < 2:
        entries = []
        for m in _NUMBERED.finditer(body):
            code = meaning_code(m.group("meaning"))
            if code is not None:
                entries.append((m.group("sym"), m.group("meaning").strip(), code))
    codes = {c for _s, _m, c in entries}
    if len(entries) >= 2 and len(codes) >= 2 and (labelled or len(entries) >= 3 or len(parts) <= len(entries) + 1):
        return entries
    return []


def pair_entry(symbol: str, meaning: str, fill: str | None) -> tuple[str, str, str] | None:
    """One row of a key table ('3 | On track', '✓ | Complete', a coloured cell and its meaning)."""
    symbol, meaning = symbol.strip(), meaning.strip()
    if not meaning or len(symbol) > 24 or len(meaning) > 80 or len(symbol.split()) > 3:
        return None
    code = meaning_code(meaning, None)
    if code is None:
        code = rag_from_fill(fill) if fill else None
    if code is None:
        return None
    return symbol, meaning, code


def parse_key_option(text: str) -> dict[str, str]:
    """The key a coordinator gives ("1=R, 2=A, 3=G, 4=B", "✓=green; ~=amber", "4=complete"): symbol → code.
    Raises ValueError (translated) for a part it cannot read."""
    out: dict[str, str] = {}
    for part in re.split(r"[,;\n]", text):
        if not part.strip():
            continue
        symbol, sep, meaning = part.partition("=")
        code = meaning_code(meaning) if sep else None
        if not symbol.strip() or code is None:
            raise ValueError(
                _('{part!r}: write the key as "symbol=rating", for example "1=R, 2=A, 3=G, 4=complete".').replace(
                    "{part!r}", repr(part.strip())
                )
            )
        out[symbol.strip()] = code
    if not out:
        raise ValueError(_('Write the key as "symbol=rating", for example "1=R, 2=A, 3=G, 4=complete".'))
    return out


def key_from_overrides(given: dict[str, str]) -> RatingKey:
    key = RatingKey()
    for symbol, code in given.items():
        key.add(symbol, symbol, code)
    if key:
        key.where.append(_("as you gave it"))
    return key
