"""Intake services: accepting a tip, the receipt, and the reporter's way back in with the access code.

The access code's KDF runs before the first query, so on SQLite the write lock is held only for the
inserts; everything sensitive is sealed or encrypted before it reaches the session.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

from sqlalchemy import Connection, func, insert, literal, select, union_all
from sqlalchemy.exc import IntegrityError

from tipoff import crypto, faults
from tipoff.audit.services import record
from tipoff.cases import clocks
from tipoff.clockview import SHANGHAI
from tipoff.cases.duplicates import subject_key
from tipoff.cases.states import CaseState, public_status
from tipoff.db import as_utc, reading, utcnow
from tipoff.errors import Conflict, DomainError, NotFound, ValidationFailed
from tipoff.extensions import db
from tipoff.intake.attachments import Upload, discard, prepare_uploads, store_evidence
from tipoff.intake.kdf_slots import lookup_kdf_slot
from tipoff.intake.models import ReporterIdentity, Tip, TipMessage
from tipoff.intake.proof import make_proof, read_proof
from tipoff.intake.submission import WEB, Catalogue, ReporterDetails, Submission, parse_reporter, parse_submission
from tipoff.messages import Message
from tipoff.reference.cache import cached, last_known
from tipoff.reference.models import Category, Sector, Township
from tipoff.retention.policy import DESTROYED_NOTICE
from tipoff.reference.services import department_by_code
from tipoff.routing.matcher import Decision, TipFacts
from tipoff.routing.services import decide

ACCESS_CODE_DIGITS = 16
REFERENCE_PREFIX = "JA"
MESSAGE_MAX = 2000
_DUMMY_CODE_HASH: str | None = None
_TIPS, _IDENTITIES = Tip.__table__, ReporterIdentity.__table__
_CATALOGUE = "intake_catalogue"  # the catalogue's name in tipoff.reference.cache
# Built once and given their values at execution: a statement built per submit with `.values(...)` cost
# more to build and to key for SQLAlchemy's compiled cache than to run.
_INSERT_TIP = insert(_TIPS)
_INSERT_IDENTITY = insert(_IDENTITIES)
_NEXT_TIP_ID = {"postgresql": select(func.nextval(func.pg_get_serial_sequence(_TIPS.name, "id"))),
                "sqlite": select(func.coalesce(func.max(_TIPS.c.id), 0) + 1)}


class LookupFailed(NotFound):
    """Unknown reference or wrong code: one answer for both."""

    code = "not_found"

    def default_message(self) -> str:
        return Message("编号或查询码不正确。请核对后重试（查询码是 16 位数字）。")


@dataclass(frozen=True)
class Receipt:
    """What the reporter is shown once after submitting."""

    reference: str
    access_code: str
    received_at: str
    status: str
    status_label: str
    department_code: str
    department_name: str
    proof: str

    @property
    def access_code_grouped(self) -> str:
        return " ".join(self.access_code[i:i + 4] for i in range(0, len(self.access_code), 4))


def catalogue() -> Catalogue:
    """The codes a submission may use now (reused until reference data changes: tipoff.reference.cache)."""
    return cached(_CATALOGUE, _load_catalogue)


def _load_catalogue() -> Catalogue:
    """The codes a submission may use, read in one round trip for the three lists."""
    kinds = {"category": Category, "sector": Sector, "township": Township}
    stmt = union_all(*(select(literal(kind).label("kind"), model.code).where(model.active.is_(True))
                       for kind, model in kinds.items()))
    found: dict[str, set[str]] = {kind: set() for kind in kinds}
    for kind, code in db.session.execute(stmt):
        found[kind].add(code)
    return Catalogue(frozenset(found["category"]), frozenset(found["sector"]), frozenset(found["township"]))


def _normalise_code(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())


def _dummy_code_hash() -> str:
    global _DUMMY_CODE_HASH
    if _DUMMY_CODE_HASH is None:
        _DUMMY_CODE_HASH = crypto.hash_secret(crypto.random_digits(ACCESS_CODE_DIGITS))
    return _DUMMY_CODE_HASH


IDEMPOTENCY_WINDOW = timedelta(hours=24)


def _idempotency_digest(key: str, principal: str) -> str:
    """Keys are scoped to who sends them: the public's key never opens an operator's receipt."""
    return hashlib.sha256(f"tipoff-idempotency|{principal}|{key}".encode("utf-8")).hexdigest()


def _replayed_receipt(key: str, principal: str, content_digest: str) -> Receipt | None:
    """The first answer to a retried submit: same sender, same key, same content, within a day."""
    tip = db.session.scalar(select(Tip).where(Tip.idempotency_digest == _idempotency_digest(key, principal)))
    if tip is None or tip.idempotency_answer is None:
        return None
    if tip.content_digest != content_digest:
        raise Conflict("这个 Idempotency-Key 已用于另一份内容不同的举报，请换一个新的。",
                       code="idempotency_key_reused")
    if utcnow() - as_utc(tip.received_at) > IDEMPOTENCY_WINDOW:
        raise Conflict("这个 Idempotency-Key 已过期（超过 24 小时），请换一个新的。", code="idempotency_key_expired")
    answer = crypto.open_for_holder(key, tip.idempotency_answer, aad=tip.reference.encode())
    record("tip.submit_replayed", actor=principal if principal == "public" else None, object_type="tip",
           object_id=tip.reference, department_id=tip.department_id)
    db.session.commit()
    return Receipt(**json.loads(answer))


def submit_tip(raw: Mapping[str, Any], *, channel: str = WEB, entered_by=None,
               idempotency_key: str | None = None, uploads: Sequence[Upload] = (),
               route_to: Decision | None = None) -> Receipt:
    """Validate, route, seal and store a tip with its evidence; return its receipt (code shown once).

    `route_to` replaces the routing table for tips tipoff files itself (a retaliation matter goes to
    区人社局 because the reporter consented to exactly that).
    """
    if idempotency_key is not None and not 16 <= len(idempotency_key) <= 200:
        raise ValidationFailed("Idempotency-Key 须为 16–200 个字符。",
                               fields={"idempotency_key": ["须为 16–200 个字符"]})
    # The deliberate cost first, before any query opens a (write) transaction.
    access_code = crypto.random_digits(ACCESS_CODE_DIGITS)
    access_code_hash = crypto.hash_secret(access_code)

    principal = f"user:{entered_by.id}" if entered_by is not None else "public"
    # The codes are checked against the catalogue this process last read, with no query; the write
    # transaction below reads the reference version and, if the catalogue has moved since, checks again.
    # What that catalogue refuses is checked against the current one before it is refused: a code
    # activated elsewhere since must be accepted.
    seen = last_known(_CATALOGUE)
    submission = _accepted_by(seen, raw, channel) if seen is not None else None
    if submission is None:
        seen = None
        with reading():  # reading the codes needs no write lock: other submits may commit meanwhile
            submission = parse_submission(raw, catalogue(), channel=channel)
        db.session.rollback()
    content_digest = hashlib.sha256(submission.content_bytes()).hexdigest()
    if idempotency_key:
        db.session.rollback()  # the replay commits its audit entry: nothing else of the caller's with it
        replay = _replayed_receipt(idempotency_key, principal, content_digest)
        if replay is not None:
            return replay
    # Cleaning photos is CPU work too: done before the inserts take SQLite's write lock.
    db.session.rollback()
    prepared = prepare_uploads(list(uploads), keep_time_and_place=submission.keep_photo_metadata)
    if seen is not None and catalogue() is not seen:
        # Reference data changed after the check above (this first read of the write transaction saw a
        # newer version). The catalogue only says which codes are accepted, so a submission that passes
        # again is the same submission; one whose code was retired meanwhile is refused, nothing written.
        # The version stays the one this request read, as when the codes are read before the write.
        db.session.rollback()
        submission = parse_submission(raw, catalogue(), channel=channel)
    if route_to is not None:
        decision, department = route_to, department_by_code(route_to.department_code)
    else:
        decision, department = decide(TipFacts(submission.category, submission.sector,
                                                  submission.township, submission.description))
    received_at = utcnow().replace(microsecond=0)
    first_deadline = clocks.deadline("T2", received_at)
    # The rows are written with Core statements, not the ORM's unit of work, which cost the submit more
    # CPU than everything else it does but the KDF. The tip's id is taken first so the tip goes in whole,
    # in one INSERT: its reference, its proof and its description's AAD all name the id (inserting it and
    # then completing it with an UPDATE wrote every one of the tips' indexes twice on PostgreSQL).
    data_key = crypto.insert_data_key("tip")
    connection = db.session.connection()
    tip_id = _next_tip_id(connection)
    # The year on the reference is the Beijing year (a tip filed at 07:00 on 1 January is the new year's).
    reference = f"{REFERENCE_PREFIX}-{received_at.astimezone(SHANGHAI).year}-{tip_id:06d}"
    proof = make_proof(reference, received_at, content_digest)
    status = public_status(CaseState.RECEIVED.value)
    receipt = Receipt(reference, access_code, received_at.isoformat(), status.code, status.label,
                      department.code, department.name, proof)
    row = dict(
        id=tip_id, reference=reference, proof=proof, channel=submission.channel, category_code=submission.category,
        sector_code=submission.sector, township_code=submission.township, subject_name=submission.subject_name,
        subject_credit_code=submission.subject_credit_code, subject_key=subject_key(submission.subject_name),
        address=submission.address, occurred_on=submission.occurred_on,
        description_sealed=crypto.encrypt(submission.description.encode("utf-8"), data_key,
                                          aad=_aad_of(tip_id, "description")),
        data_key_id=data_key.id, insider=submission.insider, anonymous=submission.reporter is None,
        keep_photo_metadata=submission.keep_photo_metadata, access_code_hash=access_code_hash,
        content_digest=content_digest, status=CaseState.RECEIVED.value, department_id=department.id,
        routing_rule=decision.rule_code, routing_explanation=decision.explanation, copy_to=list(decision.copy_to),
        supervised=decision.supervised, received_at=received_at, deadline_rule="T2",
        deadline_at=first_deadline.due, deadline_provisional=first_deadline.provisional,
        deadline_started_at=received_at, entered_by_user_id=getattr(entered_by, "id", None),
    )
    stored: list = []
    committing = False
    try:
        if idempotency_key:
            row["idempotency_digest"] = _idempotency_digest(idempotency_key, principal)
            row["idempotency_answer"] = crypto.seal_for_holder(
                idempotency_key, json.dumps(asdict(receipt)).encode(), aad=reference.encode())
        connection.execute(_INSERT_TIP, row)
        if submission.reporter is not None:
            connection.execute(_INSERT_IDENTITY,
                               _identity_row(tip_id, submission.reporter,
                                             source="submission" if channel == WEB else "operator"))
        if prepared:
            stored = store_evidence(db.session.get(Tip, tip_id), prepared,
                                    uploaded_by="reporter" if channel == WEB else "operator", actor=entered_by)
        record("tip.submit", actor=entered_by or "public", object_type="tip", object_id=reference,
               department_id=department.id,
               details={"channel": submission.channel, "category": submission.category, "sector": submission.sector,
                        "named": submission.reporter is not None, "insider": submission.insider,
                        "routing_rule": decision.rule_code, "supervised": decision.supervised})
        faults.hold("tip.before_commit")
        committing = True
        db.session.commit()
    except Exception as exc:
        db.session.rollback()
        if not committing or isinstance(exc, IntegrityError):
            discard(stored)  # nothing was saved: no receipt, no tip, and no orphaned evidence files
        # Otherwise the connection failed during COMMIT and the outcome is unknown: the files stay. Had
        # the tip been saved they are its evidence (a retry with the same Idempotency-Key returns its
        # receipt); had it not, they are ciphertext whose data key was never stored.
        if not isinstance(exc, IntegrityError):
            raise
        # The same Idempotency-Key arrived twice at once: the other request stored the tip.
        replay = _replayed_receipt(idempotency_key, principal, content_digest) if idempotency_key else None
        if replay is None:
            raise
        return replay
    faults.hold("tip.after_commit")
    return receipt


def _accepted_by(known: Catalogue, raw: Mapping[str, Any], channel: str) -> Submission | None:
    """The submission if `known` accepts it; None if it refuses it (the caller asks the current catalogue)."""
    try:
        return parse_submission(raw, known, channel=channel)
    except ValidationFailed:
        return None


def _next_tip_id(connection: Connection) -> int:
    """The id the next tip takes; call it after the transaction's first write (the data key's).
    PostgreSQL: drawn from the tips' own sequence, as an insert without an id would. SQLite: one more than
    the highest, which is what SQLite itself gives a new row (tips are never deleted), and safe because
    after a write this transaction holds SQLite's one write lock until it ends."""
    return connection.execute(_NEXT_TIP_ID[connection.dialect.name]).scalar_one()


