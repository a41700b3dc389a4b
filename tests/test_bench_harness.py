"""The benchmark harness's pure parts (benchmarks/measure.py) and its baselines, without running wrk:
`make bench` itself is too long for `make test`, but a broken parser or results schema shows up here."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from benchmarks import measure
from benchmarks.measure import Run

ROOT = Path(__file__).resolve().parent.parent
WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:18471/api/v1/tips
  2 threads and 8 connections
WRK_JSON {"requests": 420, "duration_us": 10000000, "non2xx": 3, "socket_errors": 0, "p50_us": 180000, "p90_us": 250000, "p99_us": 400000, "max_us": 500000, "mean_us": 190000.0}
"""


def test_wrk_figures_are_read_from_the_lua_summary_line():
    run = measure.parse_wrk(WRK_OUTPUT)
    assert run == Run(rps=42.0, p50_ms=180.0, p99_ms=400.0, requests=420, non2xx=3, socket_errors=0)
    with pytest.raises(ValueError):
        measure.parse_wrk("Running 10s test\n  Latency 1ms\n")


@pytest.mark.parametrize("values, pct, expected", [
    ([5.0], 99, 5.0), ([1, 2, 3, 4], 50, 2.5), ([1, 2, 3, 4, 5], 0, 1), ([1, 2, 3, 4, 5], 100, 5),
    ([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 90, 91.0), ([3, 1, 2], 50, 2),
])
def test_percentile_interpolates_between_ranks(values, pct, expected):
    assert measure.percentile(values, pct) == pytest.approx(expected)


def test_median_run_takes_each_figure_apart_so_one_noisy_run_does_not_count():
    runs = [Run(10, 5, 50, 100, 0, 0), Run(2, 40, 900, 20, 1, 0), Run(12, 6, 60, 120, 0, 0)]
    median = measure.median_run(runs)
    assert (median.rps, median.p50_ms, median.p99_ms) == (10, 6, 60)
    assert (median.requests, median.non2xx) == (240, 1)


def test_ratios_and_goals():
    assert measure.ratio(30, 40) == 0.75
    assert measure.ratio(1, 0) == 0.0
    assert measure.meets("submit_efficiency", 0.8) is True
    assert measure.meets("submit_efficiency", 0.79) is False
    assert measure.meets("flood_p99_ratio", 3.0) is True
    assert measure.meets("dashboard_scaling", 2.01) is False
    assert measure.meets("submit_vs_hello", 0.01) is None


def _document() -> dict:
    body = {figure: 1.0 for figure in measure.FIGURES}
    return {"machine": "test box", "date": "2026-11-28T00:00:00+00:00",
            "sqlite": {**body, "raw": {}}, "postgresql": {**body, "raw": {}}}


def test_results_schema_names_what_is_missing():
    assert measure.validate_results(_document()) == []
    broken = _document()
    del broken["postgresql"]["flood_p99_ratio"]
    broken["sqlite"]["queue_vs_hello"] = "fast"
    del broken["machine"]
    problems = measure.validate_results(broken)
    assert "postgresql.flood_p99_ratio is not a number" in problems
    assert "sqlite.queue_vs_hello is not a number" in problems
    assert "top-level 'machine' missing" in problems


def test_table_shows_both_databases_and_misses():
    document = _document()
    document["sqlite"]["submit_efficiency"] = 0.5
    text = measure.table(document)
    assert "sqlite" in text and "postgresql" in text
    line = next(line for line in text.splitlines() if line.startswith("submit_efficiency"))
    assert "MISS" in line and "ok" in line


def test_committed_results_follow_the_schema():
    path = ROOT / "benchmarks" / "results.json"
    if not path.exists():
        pytest.skip("no benchmarks/results.json yet (make bench writes it)")
    assert measure.validate_results(json.loads(path.read_text())) == []


def _call(app, method: str = "POST", body: bytes = b"{}"):
    status = {}

    def start_response(line, headers):
        status["line"] = line

    environ = {"REQUEST_METHOD": method, "PATH_INFO": "/", "SERVER_NAME": "bench", "SERVER_PORT": "80",
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body)),
               "SERVER_PROTOCOL": "HTTP/1.1"}
    return status, b"".join(app(environ, start_response))


