"""2. Updates handled per second through Application.process_update with the offline request.

The real Application (bot.build_application: access gate, persistence, every handler) over a database holding
the national directory, beside a bare Application with one echo handler on the same OfflineRequest: the
framework's own ceiling. Updates are processed one after another (each awaited), so the rate is 1 / mean
handling time; p99 is of the same per-update times.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from benchmarks.common import (
    Env,
    Section,
    median,
    ms,
    percentile,
    times,
    verdict_lower,
    verdict_upper,
)
from core.offline import OFFLINE_TOKEN, OfflineRequest, UpdateFactory

N_MEMBERS = 40
MEMBER_BASE = 5_100_000_000
LEAD = 5_200_000_001
UPDATE_LINE = "/update 1.3 amber Survey sent to all heads, 12 replies so far"


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Members who search, and an action lead who owns action 1.3 of a live plan of 24 actions."""
    from storage.directory import Person
    from storage.members import Member
    from storage.plans import Action, ActionOwner, Plan
    from storage.plans import Section as PlanSection

    async with sessionmaker.begin() as session:
        for i in range(N_MEMBERS):
            session.add(Member(telegram_id=MEMBER_BASE + i, role="member", display_name=f"Member {i}"))
        owner = Person(
            first_name="Lucy",
            last_name="Draycott-Bench",
            job_title="Director of Teaching School",
            email="lucy.bench@example.org.uk",
        )
        session.add(owner)
        await session.flush()
        session.add(Member(telegram_id=LEAD, role="lead", display_name="Lucy Draycott", person_id=owner.id))
        plan = Plan(title="Partnership plan 2025-26", partnership="Bench", year="2025-26")
        session.add(plan)
        await session.flush()
        position = 0
        for s in range(1, 4):
            section = PlanSection(plan_id=plan.id, position=s, title=f"{s}. Priority {s}")
            session.add(section)
            await session.flush()
            for a in range(1, 9):
                action = Action(
                    plan_id=plan.id,
                    section_id=section.id,
                    position=position,
                    ref=f"{s}.{a}",
                    text=f"Action {s}.{a} of the partnership plan",
                    milestones=[],
                )
                position += 1
                session.add(action)
                await session.flush()
                session.add(ActionOwner(action_id=action.id, person_id=owner.id, name="Lucy Draycott"))


async def _echo(update: Update, _context: Any) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


def bare_echo_application() -> Application:
    """The framework's ceiling: no gate, no database, one handler that replies with the text."""
    request = OfflineRequest()
    app = Application.builder().token(OFFLINE_TOKEN).request(request).get_updates_request(request).updater(None).build()

    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


async def _one(app: Application, update: Update) -> tuple[float, list[Any]]:
    """Handling time of one update, and the Bot API calls it caused."""
    request: OfflineRequest = app.bot.request  # type: ignore[assignment]
    before = len(request.calls)
    start = time.perf_counter()
    await app.process_update(update)
    elapsed = time.perf_counter() - start
    return elapsed, request.calls[before:]


