"""Peak memory of one 台账 export, measured in a fresh process: `python -m benchmarks.export_rss ROWS [csv|xlsx]`.

Runs the real `tipoff.exports.cases.export_cases` as the overseer, with the ledger narrowed to the first
ROWS tips (an extra `Tip.id <= bound` condition, the same kind of clause the export adds itself), reads
the whole streamed file, and prints {"rows", "bytes", "max_rss_kib"}: this process's peak resident set
(getrusage RUSAGE_SELF), including the interpreter and the app — what a worker would hold.
"""
from __future__ import annotations

import json
import resource
import sys

from sqlalchemy import select


def main(argv: list[str]) -> None:
    rows, form = int(argv[0]), (argv[1] if len(argv) > 1 else "csv")
    from tipoff import create_app
    from tipoff.accounts.models import User
    from tipoff.exports import cases
    from tipoff.extensions import db
    from tipoff.intake.models import Tip

    app = create_app()
    with app.test_request_context("/api/v1/exports/cases"):
        # The rows-th smallest tip id: the ledger then holds exactly `rows` tips.
        bound = db.session.scalar(select(Tip.id).order_by(Tip.id).offset(rows - 1).limit(1))
        overseer = db.session.scalar(select(User).where(User.username == "bench.overseer"))
        conditions = cases.conditions
        cases.conditions = lambda *args, **kwargs: [*conditions(*args, **kwargs), Tip.id <= bound]
        response = cases.export_cases(overseer, cases.CaseFilter(), form, cases.choices_for(overseer), via="bench")
        size = 0
        for chunk in response.response:
            size += len(chunk if isinstance(chunk, bytes) else chunk.encode())
        total = int(response.headers["X-Total-Rows"])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(json.dumps({"rows": total, "bytes": size, "max_rss_kib": peak, "format": form}))


if __name__ == "__main__":
    main(sys.argv[1:])
