"""The Mini App's board: time to interactive in Chromium with 4× CPU throttling, beside an empty page in the same
run, and the board API's latency at 20 concurrent users, beside /healthz (loopback only).

    python -m benchmarks.webapp [--actions 150] [--rounds 7] [--requests 25] [--out benchmarks/WEBAPP.md]

A 150-action, 3-term plan (every action rated and commented in every term) in a fresh SQLite file; the bot's
real web server in a child process (the client's load does not share its event loop). The board is interactive
when app.js marks `partnerbot:interactive` (the grid drawn from the API's answer); the empty page marks the same
at DOMContentLoaded. Also one user alone (one request at a time) beside /healthz alone, and how long the server's
event loop was blocked under each load (a ticker in the server: how late a 5 ms sleep wakes, the longest).
Needs Debian's chromium (/usr/bin/chromium). Not a test: figures, never assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import tornado.web

from tests.webapp_harness import CHROMIUM, LAUNCH_ARGS, telegram_init_data

USERS = 20
COORDINATOR = 5000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the child: the bot's web server over a seeded database ---------------------------------------------


async def _seed(url: str, actions: int) -> int:
    from core.services import MemberInfo
    from core.terms import Term, current_term
    from plans import progress
    from storage.db import make_engine, make_sessionmaker, migrate
    from storage.directory import Person
    from storage.members import Member, Role
    from storage.plans import Action, ActionOwner, Plan, Section

    await migrate(url)
    engine = make_engine(url)
    sessionmaker = make_sessionmaker(engine)
    year = current_term().academic_year
    async with sessionmaker.begin() as session:
        people = [Person(first_name=f"Owner{i}", last_name=f"Lead{i}") for i in range(USERS)]
        session.add_all(people)
        await session.flush()
        session.add(Member(telegram_id=COORDINATOR, role="coordinator", display_name="Coordinator"))
        for i, person in enumerate(people):
            session.add(
                Member(telegram_id=COORDINATOR + 1 + i, role="lead", display_name=f"Lead {i}", person_id=person.id)
            )
        plan = Plan(title="Benchmark plan", partnership="Bench", year=f"{year}-{(year + 1) % 100:02d}", rag_set="R,A,G")
        session.add(plan)
        await session.flush()
        sections = [Section(plan_id=plan.id, position=s, title=f"{s + 1}. Priority {s + 1}") for s in range(10)]
        session.add_all(sections)
        await session.flush()
        ids = []
        for n in range(actions):
            section = sections[n * len(sections) // actions]
            action = Action(
                plan_id=plan.id,
                section_id=section.id,
                position=n,
                ref=f"{section.position + 1}.{n + 1}",
                text=f"Action {n + 1}: improve outcomes in reading, writing and mathematics across the partnership",
                owners_text=people[n % USERS].full_name,
            )
            session.add(action)
            await session.flush()
            session.add(
                ActionOwner(action_id=action.id, person_id=people[n % USERS].id, name=people[n % USERS].full_name)
            )
            ids.append(action.id)
        author = MemberInfo(COORDINATOR, Role.COORDINATOR, None, "Coordinator")
        for n, action_id in enumerate(ids):
            for t, term in enumerate(("autumn", "spring", "summer")):
                await progress.post_update(
                    session,
                    action_id,
                    "RAG"[(n + t) % 3],
                    f"Term {t + 1}: on course, see minutes",
                    author,
                    term=Term(year, term),
                )
        plan_id = plan.id
    await engine.dispose()
    return plan_id


async def _serve(url: str, port: int, actions: int) -> None:
    from tornado.httpserver import HTTPServer

    from bot import build_application, start_services
    from cli.serve import freeze_startup_heap, make_web_app
    from core.offline import OfflineRequest
    from core.settings import load_settings

    plan_id = await _seed(url, actions)
    settings = load_settings(database_url=url, telegram_bot_token=None)
    application = build_application(settings, OfflineRequest(), rate_limit=False)

    async def health() -> dict[str, Any]:
        return {"healthy": True}

    lag = _LoopLag()

    async with application:
        await start_services(application)
        web = make_web_app(application, None, "unused", health)
        web.add_handlers(r".*", [(r"/bench-lag", _LagHandler, {"lag": lag})])
        ticker = asyncio.create_task(lag.run())
        server = HTTPServer(web)
        server.listen(port, "127.0.0.1")
        freeze_startup_heap()  # as `partnerbot run` does once it is up
        print(json.dumps({"plan": plan_id, "token": application.bot.token}), flush=True)
        await asyncio.Event().wait()
        ticker.cancel()


class _LoopLag:
    """How late a 5 ms sleep wakes on the server's loop: the longest since the last reset is the longest the
    loop was blocked (by one request's synchronous work, or several queued). Beside it, the garbage collector's
    full passes and the longest of its pauses: a pass over every object the process holds stops the loop too."""

    TICK = 0.005

    def __init__(self) -> None:
        self.longest = 0.0
        self.gc_longest = 0.0
        self.full_passes = 0
        self._gc_started = 0.0
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        self.gc_longest = max(self.gc_longest, time.perf_counter() - self._gc_started)
        self.full_passes += info["generation"] == 2

    async def run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.TICK)
            self.longest = max(self.longest, time.perf_counter() - started - self.TICK)

    def take(self) -> dict[str, float]:
        """The figures since the last call, then start again."""
        state = {
            "longest_ms": self.longest * 1000,
            "gc_longest_ms": self.gc_longest * 1000,
            "gc_full_passes": self.full_passes,
            "cpu_s": time.process_time(),
        }
        self.longest = self.gc_longest = 0.0
        self.full_passes = 0
        return state


class _LagHandler(tornado.web.RequestHandler):
    def initialize(self, lag: _LoopLag) -> None:
        self.lag = lag

    def get(self) -> None:
        self.finish(self.lag.take())


# --- the parent: the browser and the load ----------------------------------------------------------------


def _stub(init_data: str) -> str:
    noop = "function () { return this; }"
    button = f"{{ setText: {noop}, show: {noop}, hide: {noop}, onClick: {noop}, offClick: {noop} }}"
    return (
        f"window.Telegram = {{ WebApp: {{ initData: {json.dumps(init_data)}, themeParams: {{}}, colorScheme: 'light',"
        f" ready: {noop}, expand: {noop}, onEvent: {noop}, MainButton: {button}, BackButton: {button},"
        f" HapticFeedback: {{ notificationOccurred: {noop} }} }} }};"
    )


async def _time_to_interactive(base: str, init_data: str, rounds: int) -> tuple[list[float], list[float]]:
    from playwright.async_api import async_playwright

    empty_html = (
        "<!doctype html><html><head><title>empty</title><script>document.addEventListener('DOMContentLoaded',"
        " () => performance.mark('partnerbot:interactive'));</script></head><body><p>empty</p></body></html>"
    )
    board: list[float] = []
    empty: list[float] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        for _ in range(rounds):
            for kind, into in (("empty", empty), ("board", board)):
                context = await browser.new_context(viewport={"width": 390, "height": 844})
                page = await context.new_page()

                async def route(r: Any) -> None:
                    url = r.request.url
                    if url.startswith("https://telegram.org/"):
                        await r.fulfill(status=200, content_type="application/javascript", body=_stub(init_data))
                    elif url.endswith("/bench-empty"):
                        await r.fulfill(status=200, content_type="text/html", body=empty_html)
                    elif url.startswith(base):
                        await r.continue_()
                    else:
                        await r.abort()

                await page.route("**/*", route)
                cdp = await context.new_cdp_session(page)
                await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
                await page.goto(base + ("/bench-empty" if kind == "empty" else "/app/"))
                ready = "p" if kind == "empty" else "tr[data-action]"
                await page.locator(ready).first.wait_for(timeout=120_000)
                mark = await page.evaluate(
                    "() => performance.getEntriesByName('partnerbot:interactive').map(e => e.startTime)[0]"
                )
                into.append(float(mark) / 1000)  # ms → s
                await context.close()
        await browser.close()
    return board, empty


async def _server_state(base: str) -> dict[str, float]:
    """The server's figures since the last call (webapp._LoopLag.take) and its process's CPU time so far: CPU time
    per request holds on a shared machine where latencies move with the neighbours' load."""
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        return {key: float(value) for key, value in (await client.get("/bench-lag")).json().items()}


async def _load(base: str, headers: list[dict[str, str]], path: str, requests: int) -> list[float]:
    """Each of `headers` is a user sending `requests` requests one after another, all users at once."""
    import httpx

    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=USERS)) as client:

        async def user(h: dict[str, str]) -> None:
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.get(path, headers=h)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{path}: {response.status_code}")

        await client.get(path, headers=headers[0])  # warm
        await asyncio.gather(*(user(h) for h in headers))
    return latencies


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.webapp")
    parser.add_argument("--actions", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=25, help="board requests per user (20 users at once)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("WEBAPP.md"))
    parser.add_argument("--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve[0], int(args.serve[1]), args.actions))
        return 0
    folder = tempfile.mkdtemp(prefix="pb-bench-webapp-")
    url = f"sqlite+aiosqlite:///{folder}/bench.db"
    port = _free_port()
    child = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.webapp", "--actions", str(args.actions), "--serve", url, str(port)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ready = json.loads(child.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        token, plan = ready["token"], ready["plan"]
        board_ms, empty_ms = asyncio.run(
            _time_to_interactive(base, telegram_init_data(COORDINATOR, token), args.rounds)
        )
        headers = [{"Authorization": "tma " + telegram_init_data(COORDINATOR + 1 + i, token)} for i in range(USERS)]
        board_path = f"/app/api/board/{plan}"
        alone = asyncio.run(_load(base, headers[:1], board_path, args.requests))
        health_alone = asyncio.run(_load(base, headers[:1], "/healthz", args.requests))
        start = asyncio.run(_server_state(base))  # from here
        api = asyncio.run(_load(base, headers, board_path, args.requests))
        under_board = asyncio.run(_server_state(base))
        health = asyncio.run(_load(base, headers, "/healthz", args.requests))
        under_health = asyncio.run(_server_state(base))
        cpu_per_board = (under_board["cpu_s"] - start["cpu_s"]) / (len(api) + 1)  # the warm-up request too
        cpu_per_health = (under_health["cpu_s"] - under_board["cpu_s"]) / (len(health) + 1)
    finally:
        child.terminate()
        child.wait(30)
    tti_board, tti_empty = statistics.median(board_ms), statistics.median(empty_ms)
    lines = [
        "# Mini App benchmark",
        "",
        f"{args.actions}-action, 3-term plan ({args.actions * 3} rated updates), SQLite, the bot's web server in a"
        f" child process on loopback; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {os.cpu_count()} CPUs.",
        "",
        "| measure | value | baseline (same run) | ratio |",
        "| --- | --- | --- | --- |",
        f"| time to interactive, board, Chromium 4× CPU throttling, median of {args.rounds} | {tti_board * 1000:.0f} ms"
        f" | empty page {tti_empty * 1000:.0f} ms | {tti_board / tti_empty:.1f}× |",
        f"| board API p50, {USERS} concurrent users × {args.requests} | {_p(api, 0.5) * 1000:.1f} ms"
        f" | /healthz {_p(health, 0.5) * 1000:.1f} ms | {_p(api, 0.5) / _p(health, 0.5):.1f}× |",
        f"| board API p99, {USERS} concurrent users × {args.requests} | {_p(api, 0.99) * 1000:.1f} ms"
        f" | /healthz {_p(health, 0.99) * 1000:.1f} ms | {_p(api, 0.99) / _p(health, 0.99):.1f}× |",
        f"| board API alone (one user, one request at a time), median of {args.requests}"
        f" | {_p(alone, 0.5) * 1000:.1f} ms | /healthz alone {_p(health_alone, 0.5) * 1000:.1f} ms"
        f" | {_p(alone, 0.5) / _p(health_alone, 0.5):.1f}× |",
        f"| server CPU time per request, under the {USERS}-user load | {cpu_per_board * 1000:.1f} ms"
        f" | /healthz {cpu_per_health * 1000:.2f} ms | {cpu_per_board / cpu_per_health:.0f}× |",
        f"| longest the server's event loop was blocked, {USERS} users loading the board"
        f" | {under_board['longest_ms']:.1f} ms | {USERS} users on /healthz {under_health['longest_ms']:.1f} ms | |",
        f"| the garbage collector under that load: full passes, longest pause"
        f" | {under_board['gc_full_passes']:.0f}, {under_board['gc_longest_ms']:.1f} ms"
        f" | /healthz {under_health['gc_full_passes']:.0f}, {under_health['gc_longest_ms']:.1f} ms | |",
        "",
    ]
    text = "\n".join(lines)
    # The notes kept by hand below the run's table (from the first "## " heading on) stay.
    kept = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
    notes = kept[kept.find("\n## ") :] if "\n## " in kept else ""
    args.out.write_text(text.rstrip("\n") + "\n" + notes, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
