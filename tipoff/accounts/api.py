"""GET /api/v1/me — who a bearer token belongs to."""
from __future__ import annotations

from flask import g
from marshmallow import Schema, fields

from tipoff.api import api_route, respond


class MeSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    department = fields.Function(lambda u: u.department.code if u.department else None, allow_none=True)


@api_route("/me", summary="The staff user this token belongs to", tags=["accounts"], response_schema=MeSchema)
def me():
    """The token's user: username, role and department."""
    return respond(MeSchema(), g.api_user)