async def measure_bot(url: str, texts: Sequence[str], n_updates: int, log: Callable[[str], None]) -> dict[str, Any]:
    """Rounds of: an echo on a bare Application, an echo on the real Application, a lookup by a member, and
    (every other round) a one-line progress update by the action lead followed by its Save press.
    Interleaving puts every kind through the same moments of a noisy machine, so the ratios are fair."""
    from bot import build_application, start_services
    from core.settings import load_settings
    from storage.db import make_engine, make_sessionmaker

    engine = make_engine(url)
    try:
        await seed(make_sessionmaker(engine))
    finally:
        await engine.dispose()
    settings = load_settings(
        database_url=url, telegram_bot_token=None, admin_telegram_ids=(), search_limit_per_minute=0
    )
    app = build_application(settings, OfflineRequest(), rate_limit=False)
    bare = bare_echo_application()
    out: dict[str, Any] = {k: [] for k in ("bare", "echo_same", "lookup", "line", "save")}
    out["lookup_silent"] = 0
    out["saved"] = 0
    async with app, bare:
        start = time.perf_counter()
        await start_services(app)
        out["start_services"] = time.perf_counter() - start
        factory = UpdateFactory(app.bot)
        bare_factory = UpdateFactory(bare.bot)
        # The baseline: an echo handler on this same Application (behind the same access gate).
        echo_handler = MessageHandler(filters.Regex(r"^echo "), _echo)
        app.add_handler(echo_handler, group=0)
        app.handlers[0].remove(echo_handler)
        app.handlers[0].insert(0, echo_handler)
        warm = 20
        for i, text_ in enumerate(texts[: n_updates + warm]):
            keep = i >= warm
            user = MEMBER_BASE + i % N_MEMBERS
            t, _calls = await _one(bare, bare_factory.text(text_, user))
            if keep:
                out["bare"].append(t)
            t, _calls = await _one(app, factory.text("echo " + text_, user))
            if keep:
                out["echo_same"].append(t)
            t, calls = await _one(app, factory.text(text_, user))
            if keep:
                out["lookup"].append(t)
                out["lookup_silent"] += not calls
            if i % 2:
                continue
            t, calls = await _one(app, factory.text(UPDATE_LINE, LEAD))
            prompt = next((c for c in calls if any(b[1].startswith("ups:") for b in c.buttons)), None)
            if prompt is None:
                if i == 0:
                    log("  the one-line /update did not offer Save: " + " | ".join(c.text[:80] for c in calls))
                continue
            if keep:
                out["line"].append(t)
            data = next(b[1] for b in prompt.buttons if b[1].startswith("ups:"))
            t, calls = await _one(app, factory.press(data, LEAD, dict(prompt.result)))
            if keep:
                out["save"].append(t)
                out["saved"] += 1
        app.handlers[0].remove(echo_handler)
        out.update(await breakdown(app, texts[warm : warm + n_updates]))
    await app.bot_data["services"].close()
    return out


async def breakdown(app: Application, texts: Sequence[str]) -> dict[str, list[float]]:
    """The parts of a lookup on their own, in rounds: the gate's member read, the throttle's count (in
    memory; the database only sees users over the limit), and the index search with the handler's limit."""
    from core.throttle import judge

    try:
        from handlers.find import MAX_RESULTS as limit
    except ImportError:  # pragma: no cover
        limit = 48
    services = app.bot_data["services"]
    out: dict[str, list[float]] = {"part_member": [], "part_throttle": [], "part_search": []}
    clock = time.perf_counter
    for i, text_ in enumerate(texts):
        user = MEMBER_BASE + i % N_MEMBERS
        start = clock()
        await services.member(user)
        out["part_member"].append(clock() - start)
        start = clock()
        judge(services.search_counter.hit(user), 0)
        out["part_throttle"].append(clock() - start)
        if services.directory is not None:
            start = clock()
            services.directory.search(text_, limit=limit)
            out["part_search"].append(clock() - start)
    return out


