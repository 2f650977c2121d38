"""Writing articles: versions (view, diff, restore), permissions, tags and categories."""
import re

from app.extensions import db
from app.infra.uow import commit
from app.models import Article, ArticleVersion
from app.services.knowledge import articles as kb
from app.services.people.users import add_role_member, find_user


def new_article(user, **overrides):
    data = {"title": "打印机卡纸处理", "body": "# 步骤\n\n1. 打开后盖\n2. 取出纸张\n", "tags": "打印机, 硬件",
            "category_id": "0"}
    data.update(overrides)
    response = user.post("/knowledge/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/knowledge/(\d+)", response.headers["Location"]).group(1))


def edit(user, article_id, base_version, **changes):
    data = {"title": "打印机卡纸处理", "body": "# 步骤\n\n1. 打开后盖\n2. 取出纸张\n", "tags": "打印机",
            "category_id": "0", "base_version": str(base_version)}
    data.update(changes)
    return user.post(f"/knowledge/{article_id}/edit", data=data)


def versions(app, article_id):
    with app.app_context():
        return [(v.number, v.title, v.created_by, v.note) for v in
                db.session.query(ArticleVersion).filter_by(article_id=article_id).order_by(ArticleVersion.number)]


def test_an_article_is_written_read_and_listed(browser, demo):
    alice, bob = browser("alice"), browser("bob")
    article_id = new_article(alice, body="# 步骤\n\n<script>alert(1)</script>\n\n| 现象 | 处理 |\n|---|---|\n| 卡纸 | 取出 |\n")
    page = bob.get(f"/knowledge/{article_id}").get_data(as_text=True)
    assert "打印机卡纸处理" in page and "<td>卡纸</td>" in page
    assert "<script>alert" not in page
    assert 'id="kb-edit"' not in page                 # bob reads but may not edit
    listing = bob.get("/knowledge/").get_data(as_text=True)
    assert "打印机卡纸处理" in listing and ">打印机 <span" in listing       # the tag cloud
    assert "打印机卡纸处理" in bob.get("/knowledge/?tag=硬件").get_data(as_text=True)
    assert "打印机卡纸处理" not in bob.get("/knowledge/?tag=网络").get_data(as_text=True)


def test_every_save_is_a_version_and_an_old_one_can_be_restored(browser, demo):
    alice = browser("alice")
    article_id = new_article(alice)
    assert edit(alice, article_id, 1, body="# 步骤\n\n1. 关闭电源\n2. 打开后盖\n", note="先断电").status_code == 302
    assert edit(alice, article_id, 2, title="打印机卡纸", body="已过时").status_code == 302
    assert versions(demo, article_id) == [(1, "打印机卡纸处理", "alice", "创建"), (2, "打印机卡纸处理", "alice", "先断电"),
                                          (3, "打印机卡纸", "alice", "")]

    # an earlier version, with its differences from the current one
    page = alice.get(f"/knowledge/{article_id}/versions/2").get_data(as_text=True)
    assert "关闭电源" in page
    assert '<span class="del">1. 关闭电源</span>' in page and '<span class="add">已过时</span>' in page
    assert '<span class="del"># 打印机卡纸处理</span>' in page

    # restoring writes version 4 with version 2's content; the history stays
    response = alice.post(f"/knowledge/{article_id}/versions/2/restore")
    assert response.status_code == 302
    assert versions(demo, article_id)[-1] == (4, "打印机卡纸处理", "alice", "恢复自第 2 版")
    with demo.app_context():
        article = db.session.get(Article, article_id)
        assert article.version == 4 and "关闭电源" in article.body and article.title == "打印机卡纸处理"
    assert "第 4 版" in alice.get(f"/knowledge/{article_id}/versions").get_data(as_text=True)


def test_the_diff_escapes_what_the_versions_contain(browser, demo):
    alice = browser("alice")
    article_id = new_article(alice, body="旧内容")
    edit(alice, article_id, 1, body="新内容 <img src=x onerror=alert(1)>")
    page = alice.get(f"/knowledge/{article_id}/versions/1").get_data(as_text=True)
    assert '<span class="add">新内容 &lt;img src=x onerror=alert(1)&gt;</span>' in page
    assert "<img src=x" not in page


