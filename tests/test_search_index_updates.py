"""The search index after single edits (in place, no rebuild) and its snapshot beside the database (used only
while the directory is unchanged since it was written)."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from directory import snapshot
from directory.search import DirectoryIndex, PersonEntry, SchoolEntry, sle_candidates
from storage.directory import Person, School
from storage.members import Member
from tests.harness import ChatDriver, Users

SCHOOLS = [
    SchoolEntry(1, "100001", "Oakfield Primary School", "Riverside", "Kent", "primary"),
    SchoolEntry(2, "100002", "St Aidan's CofE Academy", "Hilltop", "Kent", "secondary"),
]


def person(
    ident: int, first: str, last: str, job: str = "Teacher", school: int | None = 1, **kw: object
) -> PersonEntry:
    name = next((s.name for s in SCHOOLS if s.id == school), None)
    return PersonEntry(ident, "Ms", first, last, job, school, name, "Riverside" if school else None, "primary", **kw)  # type: ignore[arg-type]


def directory() -> DirectoryIndex:
    people = [
        person(1, "Ada", "Okafor", "Headteacher", is_head=True),
        person(2, "Ben", "Marsh"),
        person(3, "Cara", "Lindqvist", school=2),
        person(4, "Dev", "Patel", school=None),
        person(5, "Eve", "Marsh", school=2),
    ]
    return DirectoryIndex(people, SCHOOLS)


def top(index: DirectoryIndex, query: str) -> tuple[str, int] | None:
    found = index.search(query, limit=3)
    return (found[0].kind, found[0].id) if found else None


def test_a_changed_job_title_updates_in_place() -> None:
    index = directory()
    space = index._people_space
    index.update_person(dataclasses.replace(index.person(2), job_title="Deputy Headteacher"))
    assert index._people_space is space  # the word space was not rebuilt
    match = index.search("Ben Marsh", limit=1)[0]
    assert match.id == 2 and match.detail.startswith("Deputy Headteacher")
    assert index.person(2).job_title == "Deputy Headteacher"


def test_a_new_surname_from_the_vocabulary_is_found_and_the_old_one_not() -> None:
    index = directory()
    space = index._people_space
    index.update_person(dataclasses.replace(index.person(2), last_name="Patel"))  # a word the index knows
    assert index._people_space is space
    assert {m.id for m in index.search("Ben Patel", limit=5) if m.exact} == {2}
    assert 2 not in {m.id for m in index.search("Marsh", limit=5)}
    assert {m.id for m in index.search("Marsh", limit=5) if m.kind == "person"} == {5}
    assert top(index, "Ben Ptael") == ("person", 2)  # typos of the new name too


def test_a_name_new_to_the_vocabulary_is_found() -> None:
    index = directory()
    index.update_person(dataclasses.replace(index.person(3), last_name="Featherstonehaugh"))
    assert top(index, "Featherstonehaugh") == ("person", 3)
    assert top(index, "Cara Featherstonhaugh") == ("person", 3)
    assert not any(m.id == 3 for m in index.search("Lindqvist") if m.kind == "person")


def test_moving_school_changes_staff_lists() -> None:
    index = directory()
    index.update_person(dataclasses.replace(index.person(4), school_id=2, school_name=SCHOOLS[1].name))
    assert [p.id for p in index.staff(2)] == [3, 5, 4]  # by surname: Lindqvist, Marsh, Patel
    assert 4 not in {p.id for p in index.staff(1)}
    assert index.search("Dev Patel", limit=1)[0].detail.endswith("St Aidan's CofE Academy")


def test_a_removed_person_is_gone_everywhere() -> None:
    index = directory()
    assert index.remove_person(5)
    assert index.person(5) is None and 5 not in index.person_by_id
    assert {m.id for m in index.search("Marsh") if m.kind == "person"} == {2}
    assert 5 not in {p.id for p in index.staff(2)}
    assert len(index.people) == 4 and all(p.id != 5 for p in index.people)
    assert not index.remove_person(5)
    index.update_person(person(5, "Eve", "Marsh", school=2))  # back again
    assert {m.id for m in index.search("Marsh") if m.kind == "person"} == {2, 5}


def test_a_new_person_is_added() -> None:
    index = directory()
    index.update_person(person(9, "Zainab", "Quarshie", "SENDCo", designations=("SLE",), specialisms=("send",)))
    assert top(index, "Quarshie") == ("person", 9)
    assert [c.person.id for c in sle_candidates(index, "send")] == [9]


def test_the_index_pickles_and_answers_the_same() -> None:
    index = directory()
    index.update_person(dataclasses.replace(index.person(2), last_name="Patel"))
    again = pickle.loads(pickle.dumps(index))
    for query in ("Ben Patel", "Okafor", "Oakfield", "Marsh", "100002", "Lindqvst"):
        assert again.search(query) == index.search(query)


# --- through the bot ------------------------------------------------------------------------------


async def test_edit_updates_the_running_index_in_place(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    async with sessionmaker.begin() as session:
        school = School(name="Oakfield Primary School", phase="primary", locality="Riverside")
        ada = Person(
            title="Mrs",
            first_name="Ada",
            last_name="Okafor",
            job_title="Headteacher",
            is_head=True,
            school=school,
            email="ada@oakfield.example",
        )
        session.add(ada)
        await session.flush()
        (await session.get(Member, users.member)).person_id = ada.id
        ada_id = ada.id
    services = chat.app.bot_data["services"]
    await services.refresh_directory()
    index = services.directory
    sent = await chat.send("/edit job Executive Headteacher", user=users.member)
    assert "Saved" in sent[0].text
    assert services.directory is index  # not rebuilt
    assert index.person(ada_id).job_title == "Executive Headteacher"
    sent = await chat.send("/find Okafor", user=users.lead)
    assert "Executive Headteacher" in "\n".join(s.text for s in sent)
    sent = await chat.send("/edit specialisms maths", user=users.member)
    assert "Saved" in sent[0].text and index.person(ada_id).specialisms == ("mathematics",)


async def test_an_edit_by_a_former_head_keeps_them_out_of_search(
    chat: ChatDriver, users: Users, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A head who has left stays out of search, as the full load has it, even after editing their own entry."""
    async with sessionmaker.begin() as session:
        school = School(name="Oakfield Primary School", phase="primary", locality="Riverside")
        ada = Person(first_name="Ada", last_name="Okafor", job_title="Headteacher", school=school, status="former")
        session.add(ada)
        await session.flush()
        (await session.get(Member, users.member)).person_id = ada.id
        ada_id = ada.id
    services = chat.app.bot_data["services"]
    await services.refresh_directory()
    assert services.directory.person(ada_id) is None
    sent = await chat.send("/edit job Consultant", user=users.member)
    assert "Saved" in sent[0].text
    assert services.directory.person(ada_id) is None
    sent = await chat.send("/find Okafor", user=users.lead)
    assert "I found no one" in sent[-1].text and not sent[-1].buttons


