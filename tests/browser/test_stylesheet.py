"""The stylesheet (app/static/itsm.css) gives every button and its text WCAG AA contrast, computed in Chromium.

Text of a button against its own background (or, for a transparent button, the background it sits on): 4.5:1.
An outline button's border against that background: 3:1, so a control is visible as a control.
"""
from browser_kit import FLOW

BUTTON_STYLES = """(buttons) => buttons.filter((b) => b.offsetParent !== null).map((b) => {
    const style = getComputedStyle(b);
    let under = b.parentElement, behind = "rgba(0, 0, 0, 0)";
    while (under) {
        const bg = getComputedStyle(under).backgroundColor;
        if (!/rgba\\(.*, 0\\)$/.test(bg) && bg !== "transparent") { behind = bg; break; }
        under = under.parentElement;
    }
    return {text: b.innerText.trim(), color: style.color, background: style.backgroundColor,
            border: style.borderTopColor, borderWidth: style.borderTopWidth, behind: behind};
})"""


def rgb(text: str) -> tuple[float, float, float, float]:
    parts = [float(p) for p in text[text.index("(") + 1:-1].split(",")]
    return (*parts[:3], parts[3] if len(parts) == 4 else 1.0)


def over(top: str, bottom: str) -> tuple[float, float, float]:
    r, g, b, a = rgb(top)
    br, bg, bb, _ = rgb(bottom)
    return (r * a + br * (1 - a), g * a + bg * (1 - a), b * a + bb * (1 - a))


def luminance(color: tuple[float, float, float]) -> float:
    def channel(c):
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def button_problems(page) -> list[str]:
    problems = []
    for b in page.locator("main .btn, nav .btn, body > div .btn").evaluate_all(BUTTON_STYLES):
        behind = b["behind"] if not b["behind"].endswith(", 0)") else "rgb(255, 255, 255)"
        face = over(b["background"], behind)
        text = over(b["color"], "rgb(%d, %d, %d)" % face)
        if b["text"] and contrast(text, face) < 4.5:
            problems.append(f"{page.url} 「{b['text']}」 text {contrast(text, face):.2f}:1")
        outlined = rgb(b["background"])[3] == 0 and rgb(b["border"])[3] > 0 and float(b["borderWidth"][:-2]) > 0
        if outlined and b["text"]:
            edge = over(b["border"], behind)
            if contrast(edge, over(behind, "rgb(255, 255, 255)")) < 3:
                problems.append(f"{page.url} 「{b['text']}」 border {contrast(edge, face):.2f}:1")
    return problems


def test_buttons_have_aa_contrast_on_the_front_office_pages(sessions, make_service, live_server):
    service_id = make_service(FLOW, users=("alice",))
    alice = sessions("alice")
    page = alice.go(f"/submit/{service_id}")
    page.select_option("select[name=kind]", "host")                 # shows 「添加一行」
    seen = {t.strip() for t in page.locator("main .btn").all_inner_texts()}
    assert {"提交", "取消", "添加一行"} <= seen
    problems = button_problems(page)
    page.fill("input[name=title]", "对比度")
    page.fill("input[name=hosts-0-ip]", "10.0.0.1")
    with page.expect_navigation():
        page.click("main button:has-text('提交')")
    assert "撤单" in page.inner_text("#ticket-actions")
    problems += button_problems(page)
    for path in ("/", "/knowledge/", f"{page.url.split(live_server)[1]}/print"):
        problems += button_problems(alice.go(path))
    admin = sessions("admin")
    problems += button_problems(admin.go("/knowledge/categories"))
    assert problems == []


def test_the_stylesheet_is_one_static_file_and_pages_carry_no_style_blocks(sessions):
    page = sessions("alice").go("/")
    sheets = page.locator("link[rel=stylesheet]").evaluate_all("(links) => links.map((l) => l.getAttribute('href'))")
    assert "/static/itsm.css" in sheets
    assert page.locator("style").count() == 0 and page.locator("script:not([src]):not([type='application/json'])").count() == 0