def test_saving_over_a_newer_version_is_refused_and_keeps_the_typed_text(browser, demo):
    alice = browser("alice")
    article_id = new_article(alice)
    edit(alice, article_id, 1, body="第二版")
    response = edit(alice, article_id, 1, body="基于第一版的修改")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "请刷新后重新修改" in page and "基于第一版的修改" in page
    assert [v[0] for v in versions(demo, article_id)] == [1, 2]


def test_only_the_author_and_knowledge_admins_edit(browser, demo):
    alice, bob, admin = browser("alice"), browser("bob"), browser("admin")
    article_id = new_article(alice)
    assert edit(bob, article_id, 1, body="bob 改的").status_code == 403
    assert bob.post(f"/knowledge/{article_id}/versions/1/restore").status_code == 403
    assert bob.post(f"/knowledge/{article_id}/delete").status_code == 403
    assert bob.get(f"/knowledge/{article_id}/edit").status_code == 403
    assert [v[0] for v in versions(demo, article_id)] == [1]

    assert edit(admin, article_id, 1, body="超级管理员改的").status_code == 302
    with demo.app_context():                       # bob joins the knowledge admins role (made on demand)
        kb.knowledge_admin_role()
        add_role_member(kb.KNOWLEDGE_ADMINS, "bob")
        commit()
    assert edit(bob, article_id, 2, body="知识库管理员改的").status_code == 302
    assert [(v[0], v[2]) for v in versions(demo, article_id)] == [(1, "alice"), (2, "admin"), (3, "bob")]
    assert bob.post(f"/knowledge/{article_id}/delete").status_code == 302
    assert bob.get(f"/knowledge/{article_id}").status_code == 404


def test_categories_are_a_tree_managed_by_knowledge_admins(browser, demo):
    alice, admin = browser("alice"), browser("admin")
    assert alice.get("/knowledge/categories").status_code == 403
    assert admin.post("/knowledge/categories", data={"name": "网络", "parent_id": "0"}).status_code == 302
    with demo.app_context():
        (network, _), = kb.category_tree()
    admin.post("/knowledge/categories", data={"name": "无线", "parent_id": str(network.id)})
    with demo.app_context():
        assert [(c.name, depth) for c, depth in kb.category_tree()] == [("网络", 0), ("无线", 1)]
    page = alice.get("/knowledge/new").get_data(as_text=True)
    assert "　无线" in page                          # indented under 网络 in the category select


def test_invalid_input_is_refused_with_messages(browser, demo):
    alice = browser("alice")
    response = alice.post("/knowledge/new", data={"title": "", "body": "", "category_id": "0"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "请填写标题" in page and "请填写正文" in page
    with demo.app_context():
        assert db.session.query(Article).count() == 0


def test_preview_renders_like_the_article_page(browser, demo):
    alice = browser("alice")
    html = alice.post("/knowledge/preview", data={"body": "**粗体** <script>x</script>"}).get_data(as_text=True)
    assert html == "<p><strong>粗体</strong> </p>"


def test_the_service_refuses_too_many_tags(demo):
    import pytest

    from app.errors import ValidationFailed

    with demo.app_context():
        with pytest.raises(ValidationFailed, match="最多 10 个标签"):
            kb.save_article(find_user("alice"), title="t", body="b", tags=",".join(str(i) for i in range(11)))


def test_the_tag_cloud_follows_saves_and_deletes_at_once(demo, write):
    kb._popular.clear()                          # what earlier tests (rolled back since) left in this process
    first = write("alice", "打印机卡纸", "取出纸张", tags="打印机")
    with demo.app_context():
        assert ("打印机", 1) in kb.popular_tags()           # counted once, then kept for a minute
    write("bob", "打印机脱机", "检查网线", tags="打印机,网络")
    with demo.app_context():
        assert ("打印机", 2) in kb.popular_tags() and ("网络", 1) in kb.popular_tags()
        kb.delete_article(find_user("alice"), first)
        commit()
        assert ("打印机", 1) in kb.popular_tags()
