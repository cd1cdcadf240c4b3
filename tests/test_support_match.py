"""Support suggestions (directory/support_match.py), pure: conflicts of interest by the partnership's rule,
capacity, the school's own choice first, enough days before too few, nearer before farther, reasons in words."""

from __future__ import annotations

from directory.search import DirectoryIndex, PersonEntry, SchoolEntry
from directory.support_match import Need, Offer, conflict, suggest

SCHOOLS = [
    SchoolEntry(1, "900001", "Ashcombe Primary", "Ashcombe", "Riverside", "primary", None, 447_000, 218_000),
    SchoolEntry(2, "900002", "Ashcombe Juniors", "Ashcombe", "Riverside", "primary", None, 447_400, 218_000),
    SchoolEntry(3, "900003", "Millbrook Primary", "Millbrook", "Riverside", "primary", None, 452_000, 218_000),
    SchoolEntry(4, "900004", "Stoneford Primary", "Stoneford", "Riverside", "primary", None, 461_000, 218_000),
    SchoolEntry(5, "900005", "Far Primary", "Farley", "Elsewhere", "primary", None, 490_000, 218_000),
]
TRUSTS = {1: "Oak Trust", 2: "oak trust ", 3: "Beacon Trust", 4: None, 5: None}


def leader(pid: int, school: int, last: str) -> PersonEntry:
    return PersonEntry(
        pid,
        "Ms",
        "A",
        last,
        "Maths lead",
        school,
        SCHOOLS[school - 1].name,
        SCHOOLS[school - 1].locality,
        "primary",
        ("SLE",),
        ("mathematics",),
    )


PEOPLE = [
    leader(10, 1, "Same"),  # the requesting school itself
    leader(11, 2, "Trust"),  # same trust, next door
    leader(12, 3, "Millbrook"),
    leader(13, 4, "Stoneford"),
    leader(14, 5, "Far"),
    leader(15, 3, "Nodays"),
]
INDEX = DirectoryIndex(PEOPLE, SCHOOLS)
OFFERS = {
    10: Offer(10),
    11: Offer(10),
    12: Offer(10, days_used=9, recent=3),  # one day left
    13: Offer(6, days_used=1, recent=1),
    14: Offer(20),
    15: Offer(None),
}


def names(found: list) -> list[str]:
    return [s.name.split()[-1] for s in found]


def test_conflicts_follow_the_rule() -> None:
    assert conflict(1, 1, "school", TRUSTS) and conflict(1, 1, "trust", TRUSTS)
    assert conflict(2, 1, "trust", TRUSTS)  # the same trust, however it is typed
    assert not conflict(2, 1, "school", TRUSTS)
    assert not conflict(4, 5, "trust", TRUSTS)  # no trust is no conflict
    assert not conflict(None, 1, "trust", TRUSTS)


def test_ranking_and_reasons() -> None:
    need = Need("mathematics", "primary", 1, 3.0)
    found = suggest(INDEX, need, OFFERS, TRUSTS, "trust")
    # Not the same school or trust, not someone offering no days; enough days first, then nearest.
    assert names(found) == ["Stoneford", "Far", "Millbrook"]
    assert found[0].enough and not found[-1].enough
    assert "fewer days left than the 3 asked for" in found[-1].reason_text
    assert "5 days left this year" in found[0].reason_text and "1 deployment in the last year" in found[0].reason_text
    assert "SLE in mathematics, primary" in found[0].reason_text and "km away" in found[0].reason_text
    assert names(suggest(INDEX, need, OFFERS, TRUSTS, "school")) == ["Trust", "Stoneford", "Far", "Millbrook"]
    # The school asked for someone by name: first, with the reason said; already asked: left out.
    chosen = suggest(INDEX, Need("mathematics", "primary", 1, 3.0, preferred_person_id=14), OFFERS, TRUSTS)
    assert names(chosen)[0] == "Far" and "the school asked for them" in chosen[0].reason_text
    assert names(suggest(INDEX, need, OFFERS, TRUSTS, exclude=frozenset({13}))) == ["Far", "Millbrook"]
    # Asking for someone who may not be suggested does not put them in.
    assert "Same" not in names(suggest(INDEX, Need("mathematics", None, 1, 1.0, 10), OFFERS, TRUSTS))
    assert suggest(INDEX, Need("phonics", None, 1, 1.0), OFFERS, TRUSTS) == []
