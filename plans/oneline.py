"""The one-line progress update (pure): `/update 1.3 amber Survey sent to all heads, 12 replies so far`.

`parse_update_line(text, refs, rag_set)` reads the text after the command:

- the action's reference first ("1.3", "c)", "2.10"; "action 1.3" and "1.3:" are fine too), matched to
  the plan's references with forgiving normalisation ("C" finds "c)", "1,3" finds "1.3"); a reference
  that is not in the plan gives an error with "did you mean" suggestions;
- then the rating: "a", "amber", "🟠", "on track" … (read by `plans.rag`), or "no change" / "nc" / "-"
  for a comment without a change of rating; a missing rating is reported (`rating_given=False`) so the
  chat can ask for it;
- the rest is the comment (may be empty).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from plans.rag import RAG_CODES, parse_rag, parse_rag_set, split_rag_prefix

NO_CHANGE_WORDS = ("no change", "no-change", "nochange", "nc", "n/c", "-", "–", "—", "same", "unchanged")
_STRIP = " \t.,;:!-–—"


@dataclass(frozen=True)
class ParsedUpdate:
    ref: str  # the plan's own reference, e.g. "1.3" or "c)"
    rag: str | None  # R/A/G/B, or None for "no change" (or not given)
    comment: str
    rating_given: bool = True  # False: the line had no rating and no "no change"


@dataclass(frozen=True)
class OneLineError:
    """Why a line could not be read. kind: empty | unknown_ref | bad_rating."""

    kind: str
    ref: str = ""
    suggestions: tuple[str, ...] = field(default_factory=tuple)
    rating: str = ""  # the rating word that is not in the plan's set (bad_rating)


def normalise_ref(ref: str) -> str:
    """A comparison key: '1.3' '1.3.' '1,3' → '1.3'; 'c)' '(c)' 'C' → 'c'; '2.10' stays '2.10'."""
    key = ref.strip().lower()
    key = re.sub(r"^(?:action|act|ref|no\.?|#)\s*", "", key)
    key = key.strip("()[]{}:;. ")
    key = re.sub(r"\s*[,\-:/]\s*(?=\d)", ".", key)  # "1,3" / "1-3" / "1:3" → "1.3"
    key = re.sub(r"\s+", "", key)
    return key


def match_ref(token: str, refs: Iterable[str]) -> str | None:
    """The plan's reference that `token` means, or None."""
    refs = list(refs)
    if token in refs:
        return token
    key = normalise_ref(token)
    if not key:
        return None
    hits = [r for r in refs if normalise_ref(r) == key]
    return hits[0] if len(hits) == 1 else None


def suggest_refs(token: str, refs: Sequence[str], limit: int = 3) -> tuple[str, ...]:
    """'Did you mean' candidates for a reference that is not in the plan."""
    key = normalise_ref(token)
    if not key or not refs:
        return ()
    keys = {r: normalise_ref(r) for r in refs}
    out: list[str] = []
    # "13" for "1.3", "110" for "1.10": the same characters without the separators.
    bare = key.replace(".", "")
    out.extend(r for r, k in keys.items() if k.replace(".", "") == bare and r not in out)
    # Transposed or mistyped digits: fuzzy on the normalised keys.
    for _choice, score, ref in process.extract(key, keys, scorer=fuzz.ratio, limit=limit + 2):
        if score >= 60 and ref not in out:
            out.append(ref)
    return tuple(out[:limit])


def split_ref(text: str) -> tuple[str, str]:
    """First token (the reference) and the rest; 'action 1.3 amber' takes 'action 1.3'."""
    text = text.strip()
    m = re.match(r"(?i)^(?:action|ref)\s+", text)
    prefix = ""
    if m:
        prefix, text = text[: m.end()], text[m.end() :]
    parts = text.split(None, 1)
    if not parts:
        return prefix.strip(), ""
    token = parts[0]
    rest = parts[1] if len(parts) > 1 else ""
    # "1.3:" or "1.3," glued to the reference; keep "c)" intact.
    token = token.rstrip(":,;")
    return token, rest


def _no_change(rest: str) -> tuple[bool, str]:
    low = rest.lower()
    for word in sorted(NO_CHANGE_WORDS, key=len, reverse=True):
        if low == word or (low.startswith(word) and (len(low) == len(word) or not low[len(word)].isalnum())):
            return True, rest[len(word) :].lstrip(_STRIP).strip()
    return False, rest


def parse_update_line(
    text: str, refs: Sequence[str], rag_set: str | Iterable[str] | None = None
) -> ParsedUpdate | OneLineError:
    """Read '1.3 amber Survey sent to all heads' against a plan's references and RAG set."""
    token, rest = split_ref(text or "")
    if not token:
        return OneLineError("empty")
    ref = match_ref(token, refs)
    if ref is None:
        return OneLineError("unknown_ref", ref=token, suggestions=suggest_refs(token, refs))
    rest = rest.strip()
    if not rest:
        return ParsedUpdate(ref=ref, rag=None, comment="", rating_given=False)
    no_change, after = _no_change(rest)
    if no_change:
        return ParsedUpdate(ref=ref, rag=None, comment=after)
    codes = parse_rag_set(rag_set)
    rag, comment = split_rag_prefix(rest, codes)
    if rag is not None:
        return ParsedUpdate(ref=ref, rag=rag, comment=comment)
    # A real rating outside the plan's set ("blue" on an R/A/G plan) is an error, not a comment.
    any_rag, _comment = split_rag_prefix(rest, RAG_CODES)
    first = rest.split(None, 1)[0]
    if any_rag is not None and any_rag not in codes and parse_rag(first) is not None:
        return OneLineError("bad_rating", ref=ref, rating=first)
    return ParsedUpdate(ref=ref, rag=None, comment=rest, rating_given=False)


def split_named_line(text: str, rag_set: str | Iterable[str] | None = None) -> tuple[str, str] | None:
    """("Recruit School Direct", "amber 12 places") for "Recruit School Direct amber 12 places": an action
    named by its words instead of its reference, then a rating (or "no change"); None when no rating
    follows a name of at least one word."""
    words = (text or "").split()
    codes = parse_rag_set(rag_set)
    for i in range(1, min(len(words), 12)):
        rest = " ".join(words[i:])
        if split_rag_prefix(rest, codes)[0] is not None or _no_change(rest)[0]:
            return " ".join(words[:i]), rest
    return None


def actions_named(name: str, actions: Sequence[tuple[int, str, str]], limit: int = 3) -> list[tuple[int, str, str]]:
    """The actions (id, ref, text) whose text `name` stands for, best first: all of its words in the text
    (typos forgiven), the clear winner alone when one scores well above the rest."""
    if len(name.strip()) < 4 or not actions:
        return []
    scored = sorted(
        (
            (fuzz.token_set_ratio(name, text, processor=_fold), fuzz.partial_ratio(name.lower(), text.lower()), a)
            for a in actions
            for text in (a[2],)
        ),
        key=lambda x: (x[0], x[1]),
        reverse=True,
    )
    good = [x for x in scored if x[0] >= 85 or x[1] >= 90]
    if not good:
        return []
    if len(good) > 1 and good[0][:2] > good[1][:2] and good[0][0] - good[1][0] >= 10:
        return [good[0][2]]
    return [x[2] for x in good[:limit]]


def _fold(text: str) -> str:
    return re.sub(r"[^\w\s]", " ", text.lower())
