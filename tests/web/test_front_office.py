"""The front office pages: workbench numbers, global view filters, the four modules, print view, language."""
import re


from app.extensions import db
from app.models import Ticket
from tests.statement_counter import statements_of_get

ACCOUNT = {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "reason": "工作需要"}


def _sns(html: str) -> set[str]:
    """Ticket numbers listed in the page's ticket table (not in flash messages above it)."""
    table = html.split("ticket-table", 1)[-1] if "ticket-table" in html else ""
    return set(re.findall(r"\b(?:REQ|CRQ|INC|PBI)\d{14}\b", table))


def _sn(itsm, ticket_id):
    return itsm.snapshot(ticket_id).ticket.sn


def test_workbench_shows_my_numbers_and_recent_activity(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    t1 = itsm.submit(alice, "account_apply", {**ACCOUNT, "title": "一号"})
    itsm.submit(alice, "account_apply", {**ACCOUNT, "title": "二号"})
    leader.post(f"/tickets/{t1}/steps/leader_approve/transition", data={"leader_approve-leader_approve_result": "true"})
    page = alice.get("/").get_data(as_text=True)
    numbers = page.split('id="my-numbers"')[1].split('id="todo"')[0]
    assert re.search(r'<div class="h3 mb-0">2</div><div class="text-muted small">已提交', numbers)
    activity = page.split('id="activity"')[1]
    assert "leader 审批节点【直属领导审批】：通过(通过)" in activity and _sn(itsm, t1) in activity
    page = leader.get("/").get_data(as_text=True)
    numbers = page.split('id="my-numbers"')[1].split('id="todo"')[0]
    assert re.search(r'<div class="h3 mb-0">1</div><div class="text-muted small">已处理', numbers)
    assert re.search(r'<div class="h3 mb-0">1</div><div class="text-muted small">我的待办', numbers)
    assert "分钟" in numbers            # an average handling time is shown


def test_global_view_filters_by_keyword_type_status_and_date(browser, itsm):
    alice = browser("alice")
    crm = itsm.submit(alice, "account_apply", {**ACCOUNT, "title": "CRM 只读"})
    erp = itsm.submit(alice, "account_apply", {**ACCOUNT, "title": "ERP 管理员", "system": "erp"})
    alice.post(f"/tickets/{erp}/actions/withdraw")
    sns = {"crm": _sn(itsm, crm), "erp": _sn(itsm, erp)}
    assert _sns(alice.get("/tickets?q=CRM").get_data(as_text=True)) == {sns["crm"]}
    assert _sns(alice.get(f"/tickets?q={sns['erp'][-6:]}").get_data(as_text=True)) == {sns["erp"]}
    assert _sns(alice.get("/tickets?status=REVOKED").get_data(as_text=True)) == {sns["erp"]}
    assert _sns(alice.get("/tickets?type=change").get_data(as_text=True)) == set()
    assert _sns(alice.get("/tickets?type=request&sort=created").get_data(as_text=True)) == set(sns.values())
    assert _sns(alice.get("/tickets?from=2000-01-01&to=2000-01-02").get_data(as_text=True)) == set()
    page = alice.get("/tickets?sort=created").get_data(as_text=True)
    assert page.index(sns["crm"]) < page.index(sns["erp"])
    page = alice.get("/tickets?sort=-created").get_data(as_text=True)
    assert page.index(sns["erp"]) < page.index(sns["crm"])
    bad = alice.get("/tickets?from=yesterday")
    assert bad.status_code == 200 and "日期格式应为 YYYY-MM-DD" in bad.get_data(as_text=True)


def test_each_module_lists_its_own_type_and_offers_its_services(browser, itsm):
    alice, admin = browser("alice"), browser("admin")
    itsm.submit(alice, "account_apply", ACCOUNT)
    page = alice.get("/modules/request?tab=mine").get_data(as_text=True)
    assert "请求管理" in page and len(_sns(page)) == 1 and "账号开通" in page.split('id="module-submit"')[1]
    assert _sns(alice.get("/modules/change?tab=mine").get_data(as_text=True)) == set()
    assert "所有单据" not in alice.get("/modules/request").get_data(as_text=True)
    assert alice.get("/modules/request?tab=all").status_code == 403
    assert len(_sns(admin.get("/modules/request?tab=all").get_data(as_text=True))) == 1
    assert alice.get("/modules/nonsense").status_code == 404
    for key in ("request", "change", "event", "question"):
        assert alice.get(f"/modules/{key}").status_code == 200


def test_history_tab_lists_every_ended_ticket_i_submitted_or_handled(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    rejected = itsm.submit(alice, "account_apply", {**ACCOUNT, "title": "被拒绝"})
    running = itsm.submit(alice, "account_apply", {**ACCOUNT, "title": "审批中"})
    withdrawn = itsm.submit(alice, "account_apply", {**ACCOUNT, "title": "撤单了"})
    leader.post(f"/tickets/{rejected}/steps/leader_approve/transition", data={"leader_approve-leader_approve_result": "false"})
    leader.post(f"/tickets/{running}/steps/leader_approve/transition", data={"leader_approve-leader_approve_result": "true"})
    alice.post(f"/tickets/{withdrawn}/actions/withdraw")
    # the manual's 我的历史单: ended tickets, whether I submitted them or handled them; running ones are not history
    assert _sns(alice.get("/tickets?tab=history").get_data(as_text=True)) == {_sn(itsm, rejected), _sn(itsm, withdrawn)}
    assert _sns(leader.get("/tickets?tab=history").get_data(as_text=True)) == {_sn(itsm, rejected), _sn(itsm, withdrawn)}
    assert _sns(alice.get("/modules/request?tab=history").get_data(as_text=True)) == {_sn(itsm, rejected),
                                                                                     _sn(itsm, withdrawn)}


def test_global_view_opens_on_all_tickets_for_admins_and_remembers_the_last_tab(browser, itsm):
    alice, admin = browser("alice"), browser("admin")
    ticket = itsm.submit(alice, "account_apply", ACCOUNT)
    page = admin.get("/tickets").get_data(as_text=True)
    assert _active_tab(page) == "所有单据" and _sns(page) == {_sn(itsm, ticket)}
    assert _active_tab(alice.get("/tickets").get_data(as_text=True)) == "与我相关"
    assert _active_tab(admin.get("/tickets?tab=mine").get_data(as_text=True)) == "我的申请单"
    assert _active_tab(admin.get("/tickets").get_data(as_text=True)) == "我的申请单"      # remembered
    assert alice.get("/tickets?tab=all").status_code == 403                                   # not theirs to open
    assert _active_tab(alice.get("/tickets").get_data(as_text=True)) == "与我相关"


def _active_tab(page: str) -> str:
    return re.search(r'class="nav-link active"[^>]*>([^<]+)<', page).group(1).strip()


def test_print_view_is_a_clean_page_of_the_ticket(browser, itsm):
    alice, bob = browser("alice"), browser("bob")
    t1 = itsm.submit(alice, "account_apply", ACCOUNT)
    page = alice.get(f"/tickets/{t1}/print").get_data(as_text=True)
    assert _sn(itsm, t1) in page and "申请 CRM 账号" in page and "流程开始." in page
    assert "navbar" not in page and "打印人" in page
    assert bob.get(f"/tickets/{t1}/print").status_code == 403


def test_english_can_be_switched_on_and_is_kept_for_the_user(browser, demo):
    alice = browser("alice")
    assert "工作台" in alice.get("/").get_data(as_text=True)
    r = alice.post("/language", data={"lang": "en", "next": "/tickets"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/tickets")
    page = alice.get("/").get_data(as_text=True)
    assert "Workbench" in page and "My to-do" in page and "工作台" not in page
    again = browser("alice")             # a new session: the choice is kept on the account
    assert "Workbench" in again.get("/").get_data(as_text=True)
    alice.post("/language", data={"lang": "zh"})
    assert "工作台" in alice.get("/").get_data(as_text=True)
    assert alice.post("/language", data={"lang": "en", "next": "https://evil.com/"}).headers["Location"] \
        .startswith("/")


def test_list_pages_cost_the_same_statements_for_3_and_20_tickets(browser, itsm, demo):
    alice, leader = browser("alice"), browser("leader")
    for i in range(3):
        itsm.submit(alice, "account_apply", {**ACCOUNT, "title": f"t{i}"})
    urls = ["/", "/tickets", "/tickets?tab=todo", "/modules/request?tab=mine", "/tickets?tab=mine&q=t"]
    few = {u: statements_of_get(demo, (leader if "todo" in u else alice).client, u) for u in urls}
    for i in range(17):
        itsm.submit(alice, "account_apply", {**ACCOUNT, "title": f"t{i + 3}"})
    many = {u: statements_of_get(demo, (leader if "todo" in u else alice).client, u) for u in urls}
    assert few == many, (few, many)
    with demo.app_context():
        assert db.session.query(Ticket).count() == 20


def test_modules_use_the_manuals_words_and_lists_offer_handle_or_view(browser, itsm):
    alice, admin, leader = browser("alice"), browser("admin"), browser("leader")
    itsm.submit(alice, "account_apply", ACCOUNT)
    for key, submit, every in (("request", "新增请求", "所有请求单"), ("change", "申请变更", "所有变更单"),
                               ("event", "提报事件", "所有故障单"), ("question", "问题提报", "所有问题单")):
        page = admin.get(f"/modules/{key}").get_data(as_text=True)
        assert submit in page.split('id="module-submit"')[1].split("</button>")[0]
        assert f">{every}<" in page and "所有单据" not in page
    # the leader's to-do row says 处理; the requester's own waiting ticket says 查看
    assert re.findall(r'class="ticket-action"[^>]*>([^<]+)<', leader.get("/tickets?tab=todo").get_data(as_text=True)) \
        == ["处理"]
    assert re.findall(r'class="ticket-action"[^>]*>([^<]+)<', alice.get("/tickets?tab=mine").get_data(as_text=True)) \
        == ["查看"]
