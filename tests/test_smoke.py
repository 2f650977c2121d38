def test_login_page_renders(app):
    client = app.test_client()
    assert client.get("/login").status_code == 200


def test_workbench_needs_login(demo):
    response = demo.test_client().get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_requester_submits_and_leader_approves(browser):
    alice = browser("alice")
    page = alice.get("/submit")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "账号开通" in page.get_data(as_text=True)
