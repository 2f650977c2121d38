"""The statistics queries can be answered from indexes (issue 20), on PostgreSQL.

The check runs every chart of the page for a 30-day range with `enable_seqscan = off` and EXPLAINs each
statement the chart ran: a ticket table (tickets, ticket_steps, step_processors) that still shows a
`Seq Scan` has no index the query can use at all (with seqscan disabled, the planner takes any usable
index). This says the plan *can* use an index, not that it *will* on every data set: over a one-year
range that covers most tickets a scan is the cheaper plan and the planner rightly picks it.
"""
import re
import pytest
from sqlalchemy import event, text

from app.extensions import db
from app.services import stats

TICKET_TABLES = {"tickets", "ticket_steps", "step_processors"}


def test_every_chart_can_use_an_index_on_the_ticket_tables(demo, known_tickets):
    with demo.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("plans are checked on PostgreSQL")
        f = stats.default_filter(days=30)
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        captured = []

        def grab(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                captured.append((statement, parameters))

        scans = {}
        for key, build in stats.CHARTS.items():
            captured.clear()
            event.listen(db.engine, "before_cursor_execute", grab)
            try:
                build(f)
            finally:
                event.remove(db.engine, "before_cursor_execute", grab)
            cursor = db.session.connection().connection.driver_connection.cursor()
            for statement, parameters in captured:
                cursor.execute("EXPLAIN " + statement, parameters)
                plan = "\n".join(row[0] for row in cursor.fetchall())
                scanned = set(re.findall(r"Seq Scan on (\w+)", plan)) & TICKET_TABLES
                if scanned:
                    scans.setdefault(key, []).append((sorted(scanned), plan))
        db.session.rollback()
    assert scans == {}, "\n\n".join(f"{key}: {tables}\n{plan}" for key, found in scans.items()
                                    for tables, plan in found)

