"""`flask tipoff create-user`, `create-token`, `revoke-token`, `list-users` — for automation."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from tipoff.errors import DomainError


def _read_secret_from_stdin() -> str:
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise click.UsageError("expected the password on standard input")
    return value


@click.command("create-user")
@with_appcontext
@click.option("--username", required=True)
@click.option("--role", required=True, help="admin, overseer, handler, leader, finance, custodian, operator")
@click.option("--department", "department_code", default=None, help="department code, e.g. zjj")
@click.option("--display-name", default=None, help="the person's name (defaults to the username)")
@click.option("--password-stdin", is_flag=True, help="read the initial password from standard input")
def create_user_command(username, role, department_code, display_name, password_stdin):
    """Create a staff user. Without --password-stdin a one-time password is printed once."""
    from tipoff.accounts import services
    from tipoff.extensions import db

    fields = dict(username=username, display_name=display_name or username, role=role,
                  department_code=department_code)
    try:
        if password_stdin:
            user = services.create_user(password=_read_secret_from_stdin(), must_change_password=False,
                                        actor="cli", **fields)
            one_time = None
        else:
            user, one_time = services.create_user_with_one_time_password(actor="cli", **fields)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        details = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} {details}".strip()) from None
    click.echo(f"created {user.role} {user.username}" + (f" ({user.department.code})" if user.department else ""))
    if one_time:
        click.echo(f"one-time password: {one_time}")


@click.command("create-token")
@with_appcontext
@click.option("--username", required=True)
@click.option("--name", default="cli", help="what the token is for")
def create_token_command(username, name):
    """Issue an API bearer token; the token is printed once, on the last line."""
    from tipoff.accounts import services, tokens
    from tipoff.accounts.models import User
    from tipoff.extensions import db

    user = db.session.scalar(select(User).where(User.username == services.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"no such user: {username}")
    try:
        token = tokens.create_api_token(user, name, actor="cli")
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"token for {user.username} ({user.role}); store it now, it is not kept:")
    click.echo(token)


@click.command("revoke-token")
@with_appcontext
@click.option("--prefix", required=True, help="the first characters of the token, as listed")
def revoke_token_command(prefix):
    """Revoke API tokens whose prefix matches."""
    from tipoff.accounts import tokens
    from tipoff.accounts.models import ApiToken
    from tipoff.extensions import db

    if len(prefix) < 8:
        raise click.UsageError("give at least 8 characters of the token")
    matching = db.session.scalars(select(ApiToken).where(ApiToken.prefix.startswith(prefix[:12]))).all()
    if not matching:
        raise click.ClickException("no token with that prefix")
    for api_token in matching:
        tokens.revoke_api_token(api_token, actor="cli")
        click.echo(f"revoked {api_token.prefix}… of {api_token.user.username}")


@click.command("reset-user")
@with_appcontext
@click.option("--username", required=True)
@click.option("--password", "new_password", is_flag=True, help="issue a new one-time password (printed once)")
@click.option("--2fa", "second_factor", is_flag=True, help="remove the authenticator; enrol again at next login")
@click.option("--unlock", is_flag=True, help="lift a lock-out")
def reset_user_command(username, new_password, second_factor, unlock):
    """Recover an account from the server (e.g. the only administrator lost their phone)."""
    from tipoff.accounts import services
    from tipoff.accounts.models import User
    from tipoff.extensions import db

    if not (new_password or second_factor or unlock):
        raise click.UsageError("say what to reset: --password, --2fa and/or --unlock")
    user = db.session.scalar(select(User).where(User.username == services.normalise_username(username)))
    if user is None:
        raise click.ClickException(f"no such user: {username}")
    if unlock:
        services.unlock(user, actor="cli")
        click.echo(f"unlocked {user.username}")
    if second_factor:
        services.reset_totp(user, actor="cli")
        click.echo(f"removed the authenticator of {user.username}; they enrol a new one at next login")
    if new_password:
        click.echo(f"one-time password for {user.username}: {services.reset_password(user, actor='cli')}")


@click.command("list-users")
@with_appcontext
def list_users_command():
    """List staff users (no secrets)."""
    from tipoff.accounts.models import User
    from tipoff.extensions import db

    for user in db.session.scalars(select(User).order_by(User.username)):
        department = user.department.code if user.department else "-"
        state = "active" if user.active else "inactive"
        click.echo(f"{user.username}\t{user.role}\t{department}\t{state}\t2fa={'on' if user.totp_enabled else 'off'}")


def register(group: click.Group) -> None:
    """Attach the account commands to `flask tipoff`."""
    for command in (create_user_command, create_token_command, revoke_token_command, reset_user_command,
                    list_users_command):
        group.add_command(command)