def _aad(tip: Tip, part: str) -> bytes:
    return _aad_of(tip.id, part)


def _aad_of(tip_id: int, part: str) -> bytes:
    return f"tip:{tip_id}:{part}".encode()


def _identity_row(tip_id: int, reporter: ReporterDetails, source: str) -> dict[str, Any]:
    """A reporter_identities row: the identity sealed to the identity key, its blind indexes beside it."""
    return {"tip_id": tip_id, "sealed": crypto.seal_identity(reporter.to_bytes()), "source": source,
            "phone_index": crypto.blind_index("phone", reporter.phone),
            "id_number_index": crypto.blind_index("id_number", reporter.id_number) if reporter.id_number else None,
            "created_at": utcnow()}


def _add_identity(tip: Tip, reporter: ReporterDetails, source: str) -> ReporterIdentity:
    identity = ReporterIdentity(**_identity_row(tip.id, reporter, source))
    db.session.add(identity)
    return identity


# --------------------------------------------------------------------- the reporter's way back in


REFERENCE_PATTERN = re.compile(r"^JA-\d{4}-\d{6,9}$")


def normalise_reference(reference: str) -> str:
    """A typed reference, trimmed and upper-cased; "" when it cannot be one (e.g. a code typed there)."""
    text = (reference or "").strip().upper()[:32]
    return text if REFERENCE_PATTERN.match(text) else ""


