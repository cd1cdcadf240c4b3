"""5. Batch matching: hundreds of new heads against tens of thousands of candidate buddies, the optimal
assignment (`directory.matching.assign`) beside the greedy baseline (`assign_greedy`)."""

from __future__ import annotations

import dataclasses
import random
import time

from benchmarks.common import Env, Section, secs, times
from directory.matching import Rules, assign, assign_greedy
from directory.synthetic import candidates, make_directory, new_heads


def _compare(sec: Section, label: str, heads: list, pool: list, env: Env) -> None:
    start = time.perf_counter()
    best = assign(heads, pool)
    t_best = time.perf_counter() - start
    start = time.perf_counter()
    greedy = assign_greedy(heads, pool)
    t_greedy = time.perf_counter() - start
    env.log(
        f"  {label}: assign {t_best:.2f} s (total {best.total:,.0f}), greedy {t_greedy:.2f} s "
        f"(total {greedy.total:,.0f})"
    )
    key = label.split()[0].lower()
    sec.figures.update(
        {
            f"{key}_assign_seconds": t_best,
            f"{key}_greedy_seconds": t_greedy,
            f"{key}_assign_total": best.total,
            f"{key}_greedy_total": greedy.total,
        }
    )
    sec.add(f"{label}: time", secs(t_best), f"greedy {secs(t_greedy)}", times(t_best / t_greedy, "greedy's time"))
    gain = best.total / greedy.total - 1 if greedy.total else float("nan")
    sec.add(f"{label}: total score", f"{best.total:,.1f}", f"greedy {greedy.total:,.1f}", f"{gain:+.2%}")
    sec.add(
        f"{label}: new heads given a buddy",
        f"{len(best.pairs):,} of {len(heads):,}",
        f"greedy {len(greedy.pairs):,}",
        f"{len(best.pairs) - len(greedy.pairs):+d}",
    )
    if best.stats:
        sec.notes.append(
            f"{label}, assign: "
            + ", ".join(f"{k} {int(v):,}" if float(v).is_integer() else f"{k} {v:.2f}" for k, v in best.stats.items())
        )


def run_sync(env: Env) -> Section:
    s = env.sizes
    directory = make_directory(s.candidates, s.candidates, s.seed)  # one head per school: the candidates
    pool = candidates(directory)
    heads = new_heads(directory, s.heads, s.seed)
    places = sum(c.free for c in pool if c.available)
    sec = Section(
        "5. Batch matching",
        f"{len(heads):,} new heads against {len(pool):,} candidate buddies; "
        f"default rules (top-{Rules().top_k} pruning, coverage first). Baseline: `assign_greedy` (best "
        "remaining pair first). Two cases: places as the generator offers them, and places scarce "
        "(one place each for as many buddies as there are new heads), where the order of choosing "
        "matters.",
    )
    _compare(sec, f"Plenty ({places:,} places)", heads, pool, env)
    rng = random.Random(f"scarce:{s.seed}")
    offered = set(rng.sample(range(len(pool)), min(len(pool), len(heads))))
    scarce = [
        dataclasses.replace(c, capacity=1 if i in offered else 0, open_matches=0, available=True)
        for i, c in enumerate(pool)
    ]
    _compare(sec, f"Scarce ({len(offered):,} places)", heads, scarce, env)
    sec.figures["assign_total"] = sec.figures["plenty_assign_total"] + sec.figures["scarce_assign_total"]
    sec.figures["greedy_total"] = sec.figures["plenty_greedy_total"] + sec.figures["scarce_greedy_total"]
    return sec


async def run(env: Env) -> Section:
    return run_sync(env)
