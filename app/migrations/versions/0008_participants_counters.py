"""ticket participants, user counters, ordered to-do index

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28

Lists that must stay fast at a million tickets (issue 8):
- ticket_participants: everyone a ticket involved, ordered by the ticket's creation time,
  behind "tickets involving me" and "may I see this ticket";
- step_processors.ticket_created_at: "waiting for me, newest first" as one index range;
- user_day_counters: the workbench's handled steps and handling time per local day, without
  aggregating history;
- tickets (creator, updated_at): "what others did on my tickets" from my latest tickets;
- knowledge_articles.search_tsv (PostgreSQL): the article's tsvector stored, not computed per query.
Existing rows are backfilled from tickets, steps, processors and logs.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ticket_participants',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('ticket_created_at', sa.DateTime(), nullable=False),
    sa.Column('is_creator', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('username', 'ticket_id')
    )
    with op.batch_alter_table('ticket_participants', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_participants_user_created', ['username', 'ticket_created_at', 'ticket_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ticket_participants_ticket_id'), ['ticket_id'], unique=False)

    op.create_table('user_day_counters',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=8), nullable=False),
    sa.Column('handled_steps', sa.Integer(), nullable=False),
    sa.Column('handling_seconds', sa.Double(), nullable=False),
    sa.PrimaryKeyConstraint('username', 'day')
    )
    with op.batch_alter_table('step_processors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_created_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE step_processors SET ticket_created_at = "
               "(SELECT tickets.created_at FROM tickets WHERE tickets.id = step_processors.ticket_id)")
    with op.batch_alter_table('step_processors', schema=None) as batch_op:
        batch_op.alter_column('ticket_created_at', existing_type=sa.DateTime(), nullable=False)
        batch_op.create_index('ix_step_processors_user_created', ['username', 'ticket_created_at', 'step_status', 'ticket_id'], unique=False)
        batch_op.drop_index('ix_step_processors_user')
        batch_op.create_index('ix_step_processors_user', ['username', 'step_status', 'ticket_created_at', 'ticket_id'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_creator_updated', ['creator', 'updated_at'], unique=False)

    # backfill: creators, processors of open steps, past processors (closed_by), log operators
    op.execute("""
        INSERT INTO ticket_participants (username, ticket_id, ticket_created_at, is_creator)
        SELECT p.username, p.ticket_id, t.created_at, MAX(p.is_creator)
        FROM (SELECT creator AS username, id AS ticket_id, 1 AS is_creator FROM tickets
              UNION ALL SELECT username, ticket_id, 0 FROM step_processors
              UNION ALL SELECT closed_by, ticket_id, 0 FROM ticket_steps WHERE closed_by IS NOT NULL
              UNION ALL SELECT operator, ticket_id, 0 FROM ticket_logs WHERE operator <> 'system') AS p
        JOIN tickets t ON t.id = p.ticket_id
        GROUP BY p.username, p.ticket_id, t.created_at
    """.replace("MAX(p.is_creator)", "MAX(p.is_creator) = 1"))
    from app.services.tickets.counters import rebuild
    from app.infra.search_ddl import install_search_index

    rebuild(op.get_bind())
    install_search_index(op.get_bind())      # PostgreSQL: the stored tsvector column replaces the expression index


def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_creator_updated')
    with op.batch_alter_table('step_processors', schema=None) as batch_op:
        batch_op.drop_index('ix_step_processors_user_created')
        batch_op.drop_index('ix_step_processors_user')
        batch_op.create_index('ix_step_processors_user', ['username', 'step_status', 'ticket_id'], unique=False)
        batch_op.drop_column('ticket_created_at')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_knowledge_articles_tsv_stored")
        op.execute("ALTER TABLE knowledge_articles DROP COLUMN IF EXISTS search_tsv")
        op.execute("CREATE INDEX IF NOT EXISTS ix_knowledge_articles_tsv ON knowledge_articles "
                   "USING gin ((to_tsvector('english'::regconfig, title || ' ' || plain)))")
    op.drop_table('user_day_counters')
    with op.batch_alter_table('ticket_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_participants_ticket_id'))
        batch_op.drop_index('ix_ticket_participants_user_created')
    op.drop_table('ticket_participants')
