"""In a real browser (Playwright + /usr/bin/chromium, demo SQLite database): the statistics page draws its
charts with the plotly.js the app serves, the knowledge base searches and renders, and no request leaves 127.0.0.1."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from stats_kit import incident

from app.infra.uow import commit
from app.services.knowledge import articles as kb
from app.services.people.users import find_user

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path("/tmp/kb-shots")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="needs /usr/bin/chromium")
sync_api = pytest.importorskip("playwright.sync_api")




@pytest.fixture
def page(live_server):
    """A logged-in admin's page; every request it makes is recorded in `page.hosts`."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 900}, base_url=live_server)
        hosts: list[str] = []
        page.on("request", lambda req: hosts.append(urlsplit(req.url).hostname or req.url))
        page.on("dialog", lambda dialog: dialog.accept())
        page.hosts = hosts
        page.goto("/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "admin-pass-123")
        page.press("input[name=password]", "Enter")
        page.wait_for_url(lambda url: "/login" not in url)
        yield page
        browser.close()


def shot(page, name):
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_statistics_page_draws_every_chart_offline(page, known_tickets):
    page.click("#nav-statistics")
    page.goto("/statistics/?from=2024-03-01&to=2024-03-03")
    page.locator("[data-figure] .main-svg").first.wait_for()     # (no wait_for_function: the CSP forbids eval)
    charts = page.locator("[data-figure]")
    assert charts.count() == 10
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        assert chart.locator("svg.main-svg").count() >= 1, chart.get_attribute("id")
    # bars, pie slices and lines were drawn, not just empty axes
    assert page.locator("#chart-volume_by_type .bars path").count() >= 4
    assert page.locator("#chart-status .slice").count() == 2
    assert page.locator("#chart-volume_by_service .scatterlayer .trace").count() == 2
    assert page.locator("#chart-approval_by_approver .bars path").count() >= 3      # leader: avg, P50, P90
    page.click("#card-status summary")
    assert page.locator("#table-status").is_visible()
    shot(page, "01-statistics")
    assert set(page.hosts) == {"127.0.0.1"}, set(page.hosts)


def _overlap(a, b) -> bool:
    return a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"] \
        and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def _boxes(locator) -> list[dict]:
    return [box for box in (locator.nth(i).bounding_box() for i in range(locator.count())) if box]


def test_chart_legends_and_axis_labels_never_overlap(page, known_tickets):
    """Issue 17.15: the legend sat on the x-axis labels; it now sits above the plot and the axes make room."""
    page.goto("/statistics/?from=2024-02-03&to=2024-03-03&unit=day")      # a month of daily labels
    page.locator("[data-figure] .main-svg").first.wait_for()
    charts = page.locator("[data-figure]")
    for i in range(charts.count()):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        name = chart.get_attribute("id")
        legend = _boxes(chart.locator("g.legend"))
        labels = _boxes(chart.locator("g.xtick text, g.ytick text, g.g-xtitle text, g.g-ytitle text"))
        for box in legend:
            assert not any(_overlap(box, label) for label in labels), name
        flat = chart.locator("g.xtick text:not([transform*='rotate'])")    # plotly tilts labels that would collide
        ticks = _boxes(flat)
        for j, tick in enumerate(ticks):
            assert not any(_overlap(tick, other) for other in ticks[j + 1:]), name
        plot = chart.locator(".main-svg").first.bounding_box()
        for box in labels + legend:      # nothing drawn outside the chart's own area
            assert box["x"] >= plot["x"] - 1 and box["x"] + box["width"] <= plot["x"] + plot["width"] + 1, name


def write(app, username, title, body, tags=""):
    with app.app_context():
        kb.save_article(find_user(username), title=title, body=body, tags=tags)
        commit()


def test_knowledge_base_in_the_browser(page, demo):
    write(demo, "bob", "网络故障排查手册", "## 步骤\n\n1. 检查网线\n2. 检查交换机\n\n```bash\nping 10.0.0.1\n```\n\n"
          "| 现象 | 处理 |\n|---|---|\n| 丢包 | 换网线 |\n", tags="网络")
    write(demo, "alice", "打印机卡纸处理", "打开后盖取出纸张。打印机型号 HP M404。", tags="打印机")
    page.click("#nav-knowledge")
    shot(page, "02-knowledge-list")
    page.fill("#kb-search input[name=q]", "网络故障")
    page.click("#kb-search button[type=submit]")
    assert page.locator(".kb-hit mark").first.inner_text() == "网络故障"
    shot(page, "03-knowledge-search")
    page.click(".kb-hit h5 a")
    assert page.locator("#kb-body table td").first.inner_text() == "丢包"
    shot(page, "04-knowledge-article")

    # write one from a finished incident, preview it, publish it
    with demo.app_context():
        ticket_id = incident(finish=True)
        commit()
    page.goto(f"/tickets/{ticket_id}")
    page.click("#kb-from-ticket")
    page.click("#kb-preview-tab")
    page.wait_for_selector("#kb-preview h2")
    shot(page, "05-knowledge-from-ticket-preview")
    page.click("#kb-form button[type=submit]")
    assert page.locator("#kb-article-title").inner_text() == "订单服务 502"
    page.goto(f"/tickets/{ticket_id}")
    page.locator("#knowledge").scroll_into_view_if_needed()
    assert "订单服务 502" in page.locator("#knowledge").inner_text()
    shot(page, "06-ticket-knowledge-panel")
    assert set(page.hosts) == {"127.0.0.1"}, set(page.hosts)
