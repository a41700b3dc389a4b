"""Public reward notices (领奖公告): unclaimed rewards listed by reference and amount only, as the rules
require before a reward lapses for an unreachable reporter."""
from __future__ import annotations

from flask import Blueprint, render_template

from tipoff.rewards.services import amount_text, public_notices

bp = Blueprint("reward_notices", __name__)


@bp.get("/rewards/notices")
def notices():
    """Unclaimed rewards: reference, amount, department and claim deadline — never anything about the reporter."""
    return render_template("rewards/notices.html", rewards=public_notices(), amount=amount_text)
