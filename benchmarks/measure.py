"""The harness's pure parts: reading wrk's figures, medians, ratios, the results file and the table.

No I/O beyond what the arguments carry, so tests/test_bench_harness.py checks them in milliseconds.
"""
from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass
from typing import Iterable, Mapping, Sequence

# The figures results.json must hold per database, with the goal for each (">=" or "<=").
GOALS: dict[str, tuple[str, float]] = {
    "submit_efficiency": (">=", 0.8),
    "submit_vs_hello": ("", 0.0),  # informational: no goal
    "queue_vs_hello": (">=", 0.3),
    "size_ratio_submit": (">=", 0.9),
    "size_ratio_queue": (">=", 0.9),
    "dashboard_scaling": ("<=", 2.0),
    "export_memory_ratio": ("<=", 1.5),
    "flood_p99_ratio": ("<=", 3.0),
}
FIGURES = tuple(GOALS)
DATABASES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Run:
    """One wrk run: requests per second and latency percentiles in milliseconds."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    non2xx: int
    socket_errors: int


def parse_wrk(output: str) -> Run:
    """The figures our Lua `done()` printed on its `WRK_JSON {...}` line."""
    for line in output.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON "):])
            seconds = data["duration_us"] / 1e6
            return Run(rps=data["requests"] / seconds if seconds > 0 else 0.0, p50_ms=data["p50_us"] / 1000,
                       p99_ms=data["p99_us"] / 1000, requests=data["requests"], non2xx=data["non2xx"],
                       socket_errors=data["socket_errors"])
    raise ValueError("wrk printed no WRK_JSON line (was the Lua script loaded?)")


def percentile(values: Sequence[float], pct: float) -> float:
    """The pct-th percentile with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median_run(runs: Iterable[Run]) -> Run:
    """Each figure's median over repeated runs (a noisy neighbour spoils one run, not the figure)."""
    runs = list(runs)
    if not runs:
        raise ValueError("no runs")
    return Run(rps=statistics.median(r.rps for r in runs), p50_ms=statistics.median(r.p50_ms for r in runs),
               p99_ms=statistics.median(r.p99_ms for r in runs), requests=sum(r.requests for r in runs),
               non2xx=sum(r.non2xx for r in runs), socket_errors=sum(r.socket_errors for r in runs))


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator rounded to 3 places; 0.0 when the denominator is zero (nothing measured)."""
    return round(numerator / denominator, 3) if denominator else 0.0


def paired_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of the per-round ratios of two targets measured one right after the other in each round.

    A pair shares its minute of this machine; two medians taken over all rounds do not (one side's median
    can come from a slow minute and the other's from a fast one), so for side-by-side targets the median of
    the pairs is the figure and the ratio of the medians only a cross-check.
    """
    if not numerators or len(numerators) != len(denominators):
        raise ValueError("paired runs must come in pairs")
    if not all(numerators) or not all(denominators):
        raise ValueError("a round measured nothing on one side of a pair (a failed run, not a ratio)")
    return round(statistics.median(n / d for n, d in zip(numerators, denominators)), 3)


# The size figures' targets, each measured at the large and the small store in the same rounds, with the
# run figure each compares (throughput for load, median latency for the one-connection dashboard).
SIZE_PAIRS = {"submit_mixed": "rps", "queue_json": "rps", "queue_html": "rps", "dashboard": "p50_ms"}


def size_rounds(large_runs: Mapping[str, Sequence[Run]], small_runs: Mapping[str, Sequence[Run]]) -> dict:
    """Per kind, the compared figure of each round at both sizes (run.py stores it as raw["size_rounds"])."""
    return {kind: {"large": [round(getattr(r, field), 2) for r in large_runs[kind]],
                   "small": [round(getattr(r, field), 2) for r in small_runs[kind]]}
            for kind, field in SIZE_PAIRS.items() if kind in large_runs and kind in small_runs}


def meets(figure: str, value: float) -> bool | None:
    """Whether a figure meets the issue's goal (None when it has none)."""
    op, goal = GOALS[figure]
    if not op:
        return None
    return value >= goal if op == ">=" else value <= goal


def run_dict(run: Run) -> dict:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(run).items()}


