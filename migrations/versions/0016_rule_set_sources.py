"""the shipped rule sets' sources read as citations, without the research grades (MED-HIGH, MED, OPEN)

Those grades are notes for the developers (RULES.md); the sources are shown on the public calculator and
printed on the 奖励决定书. Only a source still worded as shipped is changed; an administrator's own
wording is left alone.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 01:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

_NATIONAL = ("举报重大事故隐患和安全生产违法行为，按行政处罚金额的15%计奖，最低3000元，最高不超过30万元",
             "举报瞒报、谎报事故，按查实的瞒报谎报死亡人数计奖：一般事故每人3万元、较大4万元、重大5万元、特别重大6万元，最高不超过30万元")
_HENAN = ("重大事故隐患和非法违法行为：原则上按罚款的15%，最低3000元，最高30万元；清单所列情形（7个领域148项）最低1000元、最高30万元",
          "企业员工举报本单位：在标准金额上加奖15%，加奖不少于1000元，合计不超过30万元")
# (code, source key): (as shipped until 0015, as shipped now)
REWORDED = {
    ("national-2018", "fine_rules"): (_NATIONAL[0] + "（安监总财〔2018〕19号第十二条；多种转载一致，MED-HIGH）。",
                                      _NATIONAL[0] + "（安监总财〔2018〕19号第十二条）。"),
    ("national-2018", "per_death"): (_NATIONAL[1] + "（同上；MED-HIGH）。", _NATIONAL[1] + "（同上）。"),
    ("henan-2025", "fine_rules"): (_HENAN[0] + "，比例按15%推定（官方新闻，全文未获得；MED）。",
                                   _HENAN[0] + "，比例暂按15%计（据官方新闻发布，以办法全文为准）。"),
    ("henan-2025", "per_death"): ("未见河南另行规定，沿用国家2018办法（OPEN）。", "河南未另行规定的，按国家2018办法。"),
    ("henan-2025", "insider"): (_HENAN[1] + "（官方新闻；MED）。", _HENAN[1] + "（据官方新闻发布，以办法全文为准）。"),
}
_rule_sets = sa.table("reward_rule_sets", sa.column("id", sa.Integer), sa.column("code", sa.String),
                      sa.column("data", sa.JSON))


def _reword(direction: int) -> None:
    conn = op.get_bind()
    codes = sorted({code for code, _ in REWORDED})
    for row in conn.execute(sa.select(_rule_sets.c.id, _rule_sets.c.code, _rule_sets.c.data)
                            .where(_rule_sets.c.code.in_(codes))):
        data = dict(row.data or {})
        sources = dict(data.get("sources") or {})
        changed = False
        for (code, key), texts in REWORDED.items():
            old, new = texts[::direction]
            if code == row.code and sources.get(key) == old:
                sources[key], changed = new, True
        if changed:
            data["sources"] = sources
            conn.execute(_rule_sets.update().where(_rule_sets.c.id == row.id).values(data=data))


def upgrade():
    _reword(1)


def downgrade():
    _reword(-1)
