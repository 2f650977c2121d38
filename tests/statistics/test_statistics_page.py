"""The 运营数据 page: who sees it, CSV exports equal to the charts, plotly.js served locally, a constant
number of statements whatever the number of tickets."""
import csv
import html
import io
import json
import re

from stats_kit import many_tickets

from app.extensions import db
from app.infra.uow import commit
from app.models import User
from app.services.stats.charts import CHARTS
from tests.statement_counter import statements_of_get

QUERY = "from=2024-03-01&to=2024-03-03"


def figures(page: str) -> dict:
    """{chart key: plotly figure} as the page hands them to plotly.js."""
    return {key: json.loads(html.unescape(raw)) for key, raw in
            re.findall(r'id="chart-([a-z_]+)" data-figure=\'([^\']*)\'', page)}


def read_csv(response) -> list[list[str]]:
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def make_stats_admin(app, username):
    with app.app_context():
        db.session.query(User).filter_by(username=username).update({"is_stats_admin": True})
        commit()


def test_only_super_admins_and_statistics_admins_see_it(browser, demo):
    alice = browser("alice")
    assert alice.get("/statistics/").status_code == 403
    assert alice.get("/statistics/status.csv").status_code == 403
    assert 'id="nav-statistics"' not in alice.get("/knowledge/").get_data(as_text=True)
    make_stats_admin(demo, "pm")
    pm = browser("pm")
    assert pm.get("/statistics/").status_code == 200
    assert 'id="nav-statistics"' in pm.get("/knowledge/").get_data(as_text=True)
    assert browser("admin").get("/statistics/").status_code == 200


def test_every_chart_has_a_table_and_a_csv_equal_to_its_data(browser, known_tickets):
    admin = browser("admin")
    page = admin.get(f"/statistics/?{QUERY}").get_data(as_text=True)
    drawn = figures(page)
    assert set(drawn) == set(CHARTS)
    for key, fig in drawn.items():
        rows = read_csv(admin.get(f"/statistics/{key}.csv?{QUERY}"))
        header, body = rows[0], rows[1:]
        assert f'href="/statistics/{key}.csv?' in page
        for trace in fig["data"]:
            if trace["type"] == "pie":
                assert trace["labels"] == [r[0] for r in body]
                assert [str(v) for v in trace["values"]] == [r[1] for r in body]
                continue
            col = header.index(trace["name"])
            categories, values = (trace["y"], trace["x"]) if trace.get("orientation") == "h" else (trace["x"], trace["y"])
            assert categories == [r[0] for r in body], key
            assert ["" if v is None else str(v) for v in values] == [r[col] for r in body], key
        table = page.split(f'id="table-{key}"')[1].split("</table>")[0]
        assert all(f"<td>{r[0]}</td>" in table for r in body)


def test_csv_of_the_volume_chart_has_the_known_numbers(browser, known_tickets):
    rows = read_csv(browser("admin").get(f"/statistics/volume_by_type.csv?{QUERY}"))
    assert rows == [["日期", "请求", "变更", "事件", "问题", "合计"], ["2024-03-01", "1", "0", "1", "0", "2"],
                    ["2024-03-02", "1", "0", "1", "0", "2"], ["2024-03-03", "2", "0", "0", "0", "2"]]


def test_csv_of_the_approver_chart_has_the_known_numbers(browser, known_tickets):
    rows = read_csv(browser("admin").get(f"/statistics/approval_by_approver.csv?{QUERY}"))
    assert rows == [["审批人", "审批次数", "通过", "拒绝", "平均", "P50", "P90"], ["leader", "3", "0", "3", "6.0", "4.0", "12.0"]]


def test_filters_by_type_and_rejects_a_bad_range(browser, known_tickets):
    admin = browser("admin")
    rows = read_csv(admin.get(f"/statistics/top_services.csv?{QUERY}&type=event"))
    assert rows == [["服务", "类型", "单据数"], ["故障处理", "事件", "2"]]
    page = admin.get("/statistics/?from=2024-03-05&to=2024-03-01").get_data(as_text=True)
    assert "时间范围无效" in page
    assert "日期格式应为" in admin.get("/statistics/?from=yesterday").get_data(as_text=True)


def test_pages_load_no_cdn_and_plotly_js_comes_from_the_app(browser, known_tickets):
    admin = browser("admin")
    page = admin.get(f"/statistics/?{QUERY}").get_data(as_text=True)
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page)
    assert sources and all(s.startswith("/") for s in sources), sources
    assert "cdn" not in page.lower() and "plot.ly" not in page
    js_url = next(s for s in sources if "plotly" in s)
    response = browser("alice").get(js_url)                  # any logged-in user may load the library
    assert response.status_code == 200 and response.mimetype == "application/javascript"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    assert len(response.get_data()) > 1_000_000
    for url in ("/knowledge/", "/knowledge/new"):
        sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', admin.get(url).get_data(as_text=True))
        assert all(s.startswith("/") for s in sources), sources


def test_statement_count_does_not_grow_with_tickets(browser, demo):
    admin = browser("admin")
    many_tickets(demo, 5)
    with_5 = statements_of_get(demo, admin.client, f"/statistics/?{QUERY}")
    many_tickets(demo, 45)
    with_50 = statements_of_get(demo, admin.client, f"/statistics/?{QUERY}")
    assert with_5 == with_50 <= 14


def test_workbench_shows_the_personal_subset(browser, known_tickets):
    block = browser("leader").get("/").get_data(as_text=True).split('id="personal-stats"')[1]
    # leader handled T1-T3 (2 h, 4 h, 12 h) long ago, so the last 30 days show none; T6 and T7 wait for them
    assert re.search(r"我处理的步骤</span><strong>0</strong>", block)
    assert re.search(r"等待我处理</span><strong>2</strong>", block)

