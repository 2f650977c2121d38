"""PostgreSQL: the rows an operation adds after its steps, written in one statement.

Processor index rows, log lines, participants, day counters and notices are each a data-modifying
CTE fed by `json_to_recordset`, so an operation pays one round trip for all of them instead of one
per table. The rows, conflicts and values are those of the per-table statements in `persist`.
A step's processors are replaced without deleting a row the same statement inserts again (PostgreSQL
refuses that): rows of the replaced steps that are not kept are deleted, the kept ones upserted.
"""
from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import text

from app.extensions import db

_STATEMENT = text("""
WITH processors AS (
    SELECT * FROM json_to_recordset(CAST(:processors AS json))
        AS r(step_id integer, username varchar, ticket_id integer, step_status varchar, ticket_created_at timestamp)
), replaced AS (
    DELETE FROM step_processors
    WHERE step_id IN (SELECT value::integer FROM json_array_elements_text(CAST(:replaced AS json)))
      AND (step_id, username) NOT IN (SELECT step_id, username FROM processors)
), added_processors AS (
    INSERT INTO step_processors (step_id, username, ticket_id, step_status, ticket_created_at)
    SELECT step_id, username, ticket_id, step_status, ticket_created_at FROM processors
    ON CONFLICT (step_id, username) DO UPDATE
        SET ticket_id = excluded.ticket_id, step_status = excluded.step_status,
            ticket_created_at = excluded.ticket_created_at
), logs AS (
    INSERT INTO ticket_logs (ticket_id, node_key, operator, action, message, source, created_at)
    SELECT ticket_id, node_key, operator, action, message, source, created_at
    FROM json_to_recordset(CAST(:logs AS json)) AS r(ticket_id integer, node_key varchar, operator varchar,
                                                     action varchar, message text, source varchar,
                                                     created_at timestamp)
), participants AS (
    INSERT INTO ticket_participants (username, ticket_id, ticket_created_at, is_creator)
    SELECT username, ticket_id, ticket_created_at, is_creator
    FROM json_to_recordset(CAST(:participants AS json))
        AS r(username varchar, ticket_id integer, ticket_created_at timestamp, is_creator boolean)
    ON CONFLICT DO NOTHING
), counters AS (
    INSERT INTO user_day_counters (username, day, handled_steps, handling_seconds)
    SELECT username, day, handled_steps, handling_seconds
    FROM json_to_recordset(CAST(:counters AS json))
        AS r(username varchar, day varchar, handled_steps integer, handling_seconds double precision)
    ON CONFLICT (username, day) DO UPDATE
        SET handled_steps = user_day_counters.handled_steps + excluded.handled_steps,
            handling_seconds = user_day_counters.handling_seconds + excluded.handling_seconds
), notices AS (
    INSERT INTO notifications (ticket_id, kind, recipients, message, status, attempts, next_attempt_at, created_at)
    SELECT ticket_id, kind, recipients, message, 'PENDING', 0, next_attempt_at, created_at
    FROM json_to_recordset(CAST(:notices AS json))
        AS r(ticket_id integer, kind varchar, recipients json, message text, next_attempt_at timestamp,
             created_at timestamp)
)
SELECT 1
""")


def write_rows(*, replaced: list[int], processors: list[dict], logs: list[dict], participants: list[dict],
               counters: list[dict], notices: list[dict]) -> None:
    """Write all of them in one statement (nothing is sent when every list is empty)."""
    if not (replaced or processors or logs or participants or counters or notices):
        return
    db.session.execute(_STATEMENT, {"replaced": _json(replaced), "processors": _json(processors),
                                    "logs": _json(logs), "participants": _json(participants),
                                    "counters": _json(counters), "notices": _json(notices)})


def _json(rows: list) -> str:
    return json.dumps(rows, ensure_ascii=False, default=_timestamp, separators=(",", ":"))


def _timestamp(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
