"""Split a cell of names into whole names (pure): the one splitter every importer uses.

Rules, in order:
- text in brackets is never split ("Ruth Ellison (SENDCo, St Aidan's)" is one name, bracket kept);
- names are separated by new lines, ";", "/", ",", "+", " and ", "supported by", " with ", " plus ";
- "&" joins words of one name or post ("AD Learning & Skills"), except between two people written with
  initials or titles ("J Smith & K Jones" is two);
- people run together with initials split where the next begins ("L Draycott K Shilton" → two), and a
  person's name ends at a role word ("A Turner Lead Practitioners" → "A Turner", "Lead Practitioners");
- placeholders ("TBC", "n/a", "various") are not names; duplicates are dropped (first kept).
"""

from __future__ import annotations

import re

_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "dame", "rev", "mx", "cllr"}
_ROLE_WORDS = {
    "lead",
    "leads",
    "leadership",
    "practitioner",
    "practitioners",
    "team",
    "teams",
    "professional",
    "professionals",
    "sle",
    "sles",
    "nle",
    "nles",
    "head",
    "heads",
    "headteacher",
    "headteachers",
    "chair",
    "chairs",
    "rep",
    "reps",
    "coordinator",
    "coordinators",
    "manager",
    "managers",
    "director",
    "directors",
    "officer",
    "officers",
    "tbc",
    "all",
    "staff",
    "governor",
    "governors",
    "slt",
    "senco",
    "sendco",
    "board",
    "group",
    "committee",
    "partners",
    "network",
    "hub",
    "trust",
    "school",
    "schools",
}
_NOT_NAMES = {"tbc", "tba", "n/a", "na", "-", "–", "none", "various", "all", "?", "&"}
_SPLIT = re.compile(r"\s*(?:[,;/+\n]|\band\b|\bsupported by\b|\bwith\b|\bplus\b)\s*", re.IGNORECASE)
_BRACKETS = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")


def _is_initial(token: str) -> bool:
    bare = token.rstrip(".")
    return (
        bool(re.fullmatch(r"[A-Z]\.?|[A-Z]\.[A-Z]\.?|[A-Z]{2}\.?", token))
        and len(bare) <= 2
        and bare.isalpha()
        and (len(bare) == 1 or "." in token)
    )


def _starts_person(token: str) -> bool:
    return _is_initial(token) or token.lower().rstrip(".") in _TITLES


def _people(part: str) -> list[str]:
    groups: list[list[str]] = []
    current: list[str] = []
    for token in part.split():
        lower = token.lower().rstrip(".")
        has_name = any(not _starts_person(t) and t != "&" for t in current)
        person_group = bool(current) and _starts_person(current[0])
        if current and _starts_person(token) and has_name and (person_group or current[-1] == "&"):
            groups.append(current)
            current = []
        elif current and person_group and has_name and lower in _ROLE_WORDS:
            groups.append(current)  # "A Turner Lead Practitioners": the person ends at a role word
            current = []
        elif (
            current
            and _starts_person(token)
            and has_name
            and not person_group
            and len(current) >= 2
            and all(t[:1].isupper() for t in current if t != "&")
        ):
            groups.append(current)  # "Kerry Walsh J Osei"
            current = []
        current.append(token)
    if current:
        groups.append(current)
    out = []
    for group in groups:
        while group and group[-1] == "&":
            group = group[:-1]
        while group and group[0] == "&":
            group = group[1:]
        if group:
            out.append(" ".join(group))
    return out


def split_names(text: str | None) -> list[str]:
    """The names in a cell, each whole (see the module doc)."""
    if not text:
        return []
    kept: list[str] = []

    def protect(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    value = text
    for _round in range(3):  # nested brackets, innermost first
        value = _BRACKETS.sub(protect, value)

    def restore(piece: str) -> str:
        for _round in range(4):
            piece = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], piece)
        return piece

    names: list[str] = []
    for part in _SPLIT.split(value):
        part = part.strip(" .:-–")
        if not part:
            continue
        for name in _people(part):
            name = restore(name).strip(" .:-–")
            if name.startswith("(") and name.endswith(")") and names:
                names[-1] = f"{names[-1]} {name}"  # "J Osei (English lead)" split by a role word
                continue
            if name and name.lower() not in _NOT_NAMES:
                names.append(name)
    seen: set[str] = set()
    unique = []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            unique.append(name)
    return unique
