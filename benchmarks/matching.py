"""5. Batch matching: hundreds of new heads against tens of thousands of candidate buddies, the optimal
assignment (`directory.matching.assign`) beside the greedy baseline (`assign_greedy`)."""

from __future__ import annotations

import time

from benchmarks.common import Env, Section, secs, times
from directory.matching import Rules, assign, assign_greedy
from directory.synthetic import candidates, make_directory, new_heads


def run_sync(env: Env) -> Section:
    s = env.sizes
    directory = make_directory(s.candidates, s.candidates, s.seed)  # one head per school: the candidates
    pool = candidates(directory)
    heads = new_heads(directory, s.heads, s.seed)
    places = sum(c.free for c in pool if c.available)
    sec = Section("5. Batch matching", f"{len(heads):,} new heads against {len(pool):,} candidate buddies "
                  f"({places:,} places offered); default rules (top-{Rules().top_k} pruning, coverage first).")
    start = time.perf_counter()
    best = assign(heads, pool)
    t_best = time.perf_counter() - start
    start = time.perf_counter()
    greedy = assign_greedy(heads, pool)
    t_greedy = time.perf_counter() - start
    env.log(f"  assign {t_best:.2f} s (total {best.total:,.0f}), greedy {t_greedy:.2f} s (total {greedy.total:,.0f})")
    sec.figures.update(assign_seconds=t_best, greedy_seconds=t_greedy, assign_total=best.total,
                       greedy_total=greedy.total)
    sec.add("Time", secs(t_best), f"greedy {secs(t_greedy)}", times(t_best / t_greedy, "greedy's time"))
    gain = best.total / greedy.total if greedy.total else float("nan")
    sec.add("Total score", f"{best.total:,.1f}", f"greedy {greedy.total:,.1f}", f"{gain - 1:+.2%}")
    sec.add("New heads given a buddy", f"{len(best.pairs):,} of {len(heads):,}",
            f"greedy {len(greedy.pairs):,}", f"{len(best.pairs) - len(greedy.pairs):+d}")
    mean_best = best.total / len(best.pairs) if best.pairs else 0.0
    mean_greedy = greedy.total / len(greedy.pairs) if greedy.pairs else 0.0
    sec.add("Mean score per pair", f"{mean_best:.2f}", f"greedy {mean_greedy:.2f}")
    if best.stats:
        sec.notes.append("assign: " + ", ".join(f"{k} {int(v):,}" if float(v).is_integer() else f"{k} {v:.2f}"
                                                for k, v in best.stats.items()))
    return sec


async def run(env: Env) -> Section:
    return run_sync(env)
