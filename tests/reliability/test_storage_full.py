"""The disk for attachments is full: a clear error (507 storage_full), the tip text kept, no tip half-filed.

The attachment store is a real 1 MiB tmpfs filled to the last byte (`mount -t tmpfs`, as root). Where
mounting is refused (no root, no CAP_SYS_ADMIN), the documented stand-in is a store the service user
cannot write to (mode 0500): the same OSError path, the same answers; the test says which it used.
"""
from __future__ import annotations

import os
import subprocess

import pytest
import requests

from tests.reliability import faults
from tests.reliability.clients import Reporter, csrf_token, no_stack_trace, submit_api

pytestmark = pytest.mark.slow

EVIDENCE = b"%PDF-1.4\n" + os.urandom(200 * 1024)  # a 200 KB document: more than a full store can take


def fill_to_the_last_byte(directory) -> None:
    """Write (unbuffered) until the filesystem refuses even one more byte."""
    with open(directory / "filler", "wb", buffering=0) as filler:
        for chunk in (4096, 1):
            try:
                while True:
                    filler.write(b"\0" * chunk)
            except OSError:
                pass


@pytest.fixture
def full_store(deployment):
    """The deployment's attachment directory on a full filesystem; yields how it was made full."""
    store = deployment.data_dir / "attachments"
    store.mkdir(mode=0o700, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(store)],
                             capture_output=True).returncode == 0
    if mounted:
        try:
            fill_to_the_last_byte(store)
        except BaseException:
            subprocess.run(["umount", "-l", str(store)], check=False)
            raise
        how = "tmpfs"
    elif os.geteuid() != 0:
        store.chmod(0o500)
        how = "read-only directory"
    else:
        pytest.skip("cannot mount a tmpfs here and root ignores file modes: no way to make the store full")
    yield store, how
    if mounted:
        subprocess.run(["umount", "-l", str(store)], check=False)
    else:
        store.chmod(0o700)


def make_room(store) -> None:
    (store / "filler").unlink(missing_ok=True)
    store.chmod(0o700)


def test_full_attachment_store_keeps_the_text_and_files_nothing(deployment, full_store):
    store, how = full_store
    base = deployment.start(workers=2)
    reporter = Reporter(31, named=True)
    session = requests.Session()
    token = csrf_token(session, base, reporter.headers())
    form = {**reporter.fields(), "csrf_token": token}

    refused = session.post(f"{base}/report", data=form, files={"evidence": ("现场记录.pdf", EVIDENCE, "application/pdf")},
                           headers={**reporter.headers(), "Sec-Fetch-Site": "same-origin"}, timeout=120)

    assert refused.status_code == 507, (how, refused.status_code, refused.text[:300])
    assert "存储空间不足" in refused.text and "请重新选择" in refused.text
    for typed in (reporter.subject, reporter.fields()["description"], reporter.name, reporter.phone):
        assert typed in refused.text
    assert 'id="receipt-reference"' not in refused.text and no_stack_trace(refused.text)
    assert faults.tip_records(deployment.database_url, reporter.subject)["tips"] == 0
    assert not list(store.glob("*.partial")), "a half-written file was left behind"

    # Evidence added later through the API: the tip stays, the file is refused with a JSON error.
    later = submit_api(base, Reporter(32, named=False))
    assert later.status == 201
    upload = requests.post(f"{base}/api/v1/tips/evidence", timeout=120, headers=later.reporter.headers(),
                           data={"reference": later.reference, "access_code": later.access_code},
                           files={"evidence": ("记录.pdf", EVIDENCE, "application/pdf")})
    assert upload.status_code == 507 and upload.json()["error"]["code"] == "storage_full", upload.text[:300]
    assert faults.tip_records(deployment.database_url, later.reporter.subject)["tips"] == 1

    make_room(store)  # space again: the same form, sent again with its file, is filed
    token = csrf_token(session, base, reporter.headers())
    filed = session.post(f"{base}/report", data={**form, "csrf_token": token},
                         files={"evidence": ("现场记录.pdf", EVIDENCE, "application/pdf")},
                         headers={**reporter.headers(), "Sec-Fetch-Site": "same-origin"}, timeout=120)
    assert filed.status_code == 201, filed.text[:300]
    assert len([p for p in store.iterdir() if p.name != "lost+found"]) == 1
    verified = deployment.audit_verify()
    assert verified.returncode == 0, verified.stdout + verified.stderr
