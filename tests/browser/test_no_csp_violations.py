"""No page breaks its own Content Security Policy, which allows no inline style (style-src without 'unsafe-inline').

Chromium visits every front-office page and every back-office page a super admin can reach by following links
(one of each path), plus the forms and dialogs that only open with data, and records each CSP violation it
reports: the `securitypolicyviolation` events and the console's "Refused to ..." lines.
"""
from urllib.parse import urljoin, urlsplit

from browser_kit import FLOW

LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`);
});
"""
SKIP = ("/logout", "/static/", "/vendor/", "/attachments/", "/export", "/delete", "/download", "/api/",
        "/print", "/plotly.min.js", "/healthz", "/lang/", "/admin/static/")
MAX_PAGES = 220


def _links(page) -> list[str]:
    return page.eval_on_selector_all("a[href]", "(as) => as.map((a) => a.getAttribute('href'))")


def _visit_all(session, starts, seen: set, violations: list):
    page = session.page
    queue = list(starts)
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        parts = urlsplit(url)
        if parts.path in seen:
            continue
        seen.add(parts.path)
        response = page.goto(session.base + parts.path + (f"?{parts.query}" if parts.query else ""))
        if response is None or "text/html" not in (response.headers.get("content-type") or ""):
            continue
        page.wait_for_load_state("networkidle")
        found = page.evaluate("window.__violations || []")
        violations.extend(f"{parts.path}: {v}" for v in found)
        for href in _links(page):
            target = urlsplit(urljoin(page.url, href))
            if target.netloc != urlsplit(session.base).netloc or target.scheme not in ("http", "https"):
                continue
            downloads = "." in target.path.rsplit("/", 1)[-1]          # .csv, .yaml, ...: files, not pages
            if any(s in target.path for s in SKIP) or target.path in seen or downloads:
                continue
            queue.append(target.path + (f"?{target.query}" if target.query and "id=" in target.query else ""))


def test_no_page_reports_a_csp_violation(sessions, make_service, live_server):
    service = make_service(FLOW, users=("alice",))
    alice = sessions("alice")
    page = alice.go(f"/submit/{service}")
    page.fill("input[name=title]", "样式检查")
    page.select_option("select[name=kind]", "host")
    page.fill("input[name=hosts-0-ip]", "10.0.0.1")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    ticket_path = urlsplit(page.url).path

    admin = sessions("admin")
    console = []
    admin.page.on("console", lambda m: console.append(f"{urlsplit(admin.page.url).path}: {m.text}")
                  if "Content Security Policy" in m.text else None)
    admin.context.add_init_script(LISTEN)
    seen, violations = set(), []
    _visit_all(admin, ["/", "/submit", f"/submit/{service}", ticket_path, ticket_path + "/print", "/tickets",
                       "/statistics/", "/knowledge/", "/profile", "/no-such-page", "/admin/"], seen, violations)
    assert len(seen) > 60, sorted(seen)                 # the crawl reached the back office's lists and forms
    assert any(p.startswith("/admin/flow") for p in seen) and any(p.startswith("/knowledge/") for p in seen)
    assert violations == [] and console == []
