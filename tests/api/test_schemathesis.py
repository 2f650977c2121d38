"""Schemathesis against /api/openapi.json: no 5xx, and every response fits the documented envelope.

Run on the WSGI app (no network at all) with the demo data, as an app allowed to act for users
(admin), on SQLite and on PostgreSQL. Deterministic: every operation gets the same fixed number of
examples (EXAMPLES), derandomized (hypothesis's fixed seed per test), no shrinking, and no time
budget, so how much of the API is fuzzed does not depend on the machine's speed.
"""
from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from app.api import UNEXPECTED
from app.api.openapi import ENDPOINTS as OPENAPI_ENDPOINTS

AUTH = {"X-Bkapi-Authorization": json.dumps({"bk_app_code": "ops-portal", "bk_app_secret": "s3cret-value-for-tests",
                                             "bk_username": "admin"})}
EXAMPLES = 20        # per operation and database: the module takes about 80 s of CPU on both databases


@pytest.fixture
def st_schema(api, demo):
    return schemathesis.openapi.from_wsgi("/api/openapi.json", demo)


@pytest.mark.parametrize("name", list(OPENAPI_ENDPOINTS))
def test_api_conforms_to_its_openapi_document(st_schema, name):
    # (schemathesis.pytest.from_fixture does not work with pytest 9, so each operation gets its own
    # hypothesis run here)
    method = OPENAPI_ENDPOINTS[name][0]
    operation = st_schema[f"/api/c/compapi/v2/itsm/{name}/"][method]
    calls = []

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def check(case):
        calls.append(case)
        response = case.call(headers=AUTH)
        case.validate_response(response, checks=[not_a_server_error, status_code_conformance,
                                                 content_type_conformance, response_schema_conformance])
        body = response.json()
        # the catch-all answer means an unexpected exception (a bug) was turned into 3900004
        assert not body["message"].startswith(UNEXPECTED), (case.path, case.body, case.query, body)

    check()
    assert len(calls) == EXAMPLES, f"{name}: {len(calls)} examples ran, {EXAMPLES} expected"


def test_the_document_lists_every_endpoint(api):
    from app.api.endpoints import ENDPOINTS

    doc = api.client.get("/api/openapi.json").get_json()
    assert doc["openapi"].startswith("3.0")
    listed = {path.removeprefix("/api/c/compapi/v2/itsm/").rstrip("/") for path in doc["paths"]}
    assert listed == set(ENDPOINTS)
    assert set(doc["components"]["securitySchemes"]) == {"bkapiAuthorization", "bkAppCode", "bkAppSecret",
                                                         "bkUsername", "bkToken"}
    for path, item in doc["paths"].items():
        (method, op), = item.items()
        if method == "get":
            assert "requestBody" not in op and all(p["in"] == "query" for p in op.get("parameters", []))
        else:
            assert op["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"
