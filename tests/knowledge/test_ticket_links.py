"""Articles and tickets, both ways: attach from the ticket page, see the tickets an article helped,
write an article from a finished incident."""
import re

from app.extensions import db
from app.models import Article, ArticleTicket


def test_ticket_page_searches_the_knowledge_base_and_attaches_an_article(browser, demo, write, incident):
    ticket_id = incident(finish=False)
    article_id = write("bob", "打印机 IP 冲突处理", "为打印机保留固定 IP。")
    alice = browser("alice")
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="knowledge"' in page and "还没有关联的知识文章" in page
    assert 'id="kb-from-ticket"' not in page              # not finished yet

    results = alice.get(f"/knowledge/?q=打印机&ticket={ticket_id}").get_data(as_text=True)
    assert "关联到单据" in results and f'name="ticket_id" value="{ticket_id}"' in results
    response = alice.post(f"/knowledge/{article_id}/tickets", data={"ticket_id": ticket_id})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/tickets/{ticket_id}#knowledge")
    alice.post(f"/knowledge/{article_id}/tickets", data={"ticket_id": ticket_id})      # twice: still one link

    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "打印机 IP 冲突处理" in page and "alice 关联于" in page
    article_page = alice.get(f"/knowledge/{article_id}").get_data(as_text=True)
    assert "帮助过的单据" in article_page and "打印机无法连接" in article_page
    with demo.app_context():
        assert db.session.query(ArticleTicket).count() == 1

    alice.post(f"/knowledge/{article_id}/tickets/{ticket_id}/remove")
    assert "还没有关联的知识文章" in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)


def test_people_who_cannot_see_the_ticket_cannot_attach_or_read_it_from_the_article(browser, demo, write, incident):
    ticket_id = incident(finish=False)
    article_id = write("bob", "打印机 IP 冲突处理", "为打印机保留固定 IP。")
    browser("alice").post(f"/knowledge/{article_id}/tickets", data={"ticket_id": ticket_id})
    bob = browser("bob")
    assert bob.post(f"/knowledge/{article_id}/tickets", data={"ticket_id": ticket_id}).status_code == 403
    page = bob.get(f"/knowledge/{article_id}").get_data(as_text=True)
    assert "打印机无法连接" not in page and "关联的单据你无权查看" in page


def test_an_article_is_written_from_a_finished_incident(browser, demo, incident):
    ticket_id = incident()
    alice = browser("alice")
    ticket_page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert 'id="kb-from-ticket"' in ticket_page

    form = alice.get(f"/knowledge/new?from_ticket={ticket_id}").get_data(as_text=True)
    assert 'value="打印机无法连接"' in form
    for text in ("## 故障现象", "三楼打印机脱机，无法打印", "## 故障原因", "打印机 IP 地址冲突", "## 解决方案",
                 "为打印机保留固定 IP 并重启"):
        assert text in form
    body = re.search(r'<textarea[^>]*name="body"[^>]*>\n?(.*?)</textarea>', form, re.S).group(1)
    response = alice.post("/knowledge/new", data={"title": "打印机无法连接", "body": body.replace("&gt;", ">"),
                                                  "tags": "故障", "category_id": "0", "source_ticket_id": str(ticket_id)})
    assert response.status_code == 302
    with demo.app_context():
        article = db.session.query(Article).one()
        assert article.source_ticket_id == ticket_id and "## 解决方案" in article.body
        assert [(l.ticket_id, l.created_by) for l in db.session.query(ArticleTicket)] == [(ticket_id, "alice")]
    assert "打印机无法连接" in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True).split('id="knowledge"')[1]


def test_an_unfinished_ticket_or_a_request_does_not_make_an_article(browser, demo, incident):
    ticket_id = incident(finish=False)
    alice = browser("alice")
    assert alice.get(f"/knowledge/new?from_ticket={ticket_id}").status_code == 409
    response = alice.post("/knowledge/new", data={"title": "x", "body": "y", "category_id": "0",
                                                  "source_ticket_id": str(ticket_id)})
    assert response.status_code == 302               # refused: back with a message, nothing saved
    with demo.app_context():
        assert db.session.query(Article).count() == 0
    assert browser("bob").get(f"/knowledge/new?from_ticket={ticket_id}").status_code == 403