async def run(env: Env) -> Section:
    from benchmarks.data import bench_directory, make_queries
    from benchmarks.lookup import directory_databases

    s = env.sizes
    sec = Section(
        "2. Updates handled",
        "`Application.process_update`, one update at a time, on the real "
        "Application (access gate, persistence, every handler) with `OfflineRequest`; the directory "
        "above is in the database and the search index. Baselines: an echo handler on a bare "
        "Application with the same OfflineRequest (the framework's ceiling, as the lead asked), and "
        "an echo handler put first on the real Application, behind the same access gate (the "
        'issue\'s "same Application"). Each round handles one of every kind, so all see the same '
        "moments of this shared machine. Rate = 1 / mean handling time.",
    )
    directory = env.shared.get("directory") or bench_directory(s.people, s.schools, s.seed)
    queries = env.shared.get("lookup_queries") or make_queries(directory, s.queries, s.seed)
    texts = [q.text for q in queries][: s.updates + 20]
    while len(texts) < s.updates + 20:
        texts += texts[: s.updates + 20 - len(texts)]
    dbs = await directory_databases(env, directory)
    for label, url in dbs.items():
        result = await measure_bot(url, texts, s.updates, env.log)
        name = "SQLite" if label == "sqlite" else "PostgreSQL"
        same = result["echo_same"]
        same_rate = len(same) / sum(same)
        echo = result["bare"]
        echo_rate = len(echo) / sum(echo)
        sec.figures[f"{label}_echo_same_rate"] = same_rate
        sec.figures[f"{label}_echo_rate"] = echo_rate
        sec.figures["echo_rate"] = echo_rate
        sec.add(f"{name}: echo handler on a bare Application (the framework's ceiling)", f"{echo_rate:,.0f} updates/s")
        sec.add(f"{name}: bare echo, median / p99", f"{ms(median(echo))} / {ms(percentile(echo, 99))}")
        sec.add(
            f"{name}: echo handler on the real Application (behind the access gate)",
            f"{same_rate:,.0f} updates/s",
            f"bare echo {echo_rate:,.0f}/s",
            times(same_rate / echo_rate, "of bare"),
        )
        sec.add(
            f"{name}: echo on the real Application, median / p99", f"{ms(median(same))} / {ms(percentile(same, 99))}"
        )
        for key, what in (
            ("lookup", "Lookup message"),
            ("line", "One-line `/update 1.3 amber …` (to Save prompt)"),
            ("save", "Save press (appends the progress row)"),
        ):
            values = result[key]
            if not values:
                sec.add(f"{name}: {what}", "not measured", verdict="the handler did not answer (see log)")
                continue
            rate = len(values) / sum(values)
            p99 = percentile(values, 99)
            sec.figures[f"{label}_{key}_rate"] = rate
            sec.figures[f"{label}_{key}_p99"] = p99
            is_lookup = key == "lookup"
            sec.add(
                f"{name}: {what}",
                f"{rate:,.0f} updates/s",
                f"echo, same app {same_rate:,.0f}/s",
                times(rate / same_rate, "of echo"),
                "≥ ½ echo rate" if is_lookup else "",
                verdict_lower(rate, same_rate / 2, lambda x: f"{x:,.0f}/s") if is_lookup else "",
            )
            if is_lookup:
                sec.add(
                    f"{name}: {what} vs the bare echo",
                    f"{rate:,.0f} updates/s",
                    f"bare echo {echo_rate:,.0f}/s",
                    times(rate / echo_rate, "of echo"),
                    "≥ ½ echo rate",
                    verdict_lower(rate, echo_rate / 2, lambda x: f"{x:,.0f}/s"),
                )
            sec.add(
                f"{name}: {what}, median / p99",
                f"{ms(median(values))} / {ms(p99)}",
                f"echo, same app {ms(median(same))} / {ms(percentile(same, 99))}",
                "",
                "p99 < 20 ms",
                verdict_upper(p99, 0.020, ms),
            )
        parts = [
            (k, label_)
            for k, label_ in (
                ("part_member", "the gate's member read"),
                ("part_throttle", "the throttle's count"),
                ("part_search", "the index search (limit as the handler's)"),
            )
            if result.get(k)
        ]
        if parts and result["lookup"]:
            sec.add(
                f"{name}: a lookup's parts, mean",
                " + ".join(f"{ms(sum(result[k]) / len(result[k]))} {label_}" for k, label_ in parts),
                f"whole lookup {ms(sum(result['lookup']) / len(result['lookup']))}",
            )
            for k, _label in parts:
                sec.figures[f"{label}_{k}"] = sum(result[k]) / len(result[k])
        if result["lookup_silent"]:
            sec.notes.append(
                f"{name}: {result['lookup_silent']} of {len(result['lookup'])} lookup messages got no "
                "reply (no search handler registered yet?)."
            )
        lookup_rate = len(result["lookup"]) / max(sum(result["lookup"]), 1e-9)
        env.log(
            f"  {name}: echo {same_rate:,.0f}/s, lookup {lookup_rate:,.0f}/s, saved {result['saved']} progress rows"
        )
    if any(m.startswith(("SQLite: Lookup", "PostgreSQL: Lookup")) for m in sec.misses):
        sec.notes.append(
            "**The lookup gap.** The parts row shows where a lookup's time goes. Searches are counted in memory "
            "(core/throttle.py `SearchCounter`; only a user over the limit is written to the database), so "
            "besides the search a lookup pays what every update on the real Application pays: the gate's member "
            "read (core/services.py `Services.member`, one primary-key read so a revoked role takes effect at "
            "once). Against the bare echo, which touches no database at all, half the rate would need a whole "
            "lookup under about 0.3 ms, less than the search alone over 55,000 entries. Telegram's own limit is "
            "about 30 messages a second, which every figure here exceeds several times over."
        )
    sec.notes.append(
        "Searches are counted by the throttle with the limit off. Conversation state and user data "
        "are saved after every update (storage/persistence.py `attach`), but only what changed is "
        "written. 40 members take turns to search."
    )
    return sec


Runner = Callable[[Env], Awaitable[Section]]
