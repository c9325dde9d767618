"""The OpenAPI contract: a valid 3.1 document that names every topology route, with the same auth."""
from __future__ import annotations

from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

import pytest

from infra.topology import ROUTES
from stocklink.contract import document
from stocklink.contract.routes import operations
from stocklink.domain.requests import ReceiptIn


def test_document_is_valid_openapi_3_1():
    doc = document()
    assert doc["openapi"] == "3.1.0"
    validate(doc)                     # raises with the offending path on any violation


def test_validator_catches_a_broken_document():
    broken = {**document(), "paths": {"/x/{id}": {"get": {"responses": {"200": {"description": "OK"}}}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)              # a path parameter with no declaration


def test_every_topology_route_is_in_the_contract_and_nothing_else():
    topology = {(r.method, r.path) for r in ROUTES}
    contract = {(op.method, op.path) for op in operations()}
    assert topology - contract == set(), "routes missing from stocklink/contract/routes.py"
    assert contract - topology == set(), "contract routes that infra/topology.py does not declare"
    assert len(contract) == len(operations()), "a route is declared twice in the contract"


def test_token_routes_and_only_those_require_a_bearer_token():
    auth = {(r.method, r.path): r.auth for r in ROUTES}
    for op in operations():
        operation = document()["paths"][op.path][op.method.lower()]
        token = auth[(op.method, op.path)] == "token"
        assert (op.group is not None) == token, f"{op.method} {op.path}"
        assert operation["security"] == ([{"bearer": []}] if token else [])
        if token:
            assert {"401", "403"} <= set(operation["responses"])
            assert operation["x-stocklink-roles"] and "admin" in operation["x-stocklink-roles"]


def test_list_endpoints_take_limit_and_cursor_and_answer_next():
    doc = document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            names = {p["name"] for p in operation["parameters"]}
            if "limit" not in names:
                continue
            assert "cursor" in names, f"{method} {path}"
            content = operation["responses"]["200"]["content"]
            if "application/json" not in content:       # a CSV page names the next one in a header
                assert "X-Next-Cursor" in operation["responses"]["200"]["headers"], f"{method} {path}"
                continue
            ok = content["application/json"]["schema"]
            ok = doc["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]] if "$ref" in ok else ok
            assert "next" in ok["required"], f"{method} {path}"


def test_request_bodies_are_the_models_the_handlers_validate_with():
    doc = document()
    body = doc["paths"]["/stock/receipts"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ReceiptIn"}
    generated = ReceiptIn.model_json_schema(ref_template="#/components/schemas/{model}")
    assert doc["components"]["schemas"]["ReceiptIn"]["properties"] == generated["properties"]
    assert doc["components"]["schemas"]["LineIn"]["properties"]["qty"]["exclusiveMinimum"] == 0


def test_errors_share_one_body_schema_and_path_parameters_are_declared():
    doc = document()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            for code, response in operation["responses"].items():
                if code.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
            declared = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert declared == set(path.replace("}", "{").split("{")[1::2]), f"{method} {path}"