def open_for_reporter(reference: str, access_code: str) -> Tip:
    """The tip for a reference and its access code; one answer, in one time, for unknown and wrong.

    Repeated failures are throttled by the web layer per (reference, client) and per reference,
    whether or not the reference exists, so the throttle tells nothing either. At most
    TIPOFF_LOOKUP_KDF_SLOTS lookups per worker verify at once; the rest hear LookupBusy (503).
    """
    reference = normalise_reference(reference)
    code = _normalise_code(access_code)
    # A slot first (tipoff.intake.kdf_slots): under a flood of lookups the refusal comes before any query
    # or KDF, so it is cheap and the same for every reference.
    with lookup_kdf_slot():
        tip = db.session.scalar(select(Tip).where(Tip.reference == reference)) if reference else None
        valid = crypto.verify_secret(tip.access_code_hash if tip else _dummy_code_hash(), code)
    if tip is None or not valid or len(code) != ACCESS_CODE_DIGITS:
        # Only a reference that exists is named in the log: whatever else was typed there (a phone
        # number, the code itself) stays out of it.
        record("tip.lookup_failed", actor="public", object_type="tip", object_id=tip.reference if tip else None,
               department_id=tip.department_id if tip else None)
        db.session.commit()
        raise LookupFailed()
    record("tip.reporter_view", actor="public", object_type="tip", object_id=tip.reference,
           department_id=tip.department_id)
    db.session.commit()
    return tip


