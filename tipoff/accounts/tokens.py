"""API tokens (接口令牌): issued by the CLI, stored only as a digest, revocable at once."""
from __future__ import annotations

from sqlalchemy import select

from tipoff import crypto
from tipoff.accounts.models import ApiToken, User
from tipoff.audit.services import record
from tipoff.db import utcnow
from tipoff.errors import Conflict
from tipoff.extensions import db

# The public prefix that marks a token (bandit B105 takes it for a password).
TOKEN_PREFIX = "tpf_"  # nosec B105


def create_api_token(user: User, name: str, actor=None) -> str:
    """Issue a bearer token for `user`; only its digest is stored, so it is shown once."""
    if not user.active:
        raise Conflict("停用的账户不能签发令牌。", code="user_inactive")
    token = TOKEN_PREFIX + crypto.random_token(32)
    api_token = ApiToken(user_id=user.id, name=(name or "api").strip()[:100],
                         digest=crypto.token_digest(token), prefix=token[:12])
    db.session.add(api_token)
    db.session.flush()
    record("token.create", actor=actor or user, object_type="api_token", object_id=api_token.id,
           department_id=user.department_id, details={"user": user.username, "prefix": api_token.prefix})
    db.session.commit()
    return token


def revoke_api_token(api_token: ApiToken, actor=None) -> None:
    """Revoke a token at once."""
    if api_token.revoked_at is None:
        api_token.revoked_at = utcnow()
        record("token.revoke", actor=actor, object_type="api_token", object_id=api_token.id,
               department_id=api_token.user.department_id, details={"prefix": api_token.prefix})
        db.session.commit()


def user_for_token(token: str) -> User | None:
    """The active user a bearer token belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    # One query for the token and its user: this runs before every API request.
    return db.session.scalar(select(User).join(ApiToken, ApiToken.user_id == User.id).where(
        ApiToken.digest == crypto.token_digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True)))


def tokens_of(user: User) -> list[ApiToken]:
    """A user's tokens, newest first."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                   .order_by(ApiToken.created_at.desc())))
