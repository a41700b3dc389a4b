"""Access control for staff views: login, completed second factor, permission, department scope."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import redirect, request, url_for
from flask_login import current_user
from sqlalchemy import Select, false

from tipoff.errors import Forbidden


def permission_required(permission: str) -> Callable:
    """Require a fully logged-in staff user who holds `permission` (any scope)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return redirect(url_for("accounts.login", next=request.full_path))
            if not current_user.can(permission):
                raise Forbidden()
            return view(*args, **kwargs)

        wrapped.permission = permission
        return wrapped

    return decorator


def scoped(query: Select, user, permission: str, department_column) -> Select:
    """Limit a query to what `user` may see under `permission`: all, own department, or nothing."""
    scope = user.scope(permission)
    if scope == "district":
        return query
    if scope == "department" and user.department_id is not None:
        return query.where(department_column == user.department_id)
    return query.where(false())