def test_baselines_answer_and_the_kdf_uses_the_apps_parameters(monkeypatch):
    from benchmarks import apps
    from config import Config

    assert apps.PARAMS.time_cost == Config.TIPOFF_ARGON2_TIME_COST
    assert apps.PARAMS.memory_kib == Config.TIPOFF_ARGON2_MEMORY_KIB
    assert apps.PARAMS.parallelism == Config.TIPOFF_ARGON2_PARALLELISM
    monkeypatch.setenv("TIPOFF_ARGON2_TIME_COST", "3")
    assert apps.argon2_params().time_cost == 3

    status, body = _call(apps.hello, body=b"x" * 600)
    assert status["line"].startswith("200") and body == b"hello"
    status, body = _call(apps.kdf)
    assert status["line"].startswith("201") and json.loads(body)["hashed"] > 80


def test_every_lua_script_the_harness_names_exists():
    lua = ROOT / "benchmarks" / "lua"
    source = (ROOT / "benchmarks" / "run.py").read_text()
    for name in ("submit.lua", "lookup.lua", "get.lua", "post.lua"):
        assert name in source
        assert "report.done" in (lua / name).read_text()


def _level(**rps) -> dict:
    return {name: {"rps": value, "p50_ms": 10.0, "p99_ms": 20.0} for name, value in rps.items()}


def _raw() -> dict:
    """Three levels' medians as run.py writes them (the large level's hello and kdf half the small one's)."""
    return {
        "levels": [10, 100, 1000],
        "10": {**_level(hello=1000, kdf=20, submit_mixed=16, queue_json=400, queue_html=300),
               "dashboard": {"rps": 5, "p50_ms": 100.0, "p99_ms": 150.0}},
        "100": _level(hello=1000, kdf=20, submit_mixed=16, submit_anonymous=17, submit_named=15, queue_json=350,
                      queue_html=320),
        "1000": {**_level(hello=500, kdf=10, submit_mixed=15, queue_json=380, queue_html=150),
                 "dashboard": {"rps": 4, "p50_ms": 150.0, "p99_ms": 300.0}},
        "export": {"small": {"max_rss_kib": 100_000}, "large": {"max_rss_kib": 120_000}},
        "flood": {"quiet": {"p99_ms": 200.0}, "flooded": {"p99_ms": 500.0}},
    }


def test_headline_figures_come_from_the_raw_medians():
    raw = _raw()
    found = measure.figures(raw)
    assert found == {"submit_efficiency": 0.75, "submit_vs_hello": 0.015, "queue_vs_hello": 0.32,
                     "size_ratio_submit": 0.938, "size_ratio_queue": 0.5, "dashboard_scaling": 1.5,
                     "export_memory_ratio": 1.2, "flood_p99_ratio": 2.5}
    checks = measure.cross_checks(raw)
    assert checks["submit_efficiency_anonymous"] == 0.85
    assert checks["queue_vs_hello_html"] == 0.32 and checks["queue_vs_hello_json"] == 0.35
    assert "floor_vs_hello" not in checks and "flood_p99_ratio_without_limits" not in checks
    assert "flood_p99_ratio_app_guarded" not in checks
    raw["100"]["floor"] = {"rps": 450.0, "p50_ms": 2.0, "p99_ms": 5.0}
    raw["flood_without_limits"] = {"quiet": {"p99_ms": 100.0}, "flooded": {"p99_ms": 700.0}}
    raw["flood_app_guarded"] = {"quiet": {"p99_ms": 100.0}, "flooded": {"p99_ms": 400.0}}
    raw["flood_edge_immediate"] = {"quiet": {"p99_ms": 100.0}, "flooded": {"p99_ms": 350.0}}
    checks = measure.cross_checks(raw)
    assert checks["floor_vs_hello"] == 0.45 and checks["flood_p99_ratio_without_limits"] == 7.0
    assert checks["flood_p99_ratio_app_guarded"] == 4.0 and checks["flood_p99_ratio_edge_immediate"] == 3.5
    assert checks["flood_submits_refused"] == 0
    raw["flood"]["flooded"]["non2xx"] = 3
    assert measure.cross_checks(raw)["flood_submits_refused"] == 3
    assert measure.figures(raw)["flood_p99_ratio"] == 2.5  # the headline stays the flood as deployed (nginx)


