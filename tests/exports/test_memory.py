"""Exports run in constant memory: ten times the rows must not take anywhere near ten times the memory.

Tips are bulk-inserted as minimal rows (one shared data key, no identity), then the case ledger is downloaded
through the real endpoint while tracemalloc watches the peak. Were the rows (or the file) held whole, the
peak would grow with them (about tenfold); streamed, it stays put.
"""
from __future__ import annotations

import tracemalloc
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select

from tests.exports.helpers import as_client, file_tip
from tipoff.db import utcnow
from tipoff.exports import writers
from tipoff.extensions import db
from tipoff.intake.models import Tip

# Ten times the rows for both formats; XLSX goes through openpyxl (slow under tracemalloc), so fewer rows.
SIZES = {"csv": (2_000, 20_000), "xlsx": (1_000, 10_000)}


def bulk_tips(template: Tip, start: int, stop: int) -> None:
    """Insert tips start..stop-1 like `template` (same department and data key), in one executemany."""
    now = utcnow()
    db.session.execute(insert(Tip), [{
        "reference": f"JA-MEM-{i:07d}", "received_at": now - timedelta(minutes=i), "channel": "hotline_12345",
        "category_code": template.category_code, "sector_code": template.sector_code,
        "township_code": template.township_code, "subject_name": f"建安区第{i}号测试企业有限公司",
        "description_sealed": b"\x00", "data_key_id": template.data_key_id, "access_code_hash": "-",
        "content_digest": "-", "proof": "-", "status": "verifying", "department_id": template.department_id,
        "routing_rule": template.routing_rule, "routing_explanation": "-", "deadline_at": now - timedelta(days=i % 40),
        "deadline_rule": "T3", "accepted_at": now, "transfers": i % 3,
        "conclusion": {"fine": f"{i}.50", "penalty_decision_no": f"建安罚〔2026〕{i}号"},
    } for i in range(start, stop)])
    db.session.commit()


def peak_of_download(client, url: str) -> tuple[int, int]:
    """(peak traced bytes above the starting point, bytes received) for one streamed download."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        response = client.get(url, buffered=False)
        assert response.status_code == 200
        received = 0
        for chunk in response.response:
            received += len(chunk)
        response.close()
        return tracemalloc.get_traced_memory()[1] - start, received
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_peak_memory_does_not_grow_with_the_rows(client, people, monkeypatch, form):
    # The spooled XLSX file is allowed SPOOL_BYTES of memory by design; shrink it so both sizes spill to
    # disk and what is measured is the rows, not the allowance.
    monkeypatch.setattr(writers, "SPOOL_BYTES", 64 * 1024)
    small, large = SIZES[form]
    template = file_tip(client)
    as_client(client, people, "overseer")
    bulk_tips(template, 0, small - 1)
    small_peak, small_bytes = peak_of_download(client, f"/staff/exports/?format={form}&status=verifying")
    bulk_tips(template, small - 1, large - 1)
    assert db.session.scalar(select(func.count(Tip.id))) == large
    large_peak, large_bytes = peak_of_download(client, f"/staff/exports/?format={form}&status=verifying")

    assert large_bytes > 5 * small_bytes  # ten times the rows really went out
    ratio = large_peak / small_peak
    print(f"{form}: {small} rows peak {small_peak / 1e6:.2f} MB ({small_bytes / 1e6:.2f} MB sent), "
          f"{large} rows peak {large_peak / 1e6:.2f} MB ({large_bytes / 1e6:.2f} MB sent), ratio {ratio:.2f}")
    assert ratio < 2
    if form == "csv":  # a CSV file is as big as its text: the whole file was never in memory
        assert large_peak < large_bytes / 2