def tip_by_id(tip_id: int) -> Tip:
    """A tip the reporter has already opened in this session."""
    tip = db.session.get(Tip, tip_id)
    if tip is None:
        raise LookupFailed()
    return tip


def description_of(tip: Tip) -> str:
    """The tip's description, decrypted (a notice once retention destroyed the tip's key)."""
    try:
        return crypto.decrypt(tip.description_sealed, aad=_aad(tip, "description")).decode("utf-8")
    except crypto.DataKeyDestroyed:
        return f"（{DESTROYED_NOTICE}）"


@dataclass(frozen=True)
class MessageView:
    sender: str
    body: str
    created_at: datetime


def messages_of(tip: Tip) -> list[MessageView]:
    """The conversation between reporter and department, decrypted, oldest first."""
    return [MessageView(m.sender, _message_text(tip, m), m.created_at) for m in tip.messages]


def _message_text(tip: Tip, message: TipMessage) -> str:
    try:
        return crypto.decrypt(message.body_sealed, aad=_aad(tip, f"message:{message.id}")).decode()
    except crypto.DataKeyDestroyed:
        return f"（{DESTROYED_NOTICE}）"  # written before retention destroyed the tip's key


def post_message(tip: Tip, body: str, *, sender: str, staff=None, commit: bool = True) -> TipMessage:
    """Add a message from the reporter or the department (encrypted under the tip's key)."""
    from tipoff.intake.validators import clean_text

    try:
        text = clean_text(body, field=Message("消息"), minimum=1, maximum=MESSAGE_MAX, multiline=True)
    except ValueError as exc:
        raise ValidationFailed(fields={"body": [str(exc)]}) from None
    message = TipMessage(tip_id=tip.id, sender=sender, staff_user_id=getattr(staff, "id", None),
                         body_sealed=b"")
    db.session.add(message)
    db.session.flush()
    message.body_sealed = crypto.encrypt(text.encode("utf-8"), tip.data_key, aad=_aad(tip, f"message:{message.id}"))
    record(f"tip.message_from_{sender}", actor=staff or "public", object_type="tip", object_id=tip.reference,
           department_id=tip.department_id)
    if commit:
        db.session.commit()
    return message