# --- snapshots ------------------------------------------------------------------------------------


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker.begin() as session:
        school = School(urn="100001", name="Oakfield Primary School", phase="primary", locality="Riverside")
        session.add_all(
            [
                Person(first_name="Ada", last_name="Okafor", job_title="Headteacher", school=school),
                Person(first_name="Ben", last_name="Marsh", job_title="Teacher", school=school),
            ]
        )


@pytest.fixture
def snapshot_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PARTNERBOT_INDEX_DIR", str(tmp_path / "index"))  # where PostgreSQL's snapshot goes
    return tmp_path


async def test_snapshot_is_used_until_the_directory_changes(
    db_url: str, snapshot_dir: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessionmaker)
    path = snapshot.snapshot_path(db_url)
    assert path is not None and not path.exists()
    first = await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=False)
    assert path.exists() and top(first, "Okafor")[0] == "person"
    written = path.read_bytes()

    second = await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=False)
    assert path.read_bytes() == written  # read, not rebuilt
    assert second.search("Okafor") == first.search("Okafor")

    # A change by anyone (here plain SQL through the session, as another process would) makes it stale.
    async with sessionmaker.begin() as session:
        await session.execute(update(Person).where(Person.last_name == "Okafor").values(last_name="Adeyemi"))
    third = await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=False)
    assert top(third, "Adeyemi")[0] == "person"
    assert not any(m.kind == "person" for m in third.search("Okafor"))
    assert path.read_bytes() != written  # rewritten for the new directory

    async with sessionmaker() as session:
        assert len((await session.scalars(select(Person))).all()) == 2


async def test_a_snapshot_from_an_older_directory_is_not_used(
    db_url: str, snapshot_dir: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessionmaker)
    await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=False)
    path = snapshot.snapshot_path(db_url)
    assert path is not None
    old = path.read_bytes()
    async with sessionmaker.begin() as session:
        session.add(Person(first_name="Cara", last_name="Lindqvist"))
    await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=False)
    path.write_bytes(old)  # put the older directory's snapshot back
    index = await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=False)
    assert top(index, "Lindqvist")[0] == "person"


@pytest.mark.parametrize("damage", ["truncated", "foreign", "other code"])
async def test_a_damaged_or_foreign_snapshot_is_rebuilt(
    db_url: str, snapshot_dir: Path, damage: str, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await seed(sessionmaker)
    await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=False)
    path = snapshot.snapshot_path(db_url)
    assert path is not None
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "foreign":
        path.write_bytes(b"not a snapshot at all")
    else:
        with path.open("rb") as handle:
            header = pickle.load(handle)
            rest = handle.read()
        path.write_bytes(pickle.dumps({**header, "code": "0" * 16}) + rest)
    async with sessionmaker.begin() as session:
        await session.execute(update(Person).where(Person.last_name == "Marsh").values(first_name="Bram"))
    index = await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=False)
    assert any(m.label.endswith("Bram Marsh") for m in index.search("Marsh"))


async def test_the_snapshot_is_written_by_a_child_process(
    tmp_path: Path, sessionmaker: async_sessionmaker[AsyncSession], db_url: str, snapshot_dir: Path
) -> None:
    """A large directory's index is built in a child process (the bot keeps only what it loads)."""
    await seed(sessionmaker)
    index = await snapshot.load_index_cached(sessionmaker, db_url, min_entries=0, subprocess=True)
    path = snapshot.snapshot_path(db_url)
    assert path is not None and path.exists()
    assert top(index, "Okafor")[0] == "person"


def test_snapshot_paths() -> None:
    assert snapshot.snapshot_path("sqlite+aiosqlite:////srv/bot/partnerbot.db") == Path(
        "/srv/bot/partnerbot.db.search-index"
    )
    assert snapshot.snapshot_path("sqlite+aiosqlite:///:memory:") is None
    a = snapshot.snapshot_path("postgresql+asyncpg://bot@db/partnerbot")
    b = snapshot.snapshot_path("postgresql+asyncpg://bot@db/other")
    assert a is not None and b is not None and a != b
