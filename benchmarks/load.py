"""7. Under load: members searching while a coordinator does heavy work, through the Application's own update
queue (as polling and webhooks feed it), so the update processor (core/update_order.py) is what serves them.

40 members search in a closed loop (each sends the next query when the last was answered). Quiet: nothing
else runs. Busy: at the same time a coordinator uploads the register's extract and confirms it, uploads a plan
whose 30 owners are matched against the directory and imports it, and asks for the termly report. Latency is
from putting a member's update on the queue to the bot's first call to that chat. A ticker measures how long
the event loop was blocked (how late a 5 ms sleep wakes). Baseline: the same members with no heavy work, in
the same run.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
from collections.abc import Sequence
from typing import Any

from telegram.ext import Application

from benchmarks.common import Env, Section, median, ms, percentile, times, verdict_upper
from benchmarks.updates import MEMBER_BASE, N_MEMBERS, seed
from core.offline import OfflineRequest, Sent, UpdateFactory

COORDINATOR = 5_300_000_001
TICK = 0.005


class Recorder:
    """Wakes whoever waits for a reply in a chat; keeps the coordinator's calls."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.calls: list[Sent] = []

    def on_call(self, sent: Sent) -> None:
        if sent.chat_id == COORDINATOR:  # only the coordinator's are read again (a member's would pile up)
            self.calls.append(sent)
        future = self.waiting.pop(sent.chat_id or 0, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    def expect(self, chat_id: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat_id] = future
        return future


async def _ticker(stop: asyncio.Event, worst: list[float]) -> None:
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(TICK)
        worst.append(time.perf_counter() - start - TICK)


async def _member(
    app: Application,
    factory: UpdateFactory,
    recorder: Recorder,
    user: int,
    texts: Sequence[str],
    stop: asyncio.Event,
    out: list[float],
    rng: random.Random,
) -> None:
    i = 0
    while not stop.is_set():
        waiter = recorder.expect(user)
        start = time.perf_counter()
        await app.update_queue.put(factory.text(texts[i % len(texts)], user))
        try:
            answered = await asyncio.wait_for(waiter, 60)
        except TimeoutError:
            out.append(60.0)
        else:
            out.append(answered - start)
        i += 1
        await asyncio.sleep(rng.uniform(0.05, 0.15))  # a person reading the answer


def sendable_extract(extract: bytes) -> bytes:
    """The register's extract with only the columns the importer reads, every row kept: the whole extract
    (133 columns) is over the 20 MB a bot may download from Telegram, so a coordinator exports these."""
    from core.headers import match_headers
    from directory.fields import DIRECTORY_FIELDS

    rows = csv.reader(io.StringIO(extract.decode("latin-1")))  # as the register writes it
    header = next(rows)
    keep = sorted(match_headers(header, DIRECTORY_FIELDS).columns.values())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header[i] for i in keep])
    for row in rows:
        writer.writerow([row[i] if i < len(row) else "" for i in keep])
    return buffer.getvalue().encode("latin-1", errors="replace")


def plan_file(owner_names: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["Ref", "Action", "Lead", "Timeline", "Aut 25"])
    for i, name in enumerate(owner_names, 1):
        writer.writerow(
            [f"1.{i}", f"Action {i}: support schools with the priority", name, "Summer 2026", "G" if i % 3 else "A"]
        )
    return buffer.getvalue().encode()


async def _press_first(app: Application, factory: UpdateFactory, recorder: Recorder, label: str) -> bool:
    """Press the button called `label` on the newest message to the coordinator; False when there is none."""
    for sent in reversed(recorder.calls):
        for text, data in sent.buttons:
            if text == label:
                await app.update_queue.put(factory.press(data, COORDINATOR, dict(sent.result)))
                return True
    return False


