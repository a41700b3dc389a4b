"""`make bench`: every figure of issue 7's "Benchmarks", on SQLite and PostgreSQL, as ratios within one run.

For each database two stores, each a fresh data dir (and PostgreSQL database), `flask tipoff init` and
two enrolled staff users: a small one with the smallest level of tips (10k; BENCH_SCALE=smoke: 2k) and
the main one, topped up to the middle level (100k), measured, then to the largest (1M) and measured
side by side with the small one. wrk drives tipoff, a bare "hello" and a KDF-only app, all under gunicorn
with tipoff/gunicorn_conf.py and the same TIPOFF_WORKERS / TIPOFF_THREADS. Figures are medians of
BENCH_REPEATS short runs, interleaved so that a noisy neighbour spoils one run of each, not one side of a
ratio. Prints the table and writes benchmarks/results.json (see benchmarks/README.md).
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from benchmarks.measure import (Run, cross_checks, figures, median_run, parse_wrk, run_dict, size_rounds, table,
                                validate_results)
from benchmarks.nginx import NGINX, Nginx
from benchmarks.processes import wait_listening

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
WORK = Path(os.environ.get("BENCH_WORK_DIR", BENCH / ".work"))
VENV = ROOT / ".venv" / "bin"
LUA = BENCH / "lua"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432")
PG_DATABASE = "tipoff_bench"
SCALES = {"full": (10_000, 100_000, 1_000_000), "smoke": (2_000, 20_000, 100_000)}
PORTS = {"app": 18471, "hello": 18472, "kdf": 18473, "guarded": 18474, "nginx": 18475, "small": 18476}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


SCALE = os.environ.get("BENCH_SCALE", "full")
LEVELS = tuple(int(n) for n in os.environ["BENCH_LEVELS"].split(",")) if os.environ.get("BENCH_LEVELS") \
    else SCALES[SCALE]
DURATION = env_int("BENCH_DURATION", 10)
WARMUP = env_int("BENCH_WARMUP", 3)
REPEATS = env_int("BENCH_REPEATS", 3)
WORKERS = env_int("TIPOFF_WORKERS", 2)
THREADS = env_int("TIPOFF_THREADS", 4)
# Closed-loop load: as many connections as the workers have threads keeps every thread busy.
CONNECTIONS = env_int("BENCH_CONNECTIONS", WORKERS * THREADS)
FLOOD_CONNECTIONS = env_int("BENCH_FLOOD_CONNECTIONS", 300)
# Submit latency under the flood is read at a load that does not saturate the server by itself.
FLOOD_SUBMIT_CONNECTIONS = env_int("BENCH_FLOOD_SUBMIT_CONNECTIONS", 2)
EXPORT_ROWS = env_int("BENCH_EXPORT_ROWS", min(500_000, LEVELS[-1] // 2))


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- processes


def app_env(database: str, store: str = "main") -> dict[str, str]:
    """The environment tipoff, the seeder and the baselines run with for one store ("main" or "small") of
    one database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPOFF_")}
    env.update({
        "TIPOFF_ENV": "development", "TIPOFF_DATA_DIR": str(WORK / database / store),
        "TIPOFF_SECRET_KEY": "bench-" + "k7Qz9xW2mP4vR8tY6uN3" * 2, "TIPOFF_RATELIMIT_ENABLED": "false",
        "TIPOFF_WORKERS": str(WORKERS), "TIPOFF_THREADS": str(THREADS), "TIPOFF_LOG_LEVEL": "WARNING",
        "FLASK_APP": "wsgi:app", "PYTHONPATH": str(ROOT),
    })
    for name in ("TIPOFF_ARGON2_TIME_COST", "TIPOFF_ARGON2_MEMORY_KIB", "TIPOFF_ARGON2_PARALLELISM",
                 "TIPOFF_LOOKUP_KDF_SLOTS", "TIPOFF_LOOKUP_KDF_WAIT_MS"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    if database == "postgresql":
        env["TIPOFF_DATABASE_URL"] = f"{PG_ADMIN}/{PG_DATABASE}" + ("" if store == "main" else f"_{store}")
    return env


def run_python(env: dict, *args: str) -> str:
    """Run a Python module of the project with the app's environment; return its stdout."""
    done = subprocess.run([str(VENV / "python"), *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


class Server:
    """One gunicorn with tipoff/gunicorn_conf.py serving `target` on a local port."""

    def __init__(self, name: str, target: str, env: dict):
        self.name, self.target, self.env, self.port = name, target, env, PORTS[name]
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        self.log = open(WORK / f"gunicorn-{self.name}.log", "ab")
        self.process = subprocess.Popen(
            [str(VENV / "gunicorn"), "--config", "tipoff/gunicorn_conf.py", "--bind", f"127.0.0.1:{self.port}",
             "--access-logfile", "/dev/null", self.target], cwd=ROOT, env=self.env, stdout=self.log,
            stderr=self.log)
        # Then one second more: let every worker boot, not only the first.
        wait_listening(self.process, self.port, f"gunicorn {self.name} (see {self.log.name})", timeout=60,
                       settle=1.0, poll=0.3)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def wrk(url: str, script: str, *, connections: int = CONNECTIONS, duration: int = DURATION,
        env: dict | None = None) -> Run:
    """One wrk run against `url` with one of our Lua scripts."""
    threads = max(1, min(2, connections))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "30s",
               "-s", str(LUA / script), url]
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "BENCH_LUA_DIR": str(LUA), **(env or {})})
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr[-2000:]}")
    return parse_wrk(done.stdout)


