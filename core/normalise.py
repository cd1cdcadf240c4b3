"""Text normalisation for matching names of people and schools.

Both the directory keys and the user's query pass through the same functions, so every
spelling of a school word ends up as one canonical token:

    "St. Thomas' C of E Prim Sch"  ->  "st thomas ce primary"
    "Saint Thomas Church of England Primary School" -> "st thomas ce primary"
    "Mrs Zoë O'Brien-Smith"        ->  "zoe obrien smith"   (person_tokens drops the title)

Rules: lower case; accents stripped (NFKD, combining marks dropped); apostrophes removed inside
and at the end of words ("St Thomas'" = "St Thomas", "O'Brien" = "OBrien"); "&" is "and"; any other
punctuation separates words; school abbreviations collapse to one form; the word "school" and "the"
are dropped from school keys (they tell nothing apart).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

TITLES = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "dr",
        "prof",
        "professor",
        "sir",
        "dame",
        "rev",
        "revd",
        "reverend",
        "fr",
        "father",
        "sister",
        "lady",
        "lord",
    }
)

# Multi-word phrases first (longest first), each a tuple of normalised words -> canonical token(s).
_PHRASES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("church", "of", "england"), ("ce",)),
    (("c", "of", "e"), ("ce",)),
    (("roman", "catholic"), ("rc",)),
    (("junior", "and", "infant"), ("ji",)),
    (("junior", "and", "infants"), ("ji",)),
    (("juniors", "and", "infants"), ("ji",)),
    (("j", "and", "i"), ("ji",)),
    (("junior", "infant"), ("ji",)),
    (("junior", "infants"), ("ji",)),
    (("infant", "and", "junior"), ("ji",)),
    (("c", "e"), ("ce",)),
    (("r", "c"), ("rc",)),
    (("j", "i"), ("ji",)),
    (("primary", "school"), ("primary",)),
)

# Single words -> canonical word.
_WORDS: dict[str, str] = {
    "saint": "st",
    "cofe": "ce",
    "catholic": "rc",
    "prim": "primary",
    "sch": "school",
    "schl": "school",
    "acad": "academy",
    "academie": "academy",
    "jnr": "junior",
    "juniors": "junior",
    "inf": "infant",
    "infants": "infant",
    "sec": "secondary",
    "&": "and",
    "nurs": "nursery",
    "coll": "college",
    "mt": "mount",
}

# Words that say little about which school it is: they weigh less in matching.
GENERIC = frozenset(
    {
        "st",
        "ce",
        "rc",
        "primary",
        "secondary",
        "junior",
        "infant",
        "ji",
        "school",
        "academy",
        "college",
        "and",
        "of",
        "the",
        "nursery",
        "community",
        "high",
        "church",
        "first",
        "middle",
        "county",
        "voluntary",
        "aided",
        "controlled",
        "foundation",
        "trust",
        "federation",
        "free",
        "special",
        "centre",
        "unit",
        "upper",
        "lower",
        "grammar",
        "va",
        "vc",
        "at",
        "in",
        "on",
        "methodist",
        "girls",
        "boys",
        "learning",
        "studio",
        "technology",
        "sports",
        "arts",
        "business",
        "enterprise",
        "specialist",
        "ltd",
        "upon",
        "with",
        "pru",
        "alternative",
        "provision",
        "sixth",
        "form",
        "all",
        "through",
    }
)
# Dropped from school keys altogether.
SCHOOL_NOISE = frozenset({"school", "the"})

_APOSTROPHES = "'\u2019\u2018\u02bc\u00b4`"
_APOS_RE = re.compile("[" + re.escape(_APOSTROPHES) + "]")
_NON_WORD_RE = re.compile(r"[^a-z0-9&]+")
_AMP_RE = re.compile(r"&")


_SPECIAL = str.maketrans(
    {
        "\u00df": "ss",
        "\u00f8": "o",
        "\u00d8": "o",
        "\u00e6": "ae",
        "\u00c6": "ae",
        "\u0153": "oe",
        "\u0152": "oe",
        "\u0131": "i",
        "\u0142": "l",
        "\u0141": "l",
        "\u00f0": "d",
        "\u00d0": "d",
        "\u00fe": "th",
        "\u00de": "th",
    }
)


@lru_cache(maxsize=65536)
def _fold_cached(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text.translate(_SPECIAL))
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower()
    text = _APOS_RE.sub("", text)
    text = _AMP_RE.sub(" & ", text)
    text = _NON_WORD_RE.sub(" ", text)
    return " ".join(text.split())


def fold(text: str) -> str:
    """Lower-case, strip accents and apostrophes, turn other punctuation into spaces, collapse spaces."""
    if not text:
        return ""
    return _fold_cached(str(text)[:2000])


# Long school words whose slips are corrected before abbreviations collapse ("Church of Engalnd").
_SPELLFIX = (
    "saint",
    "england",
    "catholic",
    "roman",
    "church",
    "junior",
    "infant",
    "infants",
    "primary",
    "school",
    "academy",
    "nursery",
    "secondary",
    "college",
    "community",
    "foundation",
    "voluntary",
)
_KNOWN = frozenset(_SPELLFIX) | frozenset(_WORDS)


@lru_cache(maxsize=65536)
def _spellfix(word: str) -> str:
    if len(word) < 5 or word in _KNOWN or not word.isalpha():
        return word
    best = process.extractOne(word, _SPELLFIX, scorer=OSA.normalized_similarity, score_cutoff=0.8)
    return best[0] if best is not None else word


_PHRASES_BY_FIRST: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
for _phrase, _repl in _PHRASES:
    _PHRASES_BY_FIRST.setdefault(_phrase[0], []).append((_phrase, _repl))


def _apply_phrases(words: list[str]) -> list[str]:
    if not any(w in _PHRASES_BY_FIRST for w in words):
        return words
    out: list[str] = []
    i = 0
    n = len(words)
    while i < n:
        for phrase, repl in _PHRASES_BY_FIRST.get(words[i], ()):
            k = len(phrase)
            if tuple(words[i : i + k]) == phrase:
                out.extend(repl)
                i += k
                break
        else:
            out.append(words[i])
            i += 1
    return out


@lru_cache(maxsize=65536)
def _tokens_cached(text: str) -> tuple[str, ...]:
    words = _apply_phrases([_spellfix(w) for w in fold(text).split()])
    # a second pass catches phrases formed by word canonicalisation ("jnr & inf")
    words = _apply_phrases([_WORDS.get(w, w) for w in words])
    return tuple(words)


def tokens(text: str) -> list[str]:
    """Canonical words of any text: folded, with school abbreviations collapsed."""
    if not text or len(text) > 1000:
        text = (text or "")[:1000]
    return list(_tokens_cached(text))


def school_tokens(name: str) -> list[str]:
    """Canonical words of a school name, without the noise words 'school' and 'the'."""
    words = tokens(name)
    kept = [w for w in words if w not in SCHOOL_NOISE]
    return kept or words


def person_tokens(text: str) -> list[str]:
    """Words of a person's name (folded, no school abbreviations), titles dropped (a lone title is kept)."""
    words = [w for w in fold(text).split() if w != "&"]
    kept = [w for w in words if w not in TITLES]
    return kept or words


def strip_titles(words: list[str]) -> tuple[list[str], str | None]:
    """Drop leading title words; return the rest and the first title seen (for a tie-break)."""
    title = None
    rest = list(words)
    while len(rest) > 1 and rest[0] in TITLES:
        title = title or rest[0]
        rest.pop(0)
    return rest, title


def normalise(text: str) -> str:
    """One canonical string for `text` (used as a dictionary key and for exact comparisons)."""
    return " ".join(tokens(text))


def normalise_school(name: str) -> str:
    return " ".join(school_tokens(name))


def normalise_person(text: str) -> str:
    return " ".join(person_tokens(text))


def title_key(title: str | None) -> str | None:
    """'Mrs.' -> 'mrs'; None when it is not a known title."""
    if not title:
        return None
    word = fold(title).replace(" ", "")
    return word if word in TITLES else None