async def _reply(recorder: Recorder, since: int, wanted: Any, timeout: float = 600) -> None:
    """Wait for the coordinator's reply that `wanted(sent)` recognises among the calls after `since` (an import
    also sends "New head at ..." notes to the coordinators, so the first call is not always the answer)."""
    deadline = time.perf_counter() + timeout
    while not any(wanted(c) for c in recorder.calls[since:]):
        if time.perf_counter() > deadline:
            raise TimeoutError("no reply from the bot")
        await asyncio.sleep(0.02)


async def _settle(app: Application) -> None:
    while not app.update_queue.empty() or app.update_processor.current_concurrent_updates:
        await asyncio.sleep(0.05)


async def _coordinator(
    app: Application, factory: UpdateFactory, recorder: Recorder, extract: bytes, plan: bytes, log: Any
) -> dict[str, float]:
    request: OfflineRequest = app.bot.request  # type: ignore[assignment]
    took: dict[str, float] = {}
    steps = [
        ("directory upload + preview", ("directory.csv", extract, "directory"), "Confirm"),
        ("plan upload + preview", ("plan.csv", plan, "plan"), "Import"),
    ]
    refused = ("Nothing was changed", "Not imported", "could not")
    for what, (name, data, caption), button in steps:
        start = time.perf_counter()
        since = len(recorder.calls)
        await app.update_queue.put(factory.document(request.add_file(data), name, len(data), COORDINATOR, caption))
        await _reply(
            recorder, since, lambda c, b=button: any(t == b for t, _d in c.buttons) or any(r in c.text for r in refused)
        )
        took[what] = time.perf_counter() - start
        log(f"  load: {what} answered in {took[what]:.1f} s")
        start = time.perf_counter()
        since = len(recorder.calls)
        saved = what.split(" ")[0] + " saved"
        if await _press_first(app, factory, recorder, button):
            await _reply(recorder, since, lambda c: c.method == "editMessageText")
            took[saved] = time.perf_counter() - start
            log(f"  load: {saved} in {took[saved]:.1f} s")
        else:
            log(f"  load: no {button} button after the {what}")
    start = time.perf_counter()
    before = len(recorder.calls)
    await app.update_queue.put(factory.text("/report", COORDINATOR))
    pressed = 0
    for _ in range(6_000):
        await asyncio.sleep(0.05)
        mine = [c for c in recorder.calls[before:] if c.chat_id == COORDINATOR]
        if any(c.method == "sendPhoto" for c in mine):
            break
        # "Which plan?": the newest plan, the one just imported (not a "New head at ..." note's button).
        asking = next((c for c in reversed(mine) if any(d.startswith("rp:") for _t, d in c.buttons)), None)
        if asking is not None and pressed < 3:
            before = len(recorder.calls)
            pressed += 1
            choice = [d for _t, d in asking.buttons if d.startswith("rp:")][-1]
            await app.update_queue.put(factory.press(choice, COORDINATOR, dict(asking.result)))
    took["report"] = time.perf_counter() - start
    log(f"  load: report in {took['report']:.1f} s")
    return took