def figures(raw: Mapping) -> dict[str, float]:
    """The eight headline figures from one database's raw medians (run.py's `raw`; see README.md).

    Levels are (small, middle, large). Submit efficiency and the queue are read at the middle level; the size
    ratios compare the large level with the small one, which run.py measures side by side in the same rounds
    (two stores, one of each size): each is the median of the rounds' pairs (`paired_ratio`) when the raw
    figures carry them (`size_rounds`), else the ratio of the two medians.
    """
    small, middle, large = (raw[str(level)] for level in raw["levels"])
    queue_kinds = ("queue_json", "queue_html")
    submit_kinds = ("submit_anonymous", "submit_named")
    pairs = raw.get("size_rounds") or {}

    def sized(kind: str, field: str) -> float:
        if kind in pairs:
            return paired_ratio(pairs[kind]["large"], pairs[kind]["small"])
        return ratio(large[kind][field], small[kind][field])

    return {
        "submit_efficiency": min(ratio(middle[k]["rps"], middle["kdf"]["rps"]) for k in submit_kinds),
        "submit_vs_hello": min(ratio(middle[k]["rps"], middle["hello"]["rps"]) for k in submit_kinds),
        "queue_vs_hello": min(ratio(middle[k]["rps"], middle["hello"]["rps"]) for k in queue_kinds),
        "size_ratio_submit": sized("submit_mixed", "rps"),
        "size_ratio_queue": min(sized(k, "rps") for k in queue_kinds),
        "dashboard_scaling": sized("dashboard", "p50_ms"),
        "export_memory_ratio": ratio(raw["export"]["large"]["max_rss_kib"], raw["export"]["small"]["max_rss_kib"]),
        "flood_p99_ratio": ratio(raw["flood"]["flooded"]["p99_ms"], raw["flood"]["quiet"]["p99_ms"]),
    }


def cross_checks(raw: Mapping) -> dict[str, float]:
    """Per-kind ratios, the size figures' other statistic, tipoff's floor beside hello, the floods without nginx."""
    small, middle, large = (raw[str(level)] for level in raw["levels"])
    return {
        "submit_efficiency_anonymous": ratio(middle["submit_anonymous"]["rps"], middle["kdf"]["rps"]),
        "submit_efficiency_named": ratio(middle["submit_named"]["rps"], middle["kdf"]["rps"]),
        "queue_vs_hello_json": ratio(middle["queue_json"]["rps"], middle["hello"]["rps"]),
        "queue_vs_hello_html": ratio(middle["queue_html"]["rps"], middle["hello"]["rps"]),
        # The size figures as the ratio of the two medians (the headline is the median of the rounds' pairs),
        # and each queue kind's pairs on its own.
        **({f"{kind}_size_ratio_of_medians": ratio(large[kind][field], small[kind][field])
            for kind, field in SIZE_PAIRS.items() if kind in large and kind in small}
           if raw.get("size_rounds") else {}),
        **{f"{kind}_size_ratio": paired_ratio(sides["large"], sides["small"])
           for kind, sides in (raw.get("size_rounds") or {}).items() if kind.startswith("queue_")},
        # tipoff's cheapest endpoint (/healthz: the app's middleware and one trivial query) beside hello: the
        # most any tipoff page could reach of hello, for reading queue_vs_hello against.
        **({"floor_vs_hello": ratio(middle["floor"]["rps"], middle["hello"]["rps"])} if "floor" in middle else {}),
        # The same flood through nginx with its refusals answered at once (no two-second hold), against the
        # guarded app without nginx in front (the app's own per-client limits and KDF slots), and against
        # the app with every per-client limit off (the bounded KDF slots alone).
        **{f"flood_p99_ratio_{name}": ratio(raw[f"flood_{name}"]["flooded"]["p99_ms"],
                                            raw[f"flood_{name}"]["quiet"]["p99_ms"])
           for name in ("edge_immediate", "app_guarded", "without_limits") if f"flood_{name}" in raw},
        # Submits refused during the headline flood (they must all be stored, or the p99 would flatter).
        **({"flood_submits_refused": sum(raw["flood"][run].get("non2xx", 0) for run in ("quiet", "flooded"))}
           if "flood" in raw else {}),
    }


def validate_results(results: Mapping) -> list[str]:
    """Problems with a results.json document (empty: well formed)."""
    problems = []
    for key in ("machine", "date"):
        if not isinstance(results.get(key), (str, dict)) or not results.get(key):
            problems.append(f"top-level {key!r} missing")
    for database in DATABASES:
        body = results.get(database)
        if not isinstance(body, dict):
            problems.append(f"{database!r} missing")
            continue
        for figure in FIGURES:
            value = body.get(figure)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                problems.append(f"{database}.{figure} is not a number")
        if not isinstance(body.get("raw"), dict):
            problems.append(f"{database}.raw missing")
    return problems


def table(results: Mapping) -> str:
    """The figures side by side for both databases, with each goal and whether it is met."""
    databases = [d for d in DATABASES if isinstance(results.get(d), dict)]
    lines = [f"{'figure':<22}{'goal':>9}" + "".join(f"{d:>14}" for d in databases)]
    for figure in FIGURES:
        op, goal = GOALS[figure]
        cells = []
        for database in databases:
            value = results[database].get(figure)
            if not isinstance(value, (int, float)):
                cells.append(f"{'—':>14}")
                continue
            verdict = meets(figure, value)
            mark = "" if verdict is None else (" ok" if verdict else " MISS")
            cells.append(f"{value:>9.3f}{mark:<5}")
        goal_text = f"{op} {goal:g}" if op else "—"
        lines.append(f"{figure:<22}{goal_text:>9}" + "".join(cells))
    return "\n".join(lines)
