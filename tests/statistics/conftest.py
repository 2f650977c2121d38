"""Statistics fixtures: `known_tickets` (see stats_kit.py for the table of tickets and times)."""
import pytest
from stats_kit import _set_times, account_request, incident, rebuild_counters

from app.infra.uow import commit
from app.services.sla import rebuild_outcomes


@pytest.fixture
def known_tickets(demo):
    """The seven tickets of the table above; returns their ids by name."""
    with demo.app_context():
        ids = {"T1": account_request("alice", reject=True), "T2": account_request("bob", reject=True),
               "T3": account_request("alice", reject=True), "T4": incident(finish=True),
               "T5": incident(finish=False), "T6": account_request("alice", reject=False),
               "T7": account_request("bob", reject=False)}
        _set_times(ids["T1"], "2024-03-01 09:00", "2024-03-01 11:00",
                   {"leader_approve": ("2024-03-01 09:00", "2024-03-01 11:00")})
        _set_times(ids["T2"], "2024-03-02 10:00", "2024-03-02 14:00",
                   {"leader_approve": ("2024-03-02 10:00", "2024-03-02 14:00")})
        _set_times(ids["T3"], "2024-03-03 07:00", "2024-03-03 19:00",
                   {"leader_approve": ("2024-03-03 07:00", "2024-03-03 19:00")})
        _set_times(ids["T4"], "2024-03-01 08:00", "2024-03-01 18:00",
                   {"handle": ("2024-03-01 08:00", "2024-03-01 15:00"), "confirm": ("2024-03-01 15:00", "2024-03-01 18:00")})
        _set_times(ids["T5"], "2024-03-02 12:00", None, {"handle": ("2024-03-02 12:00", None)})
        _set_times(ids["T6"], "2024-03-03 09:00", None, {"leader_approve": ("2024-03-03 09:00", None)})
        _set_times(ids["T7"], "2024-02-20 09:00", None, {"leader_approve": ("2024-02-20 09:00", None)})
        rebuild_counters()
        rebuild_outcomes()          # the times were moved under the rollup's feet
        commit()
    return ids

