"""Full-text search on both databases: Chinese words of 2, 3 and 4 characters, English words, ranking,
highlighted snippets, the category filter, and an index that follows every save and delete."""
import pytest

from app.extensions import db
from app.infra.uow import commit
from app.services.knowledge import articles as kb
from app.services.knowledge.search import search_articles
from app.services.people.users import find_user


@pytest.fixture
def library(demo, write, category):
    """Four articles in two categories (网络 has a subcategory 无线)."""
    hardware, network = category("硬件"), category("网络")
    wireless = category("无线", parent=network)
    ids = {
        "printer": write("alice", "打印机卡纸处理", "办公室打印机经常卡纸，打开后盖取出纸张即可。\n\n"
                         "The office printer jams when printing envelopes.", category=hardware, tags="打印机,硬件"),
        "network": write("bob", "网络故障排查手册", "网络故障常见原因：网线松动、交换机端口关闭、DNS 配置错误。\n\n"
                         "先检查网线，再检查交换机。", category=network, tags="网络"),
        "vpn": write("bob", "VPN 连接失败", "网络连接正常但 VPN 报错 809，检查防火墙是否放行 UDP 500。",
                     category=wireless),
        "driver": write("alice", "安装打印驱动", "下载厂商驱动后双击安装，安装完成后重新打印测试页。", category=hardware),
    }
    return {"ids": ids, "hardware": hardware, "network": network, "wireless": wireless}


def found(app, query, **kw):
    with app.app_context():
        result = search_articles(query, **kw)
        return [h.article.title for h in result.hits], result


def test_two_character_chinese_word_is_found(demo, library):
    titles, result = found(demo, "打印")
    assert set(titles) == {"打印机卡纸处理", "安装打印驱动"}
    assert all("<mark>打印</mark>" in h.title_html for h in result.hits)
    assert "<mark>打印</mark>" in result.hits[0].snippet_html


def test_three_character_chinese_word_is_found_with_a_highlighted_snippet(demo, library):
    titles, result = found(demo, "打印机")
    assert titles == ["打印机卡纸处理"]
    assert "<mark>打印机</mark>" in result.hits[0].snippet_html
    assert str(result.hits[0].title_html) == "<mark>打印机</mark>卡纸处理"


def test_four_character_chinese_word_is_found(demo, library):
    titles, result = found(demo, "网络故障")
    assert titles == ["网络故障排查手册"]
    assert "<mark>网络故障</mark>" in result.hits[0].snippet_html


def test_sqlite_answers_two_chinese_characters_from_the_bigram_index_and_one_with_like(demo, library):
    with demo.app_context():
        dialect = db.engine.dialect.name
    expected = {"sqlite": ("like", "fts5", "fts5"), "postgresql": ("postgresql",) * 3}[dialect]
    assert tuple(found(demo, q)[1].engine for q in ("印", "打印", "打印机")) == expected
    assert found(demo, "印")[0] == ["打印机卡纸处理", "安装打印驱动"]


def test_results_are_ranked_title_hits_first(demo, library):
    titles, _ = found(demo, "网络")
    assert titles == ["网络故障排查手册", "VPN 连接失败"]


def test_english_words_are_found_case_insensitively(demo, library):
    assert found(demo, "printer")[0] == ["打印机卡纸处理"]
    assert found(demo, "PRINTER")[0] == ["打印机卡纸处理"]
    assert found(demo, "vpn")[0] == ["VPN 连接失败"]


def test_a_chinese_term_matches_only_where_its_characters_are_adjacent(demo, library, write):
    write("alice", "打印队列", "清空打印队列后，复印机恢复。")     # 打印 and 印机 both occur, 打印机 does not
    assert found(demo, "打印机")[0] == ["打印机卡纸处理"]
    assert found(demo, "印机")[0] == ["打印机卡纸处理", "打印队列"]


def test_every_term_must_match(demo, library):
    assert found(demo, "网络 交换机")[0] == ["网络故障排查手册"]
    assert found(demo, "打印 交换机")[0] == []
    assert found(demo, "printer 卡纸")[0] == ["打印机卡纸处理"]


def test_english_stemming_on_postgresql(demo, library):
    with demo.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("stemming comes from PostgreSQL's tsvector; SQLite trigram matches substrings only")
    titles, result = found(demo, "printed")        # the text says "printing": same stem
    assert titles == ["打印机卡纸处理"]
    assert "<mark>printing</mark>" in result.hits[0].snippet_html


def test_category_filter_includes_subcategories(demo, library):
    with demo.app_context():
        network_ids = kb.descendant_ids(library["network"])
        hardware_ids = kb.descendant_ids(library["hardware"])
    assert found(demo, "网络", category_ids=network_ids)[0] == ["网络故障排查手册", "VPN 连接失败"]
    assert found(demo, "网络", category_ids=hardware_ids)[0] == []
    assert found(demo, "打印", category_ids=network_ids)[0] == []


def test_snippets_escape_article_text(demo, write):
    write("alice", "注入测试", "代码示例 `<img src=x onerror=alert(1)>` 说明 onerror 属性")
    for query in ("onerror", "说明"):         # the FTS5 path and the short-term path on SQLite
        _, result = found(demo, query)
        snippet = str(result.hits[0].snippet_html)
        assert "<img" not in snippet and "&lt;img src=x" in snippet, snippet


def test_like_wildcards_are_literal(demo, library, write):
    write("alice", "磁盘使用率 100%", "磁盘满了 100% 时清理日志")
    assert found(demo, "0%")[0] == ["磁盘使用率 100%"]
    assert found(demo, "_")[0] == []


def test_index_follows_edits_and_deletes(demo, library):
    article_id = library["ids"]["vpn"]
    with demo.app_context():
        kb.save_article(find_user("bob"), article_id=article_id, title="VPN 拨号失败", body="拨号报错 691：密码错误。")
        commit()
    assert found(demo, "809")[0] == []
    assert found(demo, "密码错误")[0] == ["VPN 拨号失败"]
    with demo.app_context():
        kb.delete_article(find_user("bob"), article_id)
        commit()
    assert found(demo, "密码错误")[0] == [] and found(demo, "密码")[0] == []


def test_search_page_shows_highlighted_results_and_filters_by_category(browser, library):
    alice = browser("alice")
    page = alice.get("/knowledge/?q=打印机").get_data(as_text=True)
    assert "<mark>打印机</mark>" in page and "共找到 1 篇文章" in page
    page = alice.get(f"/knowledge/?q=网络&category={library['wireless']}").get_data(as_text=True)
    assert "VPN 连接失败" in page and "网络故障排查手册" not in page
    assert "没有找到相关文章" in alice.get("/knowledge/?q=不存在的词语").get_data(as_text=True)
