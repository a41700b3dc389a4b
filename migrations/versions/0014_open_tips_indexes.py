"""open tips indexes: the case queue and its counts read open tips only, in deadline order

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 21:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

OPEN_TIPS = sa.text("status IN ('received', 'verifying', 'concluded', 'under_review')")


def upgrade():
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.create_index('ix_tips_open_by_department', ['department_id', 'deadline_at', 'id'], unique=False,
                              sqlite_where=OPEN_TIPS, postgresql_where=OPEN_TIPS)
        batch_op.create_index('ix_tips_open_by_deadline', ['deadline_at', 'id'], unique=False,
                              sqlite_where=OPEN_TIPS, postgresql_where=OPEN_TIPS)


def downgrade():
    with op.batch_alter_table('tips', schema=None) as batch_op:
        batch_op.drop_index('ix_tips_open_by_deadline')
        batch_op.drop_index('ix_tips_open_by_department')
