"""Top the benchmark database up to N tips, fast: synthetic but realistic rows written in bulk.

`python -m benchmarks.seed N` (with the app's TIPOFF_* environment) adds only the tips missing below N,
so a run goes 10k → measure → 100k → measure → 1M without reseeding. Rows are spread over ~3 years (more
in recent months), over the district's categories, sectors and townships, routed the way the routing table
mostly routes (the sector's lead department, 打非治违 to the township, the rest to 安委办), with statuses
that follow the tip's age and the case events that led there.

The sensitive parts are real ciphertexts made by the app's crypto: a pool of a few hundred descriptions
sealed under real data keys, identities sealed to the identity key, signed proofs and one argon2id
access-code hash, reused across rows (a reused blob does not open under another row's AAD; nothing in the
measured paths opens it). PostgreSQL gets COPY, SQLite executemany; ANALYZE runs at the end.
"""
from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable, Sequence

from sqlalchemy import event, func, select, text

POOL = 256
BATCH = 20_000
SPAN_DAYS = 3 * 365
HANDLER_DEPARTMENT = "yjj"  # 区应急管理局: the department whose queue the benchmark reads
CATEGORY_WEIGHTS = {"hazard": 48, "violation": 24, "major_hazard": 12, "concealed_accident": 4, "other": 12}
CHANNEL_WEIGHTS = {"web": 55, "hotline_12345": 20, "hotline_12350": 15, "phone": 5, "letter": 3, "visit": 2}
OUTCOME_WEIGHTS = {"substantiated": 45, "partially_substantiated": 20, "unsubstantiated": 30, "unverifiable": 5}
SUBJECTS = ("许昌{}建材有限公司", "建安区{}化工有限公司", "河南{}燃气有限公司", "许昌{}物流有限公司", "{}建筑工程有限公司",
            "建安区{}食品厂", "许昌{}机械制造有限公司", "{}商贸有限公司", "建安区{}养老院", "{}加油站")
PLACES = ("灵井", "五女店", "张潘", "苏桥", "陈曹", "小召", "榆林", "将官池", "许由", "新元", "邓庄", "长村张", "尚集")
DESCRIPTIONS = (
    "厂区东侧的危化品仓库没有通风设施，工人说夜班时闻到很浓的刺激性气味，已经持续两周。",
    "工地脚手架没有安全网，塔吊司机无证上岗，上周有钢管从高处掉落险些砸到人。",
    "加气站储罐区的可燃气体报警器被人为关闭，站长说是误报太多。",
    "车间消防通道被成品堆放堵死，灭火器过期半年没有检测，安全出口指示灯不亮。",
    "上个月厂里有工人被机器卷伤送医，老板让大家不要对外说，也没有向安监部门报告。",
    "有限空间作业没有通风检测，也没有监护人员，工人直接下到污水池里清淤。",
)


_TABLES: dict[int, tuple[list, list]] = {}


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    """A key drawn with the given weights (the cumulative table is built once per dict)."""
    table = _TABLES.get(id(weights))
    if table is None:
        keys, total, cumulative = list(weights), 0.0, []
        for key in keys:
            total += weights[key]
            cumulative.append(total)
        table = _TABLES[id(weights)] = (keys, cumulative)
    keys, cumulative = table
    return keys[bisect.bisect_right(cumulative, rng.random() * cumulative[-1])]


