"""How equally plausible readings of a query are ranked: typing slips by how people mistype, common names
before rare ones, whole names mistyped before rare names merely started, people before schools for one word."""

from __future__ import annotations

import pytest

from directory.search import DirectoryIndex, PersonEntry, SchoolEntry, slip_plausibility


@pytest.mark.parametrize(
    ("typed", "word", "expected"),
    [
        ("pirce", "price", 1.0),  # two letters swapped
        ("smth", "smith", 1.0),  # a letter dropped
        ("smiith", "smith", 1.0),  # a letter doubled
        ("smoth", "smith", 1.0),  # the key next door (o beside i)
        ("smzth", "smith", 0.5),  # a distant key
        ("smitht", "smith", 0.75),  # an extra letter from a key next door
        ("smitqh", "smith", 0.5),  # a stray extra letter
        ("smyht", "smith", 0.0),  # more than one slip
    ],
)
def test_slip_plausibility(typed: str, word: str, expected: float) -> None:
    assert slip_plausibility(typed, word) == expected


def people(*surnames_with_counts: tuple[str, int]) -> list[PersonEntry]:
    out, n = [], 0
    for surname, count in surnames_with_counts:
        for i in range(count):
            n += 1
            out.append(PersonEntry(id=n, title="Ms", first_name=f"Anne{chr(97 + i % 26)}", last_name=surname))
    return out


def top_surname(index: DirectoryIndex, query: str) -> str:
    match = index.search(query, limit=1)[0]
    return match.label.split()[-1]


def test_a_slip_from_a_common_name_beats_one_from_a_rare_name() -> None:
    index = DirectoryIndex(people(("Price", 12), ("Prics", 1)))
    assert top_surname(index, "Pricw") == "Price"


def test_a_plausible_slip_beats_an_odd_one() -> None:
    # "Grday" is Grady with two letters swapped, or Gray with a stray d: the swap is the likelier slip.
    index = DirectoryIndex(people(("Grady", 3), ("Gray", 3)))
    assert top_surname(index, "Grday") == "Grady"


def test_a_mistyped_whole_name_beats_the_start_of_a_rarer_one() -> None:
    index = DirectoryIndex(people(("Taitt", 2), ("Tatters", 1)))
    assert top_surname(index, "Tatt") == "Taitt"


def test_the_start_of_a_common_name_still_finds_it() -> None:
    index = DirectoryIndex(people(("Thomas", 20), ("Thompson", 10), ("Toom", 1)))
    assert top_surname(index, "Thom") == "Thomas"
    assert top_surname(index, "Thomp") == "Thompson"


def test_one_word_finds_the_person_before_the_school() -> None:
    schools = [
        SchoolEntry(
            id=1,
            urn="100001",
            name="Middleton School",
            locality="Leeds",
            local_authority="Leeds",
            phase="secondary",
            postcode=None,
            easting=None,
            northing=None,
        )
    ]
    index = DirectoryIndex(people(("Middleton", 1)), schools)
    assert [m.kind for m in index.search("Middleton", 2)] == ["person", "school"]
    assert [m.kind for m in index.search("Midleton", 2)] == ["person", "school"]
    # Two words that name the school find the school.
    assert index.search("Middleton School", 1)[0].kind == "school"