def add_evidence_later(tip: Tip, uploads: Sequence[Upload], keep_time_and_place: bool) -> int:
    """The reporter adds files through the reporter channel; returns how many were stored."""
    from tipoff.intake.attachments import tip_attachments

    tip_id, already = tip.id, len(tip_attachments(tip))
    db.session.rollback()  # clean photos outside the write transaction
    prepared = prepare_uploads(list(uploads), keep_time_and_place=keep_time_and_place, already=already)
    tip = db.session.get(Tip, tip_id)
    stored = store_evidence(tip, prepared, uploaded_by="reporter")
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        discard(stored)
        raise
    return len(stored)


def add_identity_later(tip: Tip, raw: Mapping[str, Any]) -> None:
    """An anonymous reporter chooses to give their name (through the reporter channel)."""
    errors: dict[str, list[str]] = {}
    reporter = parse_reporter({**raw, "identity": "named"}, errors, utcnow().date())
    if errors or reporter is None:
        raise ValidationFailed(fields=errors)
    _add_identity(tip, reporter, source="reporter_channel")
    tip.anonymous = False
    record("tip.identity_added", actor="public", object_type="tip", object_id=tip.reference,
           department_id=tip.department_id)
    db.session.commit()


@dataclass(frozen=True)
class ProofCheck:
    authentic: bool
    reference: str | None = None
    received_at: datetime | None = None
    matches_record: bool = False


def check_proof(text: str) -> ProofCheck:
    """Is this proof of filing signed by us, and does it match the tip we hold?"""
    claims = read_proof(text)
    if claims is None:
        return ProofCheck(False)
    tip = db.session.scalar(select(Tip).where(Tip.reference == claims.reference))
    matches = bool(tip and tip.content_digest == claims.digest
                   and as_utc(tip.received_at).replace(microsecond=0) == claims.received_at)
    return ProofCheck(True, claims.reference, claims.received_at, matches)