class Pool:
    """Real ciphertexts made once per run by the app's crypto and reused across synthetic rows."""

    def __init__(self, first_id: int, now: datetime):
        from tipoff import crypto
        from tipoff.intake.proof import make_proof
        from tipoff.intake.submission import ReporterDetails

        self.access_code_hash = crypto.hash_secret(crypto.random_digits(16))
        self.entries = []
        for i in range(POOL):
            key = crypto.new_data_key("tip")
            description = DESCRIPTIONS[i % len(DESCRIPTIONS)]
            tip_id = first_id + i
            sealed = crypto.encrypt(description.encode(), key, aad=f"tip:{tip_id}:description".encode())
            reference = f"JA-{now.year}-{tip_id:06d}"
            digest = hashlib.sha256(f"{description}|{i}".encode()).hexdigest()
            proof = make_proof(reference, now.replace(microsecond=0), digest)
            identity = crypto.seal_identity(ReporterDetails(
                name=f"王{'明华建国秀英'[i % 6]}", phone=f"1390000{i:04d}", id_number=None).to_bytes())
            self.entries.append({"data_key_id": key.id, "sealed": sealed, "digest": digest, "proof": proof,
                                 "identity": identity, "phone_index": crypto.blind_index("phone", f"1390000{i:04d}")})


def _reference_data():
    from tipoff.extensions import db
    from tipoff.reference.models import Category, Department, Sector, Township

    departments = {d.code: d.id for d in db.session.scalars(select(Department))}
    sectors = {s.code: s.lead_department_id for s in db.session.scalars(select(Sector).where(Sector.active))}
    townships = {t.code: t.department_id for t in db.session.scalars(select(Township).where(Township.active))}
    categories = [c for c in db.session.scalars(select(Category.code).where(Category.active))]
    return departments, sectors, townships, categories


# The state a tip has reached by its age in days: fresh tips wait, most older ones are closed.
STATUS_BY_AGE = (
    (3, {"received": 70, "verifying": 30}),
    (60, {"received": 10, "verifying": 60, "concluded": 15, "under_review": 2, "closed": 8, "rejected": 5}),
    (180, {"verifying": 10, "concluded": 10, "under_review": 2, "closed": 68, "rejected": 10}),
    (SPAN_DAYS + 1, {"closed": 88, "rejected": 10, "concluded": 1.5, "verifying": 0.5}),
)


def _status_for_age(rng: random.Random, age_days: float) -> str:
    table = next(table for limit, table in STATUS_BY_AGE if age_days < limit)
    return weighted(rng, table)