@pytest.mark.parametrize("large, small, expected", [
    ([100, 280, 290], [105, 300, 290], 0.952),  # pairs 0.952, 0.933, 1.0; the medians' ratio would be 0.966
    ([50, 300, 300], [300, 50, 300], 1.0),      # one slow minute on each side: pairs 0.167, 6.0, 1.0
    ([90.0], [100.0], 0.9),
    ([90, 110], [100, 100], 1.0),               # an even count takes the mean of the middle two
])
def test_paired_ratio_is_the_median_of_the_rounds_pairs(large, small, expected):
    assert measure.paired_ratio(large, small) == expected


@pytest.mark.parametrize("large, small", [([], []), ([1.0, 2.0], [1.0]), ([5.0, 6.0], [5.0, 0.0]),
                                          ([0.0, 6.0], [5.0, 6.0])])
def test_paired_ratio_refuses_unpaired_runs(large, small):
    with pytest.raises(ValueError):
        measure.paired_ratio(large, small)


def _runs(*values: float, field: str = "rps") -> list:
    return [measure.Run(rps=v if field == "rps" else 1.0, p50_ms=v if field == "p50_ms" else 1.0, p99_ms=1.0,
                        requests=1, non2xx=0, socket_errors=0) for v in values]


def test_size_figures_are_the_median_of_the_side_by_side_pairs():
    raw = _raw()
    large = {"submit_mixed": _runs(15, 16, 14), "queue_json": _runs(100, 280, 290), "queue_html": _runs(150, 310, 320),
             "dashboard": _runs(150.0, 90.0, 210.0, field="p50_ms")}
    small = {"submit_mixed": _runs(16, 15, 15), "queue_json": _runs(105, 300, 290), "queue_html": _runs(300, 300, 310),
             "dashboard": _runs(100.0, 100.0, 100.0, field="p50_ms")}
    raw["size_rounds"] = measure.size_rounds(large, small)
    assert raw["size_rounds"]["dashboard"] == {"large": [150.0, 90.0, 210.0], "small": [100.0, 100.0, 100.0]}
    found = measure.figures(raw)
    assert found["size_ratio_submit"] == 0.938   # pairs 0.938, 1.067, 0.933
    assert found["size_ratio_queue"] == 0.952    # JSON pairs 0.952, 0.933, 1.0; HTML 0.5, 1.033, 1.032
    assert found["dashboard_scaling"] == 1.5     # pairs 1.5, 0.9, 2.1
    checks = measure.cross_checks(raw)
    assert checks["queue_json_size_ratio"] == 0.952 and checks["queue_html_size_ratio"] == 1.032
    assert checks["queue_json_size_ratio_of_medians"] == 0.95  # 380 / 400, the levels' medians
    assert checks["queue_html_size_ratio_of_medians"] == 0.5


def test_the_benchmarks_nginx_is_the_deployed_file_with_or_without_the_refusals_hold(tmp_path):
    """benchmarks/nginx.py runs deploy/nginx.conf as written but for TLS and ports; the flood's second edge
    run drops only the limit_rate lines that hold a refusal."""
    from benchmarks.nginx import ROOT, site_config

    deployed = (ROOT / "deploy" / "nginx.conf").read_text()
    held = site_config(tmp_path, 18000, 18001)
    immediate = site_config(tmp_path, 18000, 18001, immediate_refusals=True)
    directive = re.compile(r"^ *limit_rate \S+;$", re.M)
    assert len(directive.findall(deployed)) == len(directive.findall(held)) == 2 and not directive.search(immediate)
    assert "ssl_certificate" not in held and "listen 127.0.0.1:18000;" in held and "127.0.0.1:18001" in held
    assert [line for line in held.splitlines() if not directive.match(line)] == immediate.splitlines()
