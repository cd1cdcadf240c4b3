"""Owner names matched through an index give exactly the answers of the person-by-person rule
(plans.store.match_person), over generated directories and names written the ways plans write them."""

from __future__ import annotations

import random

import pytest

from directory.search import DirectoryIndex, PersonEntry
from directory.synthetic import make_directory
from plans.owners import OwnerMatcher, matcher_for
from plans.store import PersonName, match_person


def _names(rng: random.Random, people: list[PersonName], n: int) -> list[str]:
    out = []
    for _ in range(n):
        p = rng.choice(people)
        form = rng.randrange(7)
        if form == 0:
            out.append(f"{p.first_name[:1]} {p.last_name}")
        elif form == 1:
            out.append(f"{p.first_name} {p.last_name}")
        elif form == 2 and len(p.last_name) > 4:  # a slip in the surname
            i = rng.randrange(1, len(p.last_name) - 1)
            out.append(f"{p.first_name} {p.last_name[:i]}{p.last_name[i + 1 :]}")
        elif form == 3:
            out.append(f"Mrs {p.first_name[:1]}. {p.last_name}")
        elif form == 4:
            out.append(f"{p.first_name[:3]} {p.last_name}")
        elif form == 5:
            out.append(rng.choice(["BSP", "TSC rep", "Leadership", "AD Learning & Skills", "", "K", "Zq Xyzzy"]))
        else:
            q = rng.choice(people)
            out.append(f"{p.first_name} {q.last_name}")
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matcher_answers_as_the_rule_does(seed: int) -> None:
    directory = make_directory(1500, 1000, seed=seed)
    people = [PersonName(i + 1, p.first_name, p.last_name) for i, p in enumerate(directory.people)]
    rng = random.Random(seed)
    matcher = OwnerMatcher.from_names(people)
    names = _names(rng, people, 150)
    assert [matcher.match(n) for n in names] == [match_person(n, people) for n in names]
    assert any(matcher.match(n)[0] is not None for n in names)  # the generator produces real matches


async def test_known_cases_and_one_matcher_per_index() -> None:
    entries = [
        PersonEntry(1, None, "Lesley", "Draycott"),
        PersonEntry(2, None, "Karen", "Shilton"),
        PersonEntry(3, None, "Kevin", "Shilton"),
        PersonEntry(4, None, "Mark", "Rock"),
    ]
    index = DirectoryIndex(entries, [])
    matcher = await matcher_for(index)
    assert matcher is await matcher_for(index) and len(matcher) == 4
    assert matcher.match("L Draycott") == (1, [1])
    assert matcher.match("Mrs L. Draycot")[0] == 1
    assert matcher.match("K Shilton") == (None, [2, 3])
    assert matcher.match("Karen Shilton")[0] == 2
    assert matcher.match("R Rock") == (None, []) and matcher.match("BSP") == (None, [])
    assert await matcher_for(DirectoryIndex(entries[:1], [])) is not matcher  # a new index, a new matcher


async def test_an_edit_in_place_is_matched_by_the_new_name() -> None:
    """The index is edited in place (services.refresh_person): the matcher follows, it is not left stale."""
    index = DirectoryIndex([PersonEntry(1, None, "Lesley", "Draycott"), PersonEntry(2, None, "Mark", "Rock")], [])
    assert (await matcher_for(index)).match("L Draycott") == (1, [1])
    index.update_person(PersonEntry(1, None, "Lesley", "Pemberton"))
    assert (await matcher_for(index)).match("L Pemberton") == (1, [1])
    assert (await matcher_for(index)).match("L Draycott") == (None, [])
    index.remove_person(2)
    assert (await matcher_for(index)).match("Mark Rock") == (None, [])