def synthetic_rows(first_id: int, count: int, now: datetime, pool: Pool, seed: int, reference: tuple
                   ) -> Iterable[tuple[dict, list[dict], dict | None]]:
    """(tip row, its case events, its identity row or None) for tips first_id … first_id + count - 1."""
    from tipoff.cases.duplicates import subject_key
    from tipoff.clockview import SHANGHAI

    departments, sectors, townships, categories = reference
    ajw = departments["ajw"]
    category_weights = {c: CATEGORY_WEIGHTS.get(c, 2) for c in categories}
    # A few sectors carry most tips (construction, hazchem, gas, fire, industry …).
    sector_codes = sorted(sectors)
    sector_weights = {code: (12 if code in ("construction", "hazchem", "gas", "fire", "industry") else 3)
                      for code in sector_codes}
    township_codes = sorted(townships)
    rng = random.Random(seed)
    for tip_id in range(first_id, first_id + count):
        entry = pool.entries[tip_id % POOL]
        # More tips in recent months: position along the 3 years grows like u^(1/1.3).
        age = SPAN_DAYS * (1 - rng.random() ** (1 / 1.3))
        received = (now - timedelta(days=age, seconds=rng.randrange(86_400))).replace(microsecond=0)
        category = weighted(rng, category_weights)
        sector = weighted(rng, sector_weights)
        township = rng.choice(township_codes)
        if category == "violation" and rng.random() < 0.6:
            department, rule = townships[township] or ajw, "r2_illegal_operation"
        elif rng.random() < 0.9 and sectors[sector]:
            department, rule = sectors[sector], "r3_sector_lead"
        else:
            department, rule = ajw, "r7_fallback"
        status = _status_for_age(rng, age)
        accepted = concluded = outcome = conclusion = None
        deadline, deadline_rule, started = received + timedelta(days=7), "T2", received
        events = []

        def event(action: str, before: str, after: str, at: datetime, details: dict | None = None) -> None:
            events.append({"tip_id": tip_id, "action": action, "actor_user_id": None, "actor_label": "seed",
                           "from_state": before, "to_state": after, "from_department_id": department,
                           "to_department_id": department, "text_sealed": None, "details": details,
                           "public": action != "note", "created_at": at})

        if status == "rejected":
            event("reject", "received", "rejected", received + timedelta(days=rng.uniform(0.5, 4)))
            deadline = None
        elif status != "received":
            accepted = received + timedelta(days=rng.uniform(0.3, 4), seconds=rng.randrange(3600))
            event("accept", "received", "verifying", accepted)
            deadline, deadline_rule, started = accepted + timedelta(days=84), "T3", accepted
            if status in ("concluded", "under_review", "closed"):
                concluded = min(accepted + timedelta(days=rng.uniform(5, 55)), now)
                outcome = weighted(rng, OUTCOME_WEIGHTS)
                fine = None
                if outcome in ("substantiated", "partially_substantiated") and rng.random() < 0.6:
                    fine = f"{rng.randrange(5, 200) * 1000}.00"
                conclusion = {"outcome": outcome, "enforcement": ["penalty"] if fine else ["rectification_order"],
                              "fine": fine, "penalty_decision_no": f"许建应急罚〔{received.year}〕{tip_id % 997}号"
                              if fine else None}
                event("conclude", "verifying", "concluded", concluded, {"outcome": outcome})
                deadline, deadline_rule, started = concluded + timedelta(days=30), "T6", concluded
                if status == "under_review":
                    event("object", "concluded", "under_review", concluded + timedelta(days=3))
                if status == "closed":
                    event("close", "concluded", "closed", min(concluded + timedelta(days=rng.uniform(1, 20)), now))
                    deadline = None
        named = rng.random() < 0.3
        subject = SUBJECTS[tip_id % len(SUBJECTS)].format(PLACES[(tip_id // 7) % len(PLACES)])
        tip = {
            "id": tip_id, "reference": f"JA-{received.astimezone(SHANGHAI).year}-{tip_id:06d}",
            "received_at": received, "channel": weighted(rng, CHANNEL_WEIGHTS), "category_code": category,
            "sector_code": sector, "township_code": township, "subject_name": subject,
            "subject_credit_code": None, "subject_key": subject_key(subject),
            "address": f"建安区{PLACES[tip_id % len(PLACES)]}{tip_id % 300 + 1}号", "occurred_on": received.date(),
            "description_sealed": entry["sealed"], "data_key_id": entry["data_key_id"],
            "insider": rng.random() < 0.15, "anonymous": not named, "keep_photo_metadata": False,
            "access_code_hash": pool.access_code_hash, "content_digest": entry["digest"], "proof": entry["proof"],
            "status": status, "department_id": department, "routing_rule": rule,
            "routing_explanation": "按行业领域由牵头部门受理（谁主管、谁负责）", "copy_to": [],
            "supervised": rng.random() < 0.02, "entered_by_user_id": None, "idempotency_digest": None,
            "idempotency_answer": None, "version": 1 + len(events), "deadline_at": deadline,
            "deadline_rule": deadline_rule if deadline else None, "deadline_provisional": False,
            "deadline_started_at": started if deadline else None, "reviews": int(status == "under_review"),
            "routine_cover": False, "transfers": 0, "designated": False, "awaiting_designation": False,
            "extension_days": 0, "forwarded_upward": False, "upward_confirmed": False, "accepted_at": accepted,
            "concluded_at": concluded, "outcome": outcome, "matter_id": None, "conclusion": conclusion,
        }
        identity = None
        if named:
            identity = {"tip_id": tip_id, "sealed": entry["identity"], "phone_index": entry["phone_index"],
                        "id_number_index": None, "source": "submission", "created_at": received}
        yield tip, events, identity


def _utc_text(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(timezone.utc).replace(tzinfo=None).isoformat(" ", "microseconds")


# How SQLAlchemy's SQLite dialect stores each kind of column (naive UTC text timestamps, JSON text, 0/1);
# JSON None is JSON null, as SQLAlchemy's JSON type writes it (none_as_null=False).
SQLITE_CONVERTERS = {
    "UTCDateTime": _utc_text,
    "JSON": json.dumps,
    "Date": lambda value: None if value is None else value.isoformat(),
    "Boolean": lambda value: None if value is None else int(value),
}


def _bulk(connection, table, rows: Sequence[dict[str, Any]]) -> None:
    """COPY on PostgreSQL, a plain executemany on SQLite: the values converted once, as the ORM would."""
    if not rows:
        return
    columns = list(rows[0])
    kinds = {c.name: c.type.__class__.__name__ for c in table.columns}
    driver = connection.connection.driver_connection
    if connection.dialect.name != "postgresql":
        converters = [SQLITE_CONVERTERS.get(kinds[c]) for c in columns]
        plain = all(f is None for f in converters)
        converted = [tuple(row.values()) if plain else
                     tuple(v if f is None else f(v) for v, f in zip(row.values(), converters)) for row in rows]
        driver.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                           f"VALUES ({', '.join('?' for _ in columns)})", converted)
        return
    with driver.cursor().copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            # JSON None is stored as JSON null, as SQLAlchemy's JSON type does (none_as_null=False).
            copy.write_row([json.dumps(row[c], ensure_ascii=False) if kinds[c] == "JSON" else row[c]
                            for c in columns])


def top_up(total: int, now: datetime | None = None) -> int:
    """Add synthetic tips until `total` are stored; return how many were added."""
    from tipoff.extensions import db
    from tipoff.intake.models import CaseEvent, ReporterIdentity, Tip

    now = now or datetime.now(timezone.utc)
    have = db.session.scalar(select(func.count()).select_from(Tip))
    missing = total - have
    if missing <= 0:
        return 0
    first = (db.session.scalar(select(func.max(Tip.id))) or 0) + 1
    pool = Pool(first, now)
    reference = _reference_data()
    db.session.commit()  # the bulk load below writes on connections of its own
    started = time.monotonic()
    rows = synthetic_rows(first, missing, now, pool, seed=first, reference=reference)
    done = 0
    if db.engine.dialect.name == "sqlite":
        # A large page cache for the load: index pages stay in memory instead of being re-read per row.
        @event.listens_for(db.engine, "connect")
        def _big_cache(dbapi_connection, _record):  # noqa: ARG001
            dbapi_connection.execute("PRAGMA cache_size = -1000000")
        db.engine.dispose()
    while done < missing:
        tips, events, identities = [], [], []
        for tip, tip_events, identity in rows:
            tips.append(tip)
            events.extend(tip_events)
            if identity:
                identities.append(identity)
            if len(tips) >= BATCH:
                break
        if not tips:
            break
        with db.engine.begin() as connection:
            _bulk(connection, Tip.__table__, tips)
            _bulk(connection, CaseEvent.__table__, events)
            _bulk(connection, ReporterIdentity.__table__, identities)
        done += len(tips)
        print(f"seed: {have + done:,} tips ({(time.monotonic() - started):.0f} s)", file=sys.stderr, flush=True)
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            for table in ("tips", "case_events", "reporter_identities"):
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
    analyze()
    return done


def analyze() -> None:
    """Fresh planner statistics after a bulk load (ANALYZE on both databases)."""
    from tipoff.extensions import db

    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # VACUUM too: a fresh visibility map lets counts over the open-tips index skip the table.
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("total", type=int, help="tips to have stored afterwards")
    args = parser.parse_args(argv)
    from tipoff import create_app

    app = create_app()
    with app.app_context():
        added = top_up(args.total)
    print(json.dumps({"added": added, "total": args.total}))


if __name__ == "__main__":
    main()