# ------------------------------------------------------------------------------------------- staff login


class StaffSession:
    """A staff user logged in through the real forms (password, then a TOTP code), as wrk's Cookie header."""

    def __init__(self, base: str, credentials: dict):
        self.base, self.credentials = base, credentials
        self.last_step = credentials["enrolled_step"]

    def _code(self) -> str:
        import pyotp

        step = max(int(time.time()) // 30 - 1, self.last_step + 1)
        while step > int(time.time()) // 30 + 1:  # every usable step spent: wait for the next
            time.sleep(1)
        self.last_step = step
        return pyotp.TOTP(self.credentials["totp_secret"]).at(step * 30)

    def login(self) -> str:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def form(path: str, fields: dict) -> str:
            page = opener.open(self.base + path).read().decode()
            token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
            data = {**fields, **({"csrf_token": token.group(1)} if token else {})}
            request = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(data).encode(),
                                             headers={"Sec-Fetch-Site": "same-origin"})
            return opener.open(request).geturl()

        form("/staff/login", {"username": self.credentials["username"], "password": self.credentials["password"]})
        landed = form("/staff/login/totp", {"code": self._code()})
        if landed.rstrip("/").endswith(("/staff/login", "/staff/login/totp")):
            raise RuntimeError(f"login as {self.credentials['username']} failed (ended on {landed})")
        return "; ".join(f"{c.name}={c.value}" for c in jar)


