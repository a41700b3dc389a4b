"""deadline start and the re-review count

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 18:20:00

A deadline can be recomputed (when the working-day calendar changes) only if the moment its clock
started is known; and a case gets one district re-review (复查): further objections go to the city.
"""
from alembic import op
import sqlalchemy as sa
import tipoff.db


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# The action whose event started each clock (tipoff.cases.workflow).
STARTED_BY = {"T2": ("transfer", "designate"), "T3": ("accept",), "T6": ("conclude",), "T6R": ("object",)}


def upgrade():
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_started_at', tipoff.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('reviews', sa.Integer(), nullable=False, server_default='0'))
    # Existing cases: the clock started when the tip arrived (T2, never moved) or at the latest event
    # that started it; the re-review count from the reporters' objections on record.
    op.execute("UPDATE tips SET deadline_started_at = received_at WHERE deadline_rule = 'T2' AND transfers = 0")
    for rule, actions in STARTED_BY.items():
        listed = ", ".join(f"'{a}'" for a in actions)
        op.execute(f"UPDATE tips SET deadline_started_at = (SELECT max(e.created_at) FROM case_events e "
                   f"WHERE e.tip_id = tips.id AND e.action IN ({listed})) "
                   f"WHERE deadline_rule = '{rule}' AND deadline_started_at IS NULL")
    op.execute("UPDATE tips SET reviews = (SELECT count(*) FROM case_events e "
               "WHERE e.tip_id = tips.id AND e.action = 'object')")


def downgrade():
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.drop_column('reviews')
        batch_op.drop_column('deadline_started_at')
