"""The catalogue of specialisms (what system leaders can help with), with the words people use for them.

`canonical("mathmatics") == "mathematics"`, `canonical_many("SEND and pupil premium, maths")
== ["send", "pupil premium", "mathematics"]`. Matching is on folded text (see core.normalise)
and forgives typos in words of four letters or more; very short aliases ("pe", "re", "pp") must be
typed exactly.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from core.i18n import N_
from core.normalise import fold

# canonical name -> aliases (all folded: lower case, no punctuation). The canonical name is an alias too.
CATALOGUE: dict[str, tuple[str, ...]] = {
    "mathematics": ("maths", "math", "numeracy", "mastery", "mathematics mastery"),
    "english": ("literacy", "reading", "writing", "oracy", "spelling", "grammar", "spag", "gps"),
    "phonics": ("early reading", "synthetic phonics"),
    "early years": ("eyfs", "early years foundation stage", "nursery", "reception", "ey"),
    "send": (
        "sen",
        "special educational needs",
        "special educational needs and disabilities",
        "inclusion",
        "sendco",
        "senco",
        "special needs",
        "autism",
        "asd",
    ),
    "assessment": ("data", "tracking", "moderation", "assessment for learning", "afl"),
    "behaviour": ("behavior", "attendance", "exclusions", "behaviour and attendance"),
    "leadership of cpd": (
        "cpd",
        "professional development",
        "continuing professional development",
        "staff development",
        "coaching",
    ),
    "itt and mentoring": (
        "itt",
        "mentoring",
        "ect",
        "nqt",
        "initial teacher training",
        "early career teachers",
        "early career framework",
        "ecf",
        "teacher training",
        "mentor",
    ),
    "pupil premium": ("pp", "disadvantaged", "disadvantage", "closing the gap", "pupil premium grant", "ppg"),
    "governance": ("governors", "governing body", "nlg", "trustees"),
    "safeguarding": ("child protection", "dsl", "designated safeguarding lead"),
    "curriculum": ("curriculum design", "curriculum development", "wider curriculum"),
    "science": ("stem", "biology", "chemistry", "physics"),
    "computing": ("ict", "computer science", "digital", "online safety"),
    "modern languages": ("mfl", "languages", "french", "spanish", "german", "modern foreign languages"),
    "pe": ("physical education", "sport", "sports", "pe and sport"),
    "art": ("art and design", "design", "dt", "design and technology"),
    "music": ("music education",),
    "re": ("religious education", "rs", "religious studies"),
    "geography": ("geog",),
    "history": ("hist",),
    "school business management": (
        "sbm",
        "finance",
        "business management",
        "school business manager",
        "budget",
        "hr",
        "procurement",
    ),
    "school improvement": ("school to school support", "improvement", "ofsted", "inspection"),
    "eal": ("english as an additional language",),
    "mental health": ("wellbeing", "well being", "pshe", "rshe", "mental health and wellbeing"),
    "teaching and learning": ("pedagogy", "t and l", "tandl", "quality first teaching", "teaching"),
}

# Display names (translated at use with `_()`), where the canonical key is not good English on its own.
LABELS: dict[str, str] = {
    "mathematics": N_("Mathematics"),
    "english": N_("English"),
    "phonics": N_("Phonics"),
    "early years": N_("Early years"),
    "send": N_("SEND"),
    "assessment": N_("Assessment"),
    "behaviour": N_("Behaviour and attendance"),
    "leadership of cpd": N_("Leadership of CPD"),
    "itt and mentoring": N_("ITT and mentoring"),
    "pupil premium": N_("Pupil premium"),
    "governance": N_("Governance"),
    "safeguarding": N_("Safeguarding"),
    "curriculum": N_("Curriculum"),
    "science": N_("Science"),
    "computing": N_("Computing"),
    "modern languages": N_("Modern languages"),
    "pe": N_("PE and sport"),
    "art": N_("Art and design"),
    "music": N_("Music"),
    "re": N_("RE"),
    "geography": N_("Geography"),
    "history": N_("History"),
    "school business management": N_("School business management"),
    "school improvement": N_("School improvement"),
    "eal": N_("EAL"),
    "mental health": N_("Mental health and wellbeing"),
    "teaching and learning": N_("Teaching and learning"),
}

PHASE_ALIASES: dict[str, str] = {
    "nursery": "nursery",
    "ey": "nursery",
    "early years": "nursery",
    "primary": "primary",
    "prim": "primary",
    "ks1": "primary",
    "ks2": "primary",
    "infant": "primary",
    "infants": "primary",
    "junior": "primary",
    "juniors": "primary",
    "middle": "middle",
    "secondary": "secondary",
    "sec": "secondary",
    "ks3": "secondary",
    "ks4": "secondary",
    "high": "secondary",
    "all through": "all-through",
    "allthrough": "all-through",
    "through": "all-through",
    "special": "special",
    "sen school": "special",
    "pru": "pru",
    "ap": "pru",
    "alternative provision": "pru",
    "16 plus": "16-plus",
    "16": "16-plus",
    "post 16": "16-plus",
    "sixth form": "16-plus",
    "ks5": "16-plus",
    "post16": "16-plus",
    "16plus": "16-plus",
}

_SHORT = 3  # aliases this short are only matched exactly


def label(name: str) -> str:
    """The display label for a canonical specialism (translated); unknown names are title-cased."""
    from core.i18n import _

    known = LABELS.get(name)
    return _(known) if known else name[:1].upper() + name[1:]


def _alias_table(extra: dict[str, tuple[str, ...]] | None = None) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    owners: list[str] = []
    merged = dict(CATALOGUE)
    for name, aliases in (extra or {}).items():
        merged[name] = tuple(merged.get(name, ())) + tuple(aliases)
    for name, aliases in merged.items():
        for alias in (name, *aliases):
            key = fold(alias)
            if key and key not in keys:
                keys.append(key)
                owners.append(name)
    return keys, owners


_KEYS, _OWNERS = _alias_table()
_EXACT = dict(zip(_KEYS, _OWNERS))
# Fuzzy matching compares only aliases with the same number of words: typos rarely add or drop a word,
# and this keeps "governance 16+" from being read as "governance".
_BY_WORDS: dict[int, list[str]] = {}
for _k in _KEYS:
    if len(_k) > _SHORT:
        _BY_WORDS.setdefault(len(_k.split()), []).append(_k)


def exact_alias(text: str) -> str | None:
    """The canonical specialism when `text` is exactly one of its names (no typo allowance), else None."""
    key = fold(text or "")
    return _EXACT.get(key) or _EXACT.get(key.replace(" ", ""))


@lru_cache(maxsize=2048)
def canonical(text: str) -> str | None:
    """The canonical specialism `text` names, or None. Forgives typos ("mathmatics", "phonix")."""
    key = fold(text or "")
    if not key or len(key) > 80:
        return None
    if key in _EXACT:
        return _EXACT[key]
    if key.replace(" ", "") in _EXACT:  # "p e", "s e n"
        return _EXACT[key.replace(" ", "")]
    if key.endswith("s") and key[:-1] in _EXACT and len(key) > _SHORT + 1:
        return _EXACT[key[:-1]]
    if len(key) <= _SHORT:
        return None
    cutoff = (0.8 if len(key) <= 5 else 0.7) - 1e-4  # one slip in a short word, two in a long one
    best = process.extractOne(
        key, _BY_WORDS.get(len(key.split()), []), scorer=OSA.normalized_similarity, score_cutoff=cutoff
    )
    if best is not None:
        return _EXACT[best[0]]
    return None


_SPLIT_RE = re.compile(r"\s*(?:,|;|/|\+|\||\band\b|&|\n)\s*")


def canonical_many(text: str) -> list[str]:
    """All specialisms named in a list such as "SEND and pupil premium, maths" (order kept, no repeats).

    Names that themselves contain "and" ("ITT and mentoring") are recognised before splitting.
    Unrecognised parts are skipped; see `split_unknown` to report them.
    """
    found, _unknown = split_unknown(text)
    return found


def split_unknown(text: str) -> tuple[list[str], list[str]]:
    """(recognised canonical names, parts that were not recognised)."""
    if not text:
        return [], []
    found: list[str] = []
    unknown: list[str] = []
    for chunk in re.split(r"\s*(?:,|;|/|\+|\||\n)\s*", text[:2000]):
        if not chunk.strip():
            continue
        whole = canonical(chunk)
        if whole is not None:
            _add(found, whole)
            continue
        for part in _SPLIT_RE.split(chunk):
            if not part.strip():
                continue
            name = canonical(part)
            if name is None:
                unknown.append(part.strip())
            else:
                _add(found, name)
    return found, unknown


def _add(found: list[str], name: str) -> None:
    if name not in found:
        found.append(name)


def canonical_phase(text: str) -> str | None:
    """A phase from PHASES ("primary", "16-plus" ...) for what the user typed, or None."""
    key = fold((text or "").replace("+", " plus"))
    if not key:
        return None
    if key in PHASE_ALIASES:
        return PHASE_ALIASES[key]
    if len(key) >= 5:
        best = process.extractOne(key, list(PHASE_ALIASES), scorer=fuzz.ratio, score_cutoff=85)
        if best is not None:
            return PHASE_ALIASES[best[0]]
    return None


def parse_sle_query(text: str) -> tuple[str | None, str | None, str | None]:
    """Split "/sle" arguments into (specialism, phase, area).

    The longest run of leading words naming a specialism is the specialism; a phase word anywhere after
    it is the phase; what is left is the area. "pupil premium secondary Islington" ->
    ("pupil premium", "secondary", "Islington"). A phrase with no specialism gives (None, ...).
    """
    words = (text or "").replace(",", " ").split()[:30]
    if not words:
        return None, None, None
    specialism = None
    used = 0
    for n in range(min(len(words), 6), 0, -1):
        name = canonical(" ".join(words[:n]))
        if name is not None:
            specialism, used = name, n
            break
    rest = words[used:]
    phase = None
    for n in (2, 1):
        for i in range(len(rest) - n + 1):
            p = canonical_phase(" ".join(rest[i : i + n]))
            if p is not None:
                phase = p
                rest = rest[:i] + rest[i + n :]
                break
        if phase:
            break
    area = " ".join(rest).strip() or None
    return specialism, phase, area