async def measure(
    url: str, texts: Sequence[str], extract: bytes, owners: Sequence[str], quiet_seconds: float, log: Any
) -> dict[str, Any]:
    from bot import build_application, start_services
    from core.settings import load_settings
    from storage.db import make_engine, make_sessionmaker
    from storage.members import Member

    engine = make_engine(url)
    try:
        sessionmaker = make_sessionmaker(engine)
        await seed(sessionmaker)
        async with sessionmaker.begin() as session:
            session.add(Member(telegram_id=COORDINATOR, role="coordinator", display_name="Coordinator"))
    finally:
        await engine.dispose()
    settings = load_settings(
        database_url=url, telegram_bot_token=None, admin_telegram_ids=(), search_limit_per_minute=0
    )
    recorder = Recorder()
    app = build_application(settings, OfflineRequest(on_call=recorder.on_call, keep=False), rate_limit=False)
    factory = UpdateFactory(app.bot)
    rng = random.Random(0)
    out: dict[str, Any] = {}
    async with app:
        await start_services(app)
        await app.start()
        try:
            for phase in ("quiet", "busy"):
                stop = asyncio.Event()
                latencies: list[float] = []
                worst: list[float] = []
                ticker = asyncio.create_task(_ticker(stop, worst))
                members = [
                    asyncio.create_task(
                        _member(
                            app, factory, recorder, MEMBER_BASE + i, texts[i::N_MEMBERS] or texts, stop, latencies, rng
                        )
                    )
                    for i in range(N_MEMBERS)
                ]
                if phase == "quiet":
                    await asyncio.sleep(quiet_seconds)
                else:
                    out["coordinator"] = await _coordinator(app, factory, recorder, extract, plan_file(owners), log)
                stop.set()
                await asyncio.gather(*members, ticker)
                await _settle(app)
                out[phase] = latencies
                out[f"{phase}_block"] = max(worst or [0.0])
        finally:
            await app.stop()
    await app.bot_data["services"].close()
    return out


async def run(env: Env) -> Section:
    from benchmarks.common import schema_tag, sqlite_database
    from benchmarks.data import CACHE_VERSION, bench_directory, make_queries
    from benchmarks.imports import extract_path
    from benchmarks.lookup import directory_databases

    s = env.sizes
    sec = Section("7. Under load", __doc__.split("\n\n", 1)[1].replace("\n", " ") if __doc__ else "")
    directory = env.shared.get("directory") or bench_directory(s.people, s.schools, s.seed)
    queries = env.shared.get("lookup_queries") or make_queries(directory, s.queries, s.seed)
    texts = [q.text for q in queries]
    extract = sendable_extract(extract_path(env).read_bytes())
    people = list(directory.people)
    rng = random.Random(s.seed)
    owners = [f"{p.first_name} {p.last_name}" for p in rng.sample(people, min(30, len(people)))]
    await directory_databases(env, directory)  # builds the cached SQLite directory once per run
    template = env.cache_path(f"directory-v{CACHE_VERSION}-{s.people}-{s.schools}-{s.seed}-{schema_tag()}.db")
    url = await sqlite_database(env.work / "load.db", template)  # a copy of its own: it adds members
    result = await measure(url, texts, extract, owners, quiet_seconds=10 if s.people >= 10_000 else 3, log=env.log)
    quiet, busy = result["quiet"], result["busy"]
    q50, q99 = median(quiet), percentile(quiet, 99)
    b50, b99 = median(busy), percentile(busy, 99)
    sec.add("Members' lookups, quiet: median / p99", f"{ms(q50)} / {ms(q99)}", f"{len(quiet):,} lookups")
    sec.add(
        "Members' lookups while the coordinator works: median / p99",
        f"{ms(b50)} / {ms(b99)}",
        f"quiet {ms(q50)} / {ms(q99)}",
        times(b99 / q99, "the quiet p99"),
        "p99 ≤ 2× quiet",
        verdict_upper(b99 / q99, 2.0, lambda x: f"{x:.1f}×"),
    )
    sec.add(
        "Longest the event loop was blocked, busy",
        ms(result["busy_block"]),
        f"quiet {ms(result['quiet_block'])}",
        "",
        "< 50 ms",
        verdict_upper(result["busy_block"], 0.050, ms),
    )
    for what, seconds in result.get("coordinator", {}).items():
        sec.add(f"Coordinator: {what}", f"{seconds:.1f} s")
    sec.figures.update(quiet_p99=q99, busy_p99=b99, busy_block=result["busy_block"])
    sec.notes.append(
        f"SQLite, {s.people:,} people and {s.schools:,} schools in the directory; the extract has "
        f"{s.import_rows:,} rows ({len(extract) / 1e6:.1f} MB: the columns the importer reads, since a bot may "
        f"download 20 MB at most); the plan has {len(owners)} owners drawn from the directory."
    )
    return sec
