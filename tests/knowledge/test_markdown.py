"""Articles are Markdown rendered to HTML and sanitized: formatting survives, scripts and dangerous links do not."""
import pytest

from app.services.knowledge.articles import plain_text, render_markdown

XSS_CASES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](  javascript:alert(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<svg onload=alert(1)><circle/></svg>",
    "<style>body{display:none}</style>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<form action=\"https://evil.example\"><input name=a></form>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<a href=\"&#106;avascript:alert(1)\">entity</a>",
]


@pytest.mark.parametrize("source", XSS_CASES)
def test_dangerous_markup_is_removed(source):
    html = render_markdown(f"正文\n\n{source}\n").lower()
    for needle in ("<script", "onerror", "onclick", "onload", "javascript:", "data:", "<iframe", "<svg",
                   "<style", "style=", "<form", "<input", "<math"):
        assert needle not in html, (source, html)


def test_code_blocks_and_tables_render():
    html = render_markdown("# 标题\n\n```python\nprint('<b>')\n```\n\n| 列1 | 列2 |\n|---|---|\n| a | b |\n")
    assert '<h1 id="kb-标题">标题</h1>' in html
    assert '<pre><code class="language-python">print(\'&lt;b&gt;\')' in html
    assert "<table>" in html and "<th>列1</th>" in html and "<td>a</td>" in html


def test_safe_links_keep_their_href_and_get_rel():
    html = render_markdown("[文档](https://docs.example/x) [内部](/tickets/1) [邮件](mailto:a@b.c)")
    assert 'href="https://docs.example/x"' in html and 'href="/tickets/1"' in html and 'href="mailto:a@b.c"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_only_code_language_classes_survive():
    html = render_markdown('<p class="alert">y</p> <span class="language-x">z</span>\n\n```sql\nselect 1\n```')
    assert 'class="alert"' not in html and '<span class=' not in html
    assert '<code class="language-sql">' in html


def test_plain_text_drops_markup_but_keeps_words():
    text = plain_text(render_markdown("# 打印机\n\n**加粗** `<img src=x>` 和 [链接](https://x)"))
    assert text == "打印机 加粗 <img src=x> 和 链接"
