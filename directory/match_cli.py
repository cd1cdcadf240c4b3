"""`partnerbot match --term [--send] [--json]`: pair every open new-head appointment with a buddy at once.

Prints the plan (new head -> buddy, score, reasons), the totals beside the greedy baseline's, and the
time each took. `--send` records the requests; the running bot asks each buddy within a quarter of an
hour (handlers.buddy.deliver_queued). Nothing is changed without `--send`.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.buddies import BuddyMatch


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("match", help="buddy matching: pair all open new-head appointments (--term)")
    parser.add_argument(
        "--term",
        action="store_true",
        required=True,
        help="assign every open appointment together (optimal plan, respecting capacity)",
    )
    parser.add_argument("--send", action="store_true", help="record the requests (the bot then asks each buddy)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON")
    parser.add_argument("--min-years", type=float, default=None, help="minimum years in headship for a buddy")
    parser.set_defaults(func=cmd_match)


async def run_match(database_url: str, send: bool = False, min_years: float | None = None) -> dict[str, Any]:
    from core.i18n import set_default_locale
    from core.settings import load_settings
    from directory import appointments as ap
    from directory.matching import Rules, assign, assign_greedy
    from storage.db import make_engine, make_sessionmaker

    settings = load_settings(database_url=database_url)
    set_default_locale(settings.default_locale)
    rules = ap.rules_from(settings)
    if min_years is not None:
        rules = Rules(min_years=min_years)
    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine).begin() as session:
            today = ap.local_today()
            heads = [await ap.newhead_for(session, a) for a in await ap.open_appointments(session)]
            cands = await ap.candidates_for(session, today)
            t0 = time.perf_counter()
            plan = assign(heads, cands, rules)
            t1 = time.perf_counter()
            greedy = assign_greedy(heads, cands, rules)
            t2 = time.perf_counter()
            by_head = {h.appointment_id: h for h in heads}
            by_cand = {c.person_id: c for c in cands}
            from directory.matching import score

            rows = []
            for pair in plan.pairs:
                scored = score(by_head[pair.appointment_id], by_cand[pair.buddy_person_id], rules)
                rows.append(
                    {
                        "appointment_id": pair.appointment_id,
                        "new_head": by_head[pair.appointment_id].name,
                        "buddy_person_id": pair.buddy_person_id,
                        "buddy": by_cand[pair.buddy_person_id].name,
                        "score": round(pair.score, 2),
                        "reasons": list(scored.reasons),
                    }
                )
            sent: list[BuddyMatch] = []
            skipped: list[tuple[int, str]] = []
            if send:
                sent, skipped = await ap.send_plan(session, plan, None, rules, today, queued=True)
    finally:
        await engine.dispose()
    return {
        "open_appointments": len(heads),
        "candidates": len(cands),
        "pairs": rows,
        "unassigned": [{"appointment_id": a, "new_head": by_head[a].name} for a in plan.unassigned],
        "total": round(plan.total, 2),
        "seconds": round(t1 - t0, 4),
        "greedy": {"total": round(greedy.total, 2), "pairs": len(greedy.pairs), "seconds": round(t2 - t1, 4)},
        "sent": len(sent),
        "skipped": [{"appointment_id": a, "why": why} for a, why in skipped],
    }


async def cmd_match(args: argparse.Namespace) -> int:
    from core.settings import load_settings

    result = await run_match(load_settings().database_url, args.send, args.min_years)
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
        return 0
    print(f"Open appointments: {result['open_appointments']}; candidate buddies: {result['candidates']}")
    for row in result["pairs"]:
        print(f"{row['new_head']} -> {row['buddy']}  score {row['score']}")
        print(f"    {'; '.join(row['reasons'])}")
    for row in result["unassigned"]:
        print(f"{row['new_head']} -> (no buddy free)")
    greedy = result["greedy"]
    print(
        f"Total score {result['total']} for {len(result['pairs'])} pairs in {result['seconds']} s; "
        f"greedy baseline {greedy['total']} for {greedy['pairs']} pairs in {greedy['seconds']} s."
    )
    if args.send:
        print(f"Recorded {result['sent']} requests; the bot will ask each buddy within a quarter of an hour.")
        for row in result["skipped"]:
            print(f"  not sent (appointment {row['appointment_id']}): {row['why']}")
    else:
        print("Nothing was sent. Run again with --send to ask the buddies.")
    return 0
