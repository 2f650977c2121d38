"""The people pickers' search (/people/search): enabled users by username or display name, for logged-in users."""


def results(client, q):
    response = client.get("/people/search", query_string={"q": q})
    assert response.status_code == 200
    return response.get_json()["results"]


def test_people_are_found_by_display_name_or_username_in_any_case(browser):
    alice = browser("alice")
    assert {"value": "alice", "text": "alice(张三)"} in results(alice, "张")
    assert results(alice, "ALI")[0] == {"value": "alice", "text": "alice(张三)"}
    assert results(alice, "  ") == [] and results(alice, "nobody-here") == []


def test_like_wildcards_are_plain_characters(browser):
    alice = browser("alice")
    assert results(alice, "%") == [] and results(alice, "_") == []


def test_the_search_needs_a_login(browser):
    response = browser().get("/people/search?q=a")
    assert response.status_code in (302, 401)
