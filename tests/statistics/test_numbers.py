"""Every chart's numbers, checked against the hand-made tickets of conftest.py (on SQLite and PostgreSQL)."""
from datetime import datetime

import pytest
from stats_kit import utc

from app.services.stats import charts as stats

RANGE_FILTER = dict(start=utc("2024-03-01 00:00"), end=utc("2024-03-04 00:00"))


def chart(app, name, **kw):
    with app.test_request_context():
        return stats.CHARTS[name](stats.StatsFilter(**{**RANGE_FILTER, **kw}))


def test_volume_by_type_counts_per_local_day(demo, known_tickets):
    c = chart(demo, "volume_by_type")
    assert c.columns == ["日期", "请求", "变更", "事件", "问题", "合计"]
    # T3 was created 03-02 23:00 UTC: it counts on the local day 03-03
    assert c.rows == [["2024-03-01", 1, 0, 1, 0, 2], ["2024-03-02", 1, 0, 1, 0, 2], ["2024-03-03", 2, 0, 0, 0, 2]]


def test_volume_by_week_and_month(demo, known_tickets):
    weeks = chart(demo, "volume_by_type", unit="week").rows      # 03-01..03-03 is Fri..Sun of the week of 02-26
    assert weeks == [["2024-02-26", 4, 0, 2, 0, 6]]
    assert chart(demo, "volume_by_type", unit="month").rows == [["2024-03", 4, 0, 2, 0, 6]]


def test_volume_by_service(demo, known_tickets):
    c = chart(demo, "volume_by_service")
    assert c.columns == ["日期", "故障处理", "账号开通"]
    assert c.rows == [["2024-03-01", 1, 1], ["2024-03-02", 1, 1], ["2024-03-03", 0, 2]]


def test_type_filter(demo, known_tickets):
    assert chart(demo, "volume_by_type", service_type="event").rows == [
        ["2024-03-01", 1, 1], ["2024-03-02", 1, 1], ["2024-03-03", 0, 0]]


def test_status_distribution_and_top_services(demo, known_tickets):
    assert dict(map(tuple, chart(demo, "status").rows)) == {"已结束": 4, "处理中": 2}
    assert chart(demo, "top_services").rows == [["账号开通", "请求", 4], ["故障处理", "事件", 2]]


def test_handling_time_per_service_average_and_percentiles(demo, known_tickets):
    # 账号开通 finished in 2 h, 4 h, 12 h: average 6, P50 (rank 2) 4, P90 (rank 3) 12; 故障处理 once in 10 h
    assert chart(demo, "handling_by_service").rows == [["故障处理", 1, 10.0, 10.0, 10.0],
                                                       ["账号开通", 3, 6.0, 4.0, 12.0]]


def test_handling_time_per_step(demo, known_tickets):
    assert chart(demo, "handling_by_step").rows == [["故障处理 · 故障处理", 1, 7.0, 7.0, 7.0],
                                                    ["账号开通 · 直属领导审批", 3, 6.0, 4.0, 12.0],
                                                    ["故障处理 · 提单人确认", 1, 3.0, 3.0, 3.0]]


def test_open_longer_than_n_days(demo, known_tickets):
    with demo.test_request_context():
        c = stats.open_longer_than(stats.StatsFilter(**RANGE_FILTER), now=datetime(2024, 3, 4))
    # T7 (02-20) is open for 13 days, T5 for 1.8 days, T6 for 0.96 days
    assert c.columns == ["类型", "超过 1 天", "超过 3 天", "超过 7 天", "超过 30 天"]
    assert c.rows == [["请求", 1, 1, 1, 0], ["变更", 0, 0, 0, 0], ["事件", 1, 0, 0, 0], ["问题", 0, 0, 0, 0]]


def test_processor_workload(demo, known_tickets):
    # handled in the range: leader 3 steps (avg 6 h), eng1 1 (7 h), alice 1 (3 h); waiting now: leader T6+T7, eng1 T5
    assert chart(demo, "workload").rows == [["leader", 3, 2, 6.0], ["eng1", 1, 1, 7.0], ["alice", 1, 0, 3.0]]


def test_catalog_filter_includes_subcatalogs(demo, known_tickets):
    from app.extensions import db
    from app.models import Catalog

    with demo.app_context():
        infra = db.session.query(Catalog.id).filter_by(key="infra").scalar()      # 基础设施 > 报障受理 holds 故障处理
        account = db.session.query(Catalog.id).filter_by(key="account").scalar()
    assert chart(demo, "top_services", catalog_id=infra).rows == [["故障处理", "事件", 2]]
    assert chart(demo, "top_services", catalog_id=account).rows == [["账号开通", "请求", 4]]


@pytest.mark.parametrize("name", sorted(stats.CHARTS))
def test_every_chart_is_empty_without_tickets(demo, name):
    c = chart(demo, name)
    if name.startswith("volume"):
        assert all(sum(row[1:]) == 0 for row in c.rows)
    elif name == "open_longer":
        assert all(sum(row[1:]) == 0 for row in c.rows)
    else:
        assert c.rows == []


def test_approval_time_per_approver_from_the_votes(demo, known_tickets):
    # T1..T3: the leader rejected after 2 h, 4 h and 12 h; T6 waits for the leader (no vote yet); T7 is outside
    c = chart(demo, "approval_by_approver")
    assert c.columns == ["审批人", "审批次数", "通过", "拒绝", "平均", "P50", "P90"]
    assert c.rows == [["leader", 3, 0, 3, 6.0, 4.0, 12.0]]
    assert chart(demo, "approval_by_approver", service_type="event").rows == []


def test_every_countersign_vote_counts_for_its_approver(demo):
    from app.infra.uow import commit
    from app.services.people.users import find_user
    from app.services.tickets.operations import create_ticket, operate_step
    from stats_kit import _service

    change = dict(title="订单库加索引", change_type="normal", risk="medium", window="2030-01-05 22:00:00",
                  duration_minutes=60, plan="<p>在线加索引</p>", rollback_plan="删除索引",
                  security_impact="no", db_change="no")
    with demo.app_context():
        ticket = create_ticket(service_id=_service("change_normal"), creator=find_user("bob"), fields=change)
        operate_step(ticket.id, find_user("cm"), "TRANSITION", "cm_approve", fields={"cm_result": "agree"})
        operate_step(ticket.id, find_user("cab1"), "TRANSITION", "cab_review", fields={"cab_review_result": "true"})
        operate_step(ticket.id, find_user("cab2"), "TRANSITION", "cab_review", fields={"cab_review_result": "false"})
        commit()
    with demo.test_request_context():
        rows = {row[0]: row[1:4] for row in stats.approval_time_by_approver(stats.default_filter()).rows}
    assert rows == {"cab1": [1, 1, 0], "cab2": [1, 0, 1]}       # cm_approve is a manual node: not an approval