def submit_one(base: str) -> str:
    """File one real tip through the API; return its reference (the flood's target)."""
    body = json.dumps({"category": "hazard", "sector": "gas", "township": "lingjing", "subject_name": "压测燃气站",
                       "description": "压测：储罐区报警器被关闭。"}).encode()
    request = urllib.request.Request(base + "/api/v1/tips", data=body, headers={"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request).read())["reference"]


# ------------------------------------------------------------------------------------------- measuring


def interleaved(targets: dict[str, Callable[[], Run]], repeats: int = REPEATS,
                rounds: dict[str, list[Run]] | None = None) -> dict[str, Run]:
    """Each target once per round (odd rounds in reverse order), `repeats` rounds after one warm-up round;
    each target's median run.

    `rounds`, when given, receives every target's runs in round order (for figures taken per round)."""
    for name, measure in targets.items():
        log(f"  warm-up {name}")
        with_duration = getattr(measure, "warm", None)
        (with_duration or measure)()
    runs: dict[str, list[Run]] = {name: [] for name in targets}
    if rounds is not None:
        rounds.update(runs)
    for round_ in range(repeats):
        # Every other round in reverse, so no target always runs first (or right after the same neighbour):
        # a pair's order effect cancels between rounds instead of biasing every pair one way.
        order = list(targets.items()) if round_ % 2 == 0 else list(reversed(targets.items()))
        for name, measure in order:
            run = measure()
            runs[name].append(run)
            log(f"  round {round_ + 1} {name}: {run.rps:.1f} req/s p50 {run.p50_ms:.1f} ms p99 {run.p99_ms:.1f} ms"
                + (f" non-2xx {run.non2xx}" if run.non2xx else ""))
    return {name: median_run(found) for name, found in runs.items()}


def target(url: str, script: str, warm_seconds: int = WARMUP, **kwargs) -> Callable[[], Run]:
    def measure() -> Run:
        return wrk(url, script, **kwargs)
    measure.warm = lambda: wrk(url, script, **{**kwargs, "duration": warm_seconds})  # type: ignore[attr-defined]
    return measure


def guarded_env(env: dict) -> dict:
    """The app as deployed behind nginx: per-client limits on, the client address from X-Forwarded-For."""
    return {**env, "TIPOFF_RATELIMIT_ENABLED": "true", "TIPOFF_TRUSTED_PROXIES": "1",
            "RATELIMIT_STORAGE_URI": "memory://"}


def flood(app: str, references: list[str], repeats: int = REPEATS, clients: bool = False) -> dict[str, Run]:
    """Submit latency alone, then with FLOOD_CONNECTIONS wrong-code lookups running; rounds interleaved.

    `clients`: the server trusts one proxy and limits per client; submits come from an address each and the
    flood from 300 addresses in turn (X-Forwarded-For), as many clients behind nginx would.
    """
    runs = iter(range(1, 251))

    def submit() -> dict:
        # Each run's submits from addresses no earlier run used (10.<run>.x.y): wrk restarts its counter every
        # run, and the same addresses again would meet the app's per-client limit on reports (5 a minute).
        return {"BENCH_REPORTER": "mixed", "BENCH_SALT": "guarded" if clients else "flood",
                **({"BENCH_CLIENTS": f"10.{next(runs)}"} if clients else {})}

    lookup_env = {"BENCH_REFERENCES": ",".join(references), **({"BENCH_CLIENTS": "203.0"} if clients else {})}
    quiet_runs, flooded_runs, lookup_runs = [], [], []
    wrk(app, "submit.lua", connections=FLOOD_SUBMIT_CONNECTIONS, duration=WARMUP, env=submit())
    for round_ in range(repeats):
        quiet_runs.append(wrk(app, "submit.lua", connections=FLOOD_SUBMIT_CONNECTIONS, env=submit()))
        flood_process = subprocess.Popen(
            ["wrk", "-t2", f"-c{FLOOD_CONNECTIONS}", f"-d{DURATION + WARMUP + 2}s", "--timeout", "30s", "-s",
             str(LUA / "lookup.lua"), app], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "BENCH_LUA_DIR": str(LUA), **lookup_env})
        time.sleep(WARMUP)
        flooded_runs.append(wrk(app, "submit.lua", connections=FLOOD_SUBMIT_CONNECTIONS, env=submit()))
        out, _err = flood_process.communicate()
        lookup_runs.append(parse_wrk(out))
        log(f"  round {round_ + 1} flood: submit p99 quiet {quiet_runs[-1].p99_ms:.0f} ms, flooded "
            f"{flooded_runs[-1].p99_ms:.0f} ms; lookups {lookup_runs[-1].rps:.0f} req/s "
            f"({lookup_runs[-1].non2xx} refused or not found)")
    return {"quiet": median_run(quiet_runs), "flooded": median_run(flooded_runs), "lookups": median_run(lookup_runs)}


def export_memory(env: dict) -> dict:
    """Peak RSS of a CSV export of EXPORT_ROWS rows vs one of a hundredth of that, each in a fresh process."""
    small_rows = max(EXPORT_ROWS // 100, 1)
    found = {}
    for label, rows in (("small", small_rows), ("large", EXPORT_ROWS)):
        log(f"  export {rows:,} rows (csv) in a fresh process")
        found[label] = json.loads(run_python(env, "-m", "benchmarks.export_rss", str(rows), "csv").strip()
                                  .splitlines()[-1])
    return found


# ------------------------------------------------------------------------------------------- one database


def prepare_database(database: str, env: dict) -> dict:
    """A fresh data dir (and database) for `env`'s store, initialised, with the benchmark's staff; return
    their credentials."""
    data_dir = Path(env["TIPOFF_DATA_DIR"])
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database == "postgresql":
        name = env["TIPOFF_DATABASE_URL"].rsplit("/", 1)[1]
        for command in (["dropdb", "--if-exists", "-h", "127.0.0.1", "-U", "postgres", name],
                        ["createdb", "-h", "127.0.0.1", "-U", "postgres", name]):
            subprocess.run(command, check=True)
    subprocess.run([str(VENV / "flask"), "tipoff", "init"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return json.loads(run_python(env, "-m", "benchmarks.prepare").strip().splitlines()[-1])


def top_up(env: dict, total: int) -> float:
    """Seed up to `total` tips, then rebuild the dashboard's aggregates (both outside any timed part)."""
    started = time.monotonic()
    run_python(env, "-m", "benchmarks.seed", str(total))
    subprocess.run([str(VENV / "flask"), "tipoff", "stats", "refresh"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seconds = time.monotonic() - started
    log(f"  {total:,} tips stored, stats refreshed, ANALYZEd ({seconds:.0f} s)")
    return seconds


def staff_sessions(app: Server, staff: dict) -> dict[str, StaffSession]:
    """One login helper per user of a store, kept for the whole run: each remembers the TOTP step it last
    spent, which the app refuses to take twice."""
    return {role: StaffSession(app.url, staff[role]) for role in ("handler", "overseer")}


def app_targets(app: Server, staff: dict, sessions: dict[str, StaffSession],
                salt: str) -> dict[str, Callable[[], Run]]:
    """What the size ratios compare, against one running tipoff: mixed submits and the queue (JSON, HTML)."""
    handler_cookie = sessions["handler"].login()
    return {
        "submit_mixed": target(app.url + "/api/v1/tips", "submit.lua",
                               env={"BENCH_REPORTER": "mixed", "BENCH_SALT": salt}),
        "queue_json": target(app.url + "/api/v1/cases", "get.lua", env={"BENCH_AUTH": staff["token"]}),
        "queue_html": target(app.url + "/staff/cases/", "get.lua", env={"BENCH_COOKIE": handler_cookie}),
    }


def dashboard_target(app: Server, sessions: dict[str, StaffSession], env: dict) -> Callable[[], Run]:
    """The overseer's dashboard (one connection), its aggregates refreshed first so no request finds them
    stale."""
    run_python(env, "-c", "from tipoff import create_app\nfrom tipoff.oversight.stats import refresh\n"
                          "app = create_app()\nwith app.app_context(): refresh()")
    overseer_cookie = sessions["overseer"].login()
    return target(app.url + "/staff/oversight/", "get.lua", connections=1, env={"BENCH_COOKIE": overseer_cookie})


def measure_floods(app: Server, env: dict, raw: dict) -> None:
    """The lookup flood against the app as deployed (headline), and against it without nginx and without
    limits (raw), each aimed at one real reference and unknown ones."""
    reference = submit_one(app.url)
    year = reference.split("-")[1]
    # The real reference (its true hash is verified) and unknown ones (the dummy hash is).
    references = [reference] + [f"JA-{year}-{9_000_000 + n}" for n in range(9)]
    # Headline: the app as deployed, behind deploy/nginx.conf (per-address rates, the in-flight limit on
    # access-code checks and the two-second hold of a refusal there; per-client limits and KDF slots in the
    # app), many flooding addresses. Raw also keeps the same flood through that nginx with its refusals
    # answered at once (no hold: what a flood that does not wait for answers costs the edge), against the
    # guarded app without nginx, and against the app with every limit off, where only the bounded KDF slots
    # stand against it.
    raw["flood_without_limits"] = {k: run_dict(v) for k, v in flood(app.url, references).items()}
    guarded = Server("guarded", "wsgi:app", guarded_env(env)).start()
    try:
        raw["flood_app_guarded"] = {k: run_dict(v) for k, v in flood(guarded.url, references, clients=True).items()}
        for name, immediate in (("flood", False), ("flood_edge_immediate", True)):
            guarded.stop()  # fresh per-client limits: each run through nginx sends the same addresses
            guarded.start()
            edge = Nginx(WORK / "nginx", PORTS["nginx"], guarded.port, trust_forwarded=True,
                         worker_connections=4 * FLOOD_CONNECTIONS, immediate_refusals=immediate).start()
            try:
                raw[name] = {k: run_dict(v) for k, v in flood(edge.url, references, clients=True).items()}
            finally:
                edge.stop()
    finally:
        guarded.stop()


def measure_database(database: str) -> dict:
    """All figures for one database.

    The size ratios compare two stores measured side by side in the same rounds (the small one beside the
    main one at the largest level), not two levels minutes apart: this machine's speed drifts by up to 3×
    between minutes, and a ratio of the same code at two sizes should see the size, not the drift.
    """
    env, small_env = app_env(database), app_env(database, "small")
    small_level, middle_level, large_level = LEVELS
    started = time.monotonic()
    log(f"{database}: preparing")
    staff, small_staff = prepare_database(database, env), prepare_database(database, small_env)
    app, small_app = Server("app", "wsgi:app", env), Server("small", "wsgi:app", small_env)
    sessions, small_sessions = staff_sessions(app, staff), staff_sessions(small_app, small_staff)
    baselines = [Server("hello", "benchmarks.apps:hello", env).start(), Server("kdf", "benchmarks.apps:kdf", env).start()]
    hello, kdf = target(baselines[0].url, "post.lua"), target(baselines[1].url, "post.lua")
    raw: dict = {"levels": list(LEVELS), "seed_seconds": {}}
    try:
        log(f"{database}: small store, {small_level:,} tips")
        raw["seed_seconds"][str(small_level)] = round(top_up(small_env, small_level), 1)

        log(f"{database}: level {middle_level:,} tips")
        raw["seed_seconds"][str(middle_level)] = round(top_up(env, middle_level), 1)
        app.start()
        targets = {"hello": hello, "kdf": kdf, **app_targets(app, staff, sessions, f"m{middle_level}")}
        # Submit efficiency with both kinds of reporter, and tipoff's cheapest endpoint beside hello.
        for reporter in ("anonymous", "named"):
            targets[f"submit_{reporter}"] = target(app.url + "/api/v1/tips", "submit.lua",
                                                   env={"BENCH_REPORTER": reporter, "BENCH_SALT": reporter[0]})
        targets["floor"] = target(app.url + "/healthz", "get.lua")
        raw[str(middle_level)] = {name: run_dict(run) for name, run in interleaved(targets).items()}
        measure_floods(app, env, raw)

        log(f"{database}: level {large_level:,} tips, beside the small store")
        raw["seed_seconds"][str(large_level)] = round(top_up(env, large_level), 1)
        app.stop()
        app.start()
        small_app.start()
        large = {**app_targets(app, staff, sessions, f"m{large_level}"),
                 "dashboard": dashboard_target(app, sessions, env)}
        small = {**app_targets(small_app, small_staff, small_sessions, f"m{small_level}"),
                 "dashboard": dashboard_target(small_app, small_sessions, small_env)}
        # Each kind at both sizes one after the other, so the two sides of a size ratio share their minute.
        targets = {"hello": hello, "kdf": kdf}
        for kind in large:
            targets[f"{kind}@large"], targets[f"{kind}@small"] = large[kind], small[kind]
        each_round: dict[str, list[Run]] = {}
        runs = interleaved(targets, rounds=each_round)
        raw["size_rounds"] = size_rounds({kind: each_round[f"{kind}@large"] for kind in large},
                                         {kind: each_round[f"{kind}@small"] for kind in small})
        for level, side in ((large_level, "large"), (small_level, "small")):
            raw[str(level)] = {"hello": run_dict(runs["hello"]), "kdf": run_dict(runs["kdf"]),
                               **{kind: run_dict(runs[f"{kind}@{side}"]) for kind in large}}
        log(f"{database}: export memory")
        raw["export"] = export_memory(env)
    finally:
        for server in (app, small_app, *baselines):
            server.stop()
    raw["seconds"] = round(time.monotonic() - started)
    raw["checks"] = cross_checks(raw)
    return {**figures(raw), "raw": raw}


def machine() -> str:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.node()}: {os.cpu_count()} CPUs ({cpu}){memory}, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `apt-get install wrk` (make bench does it)")
    if NGINX is None:
        raise SystemExit("nginx is missing: `apt-get install nginx-light` (make bench does it)")
    databases = [d.strip() for d in os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",") if d.strip()]
    WORK.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results: dict = {
        "machine": machine(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "settings": {"scale": SCALE, "levels": list(LEVELS), "duration_s": DURATION, "warmup_s": WARMUP,
                     "repeats": REPEATS, "workers": WORKERS, "threads": THREADS, "connections": CONNECTIONS,
                     "flood_connections": FLOOD_CONNECTIONS, "flood_submit_connections": FLOOD_SUBMIT_CONNECTIONS,
                     "export_rows": [max(EXPORT_ROWS // 100, 1), EXPORT_ROWS], "export_format": "csv",
                     "argon2": _argon2_text()},
    }
    out = Path(os.environ.get("BENCH_RESULTS", BENCH / "results.json"))
    for database in databases:
        results[database] = measure_database(database)
        results["settings"]["total_seconds"] = round(time.monotonic() - started)
        # Written after each database, so a failure in the second keeps the first's figures.
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    problems = validate_results(results)
    print(f"\n{results['machine']}\n{results['date']}, scale {SCALE} {LEVELS}, "
          f"{results['settings']['total_seconds']} s; written to {out}")
    if problems:
        print("results incomplete: " + "; ".join(problems))


def _argon2_text() -> str:
    from benchmarks.apps import PARAMS

    return f"argon2id m={PARAMS.memory_kib} KiB t={PARAMS.time_cost} p={PARAMS.parallelism}"


if __name__ == "__main__":
    main()
