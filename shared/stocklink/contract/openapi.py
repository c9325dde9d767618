"""The OpenAPI 3.1 document of the API, built from the contract table (routes.py), the request models
(pydantic's own JSON-schema generation) and the response fragments (schemas.py).

The document is built in the Lambda that serves it, so it cannot read infra/topology.py (not deployed):
tests/unit/test_contract.py holds the table and the topology to the same routes and auth.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from stocklink.auth import ROUTE_ROLES
from stocklink.contract import schemas
from stocklink.contract.routes import Op, operations
from stocklink.domain.requests import Identifier
from stocklink.web import IDENTIFIER_PARAMS

REF = "#/components/schemas/{model}"
ERROR_REF = {"$ref": "#/components/schemas/Error"}
# Path parameters are names and ids. Documented: up to 100 printable ASCII characters, which stay within the
# 300 bytes the API takes (stocklink.web) even when every one is percent-encoded; found or not by the function.
PATH_PARAM = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "^[ -~]+$"}
# ...except SKUs, warehouses and suppliers, which are Identifiers as in every body (stocklink.web checks them)
ID_PARAMS = {name: TypeAdapter(Identifier).json_schema() for name in IDENTIFIER_PARAMS}
# Example values (Swagger UI's "try it out", and the first case the fuzz test sends): the README's walkthrough.
EXAMPLES = {"warehouse_id": "wh-a", "sku": "TEE-RED-M", "supplier_id": "acme", "platform": "shopify", "shop": "s1",
            "listing_id": "L-1", "reservation_id": "web-1", "abc_class": "A", "subscription_id": "ops-chat",
            "alert_id": "low_stock#TEE-RED-M#all"}
SUCCESS_TEXT = {200: "OK", 201: "Created", 202: "Accepted"}
ERROR_TEXT = {
    400: "Invalid path, query or body (`problems` lists the fields)", 401: "Missing or unknown token",
    403: "The token's roles may not use this route", 404: "No such resource",
    409: "Conflicts with the current state (stock, transition, idempotency)",
    413: "Body larger than 1 MiB",
    503: "Busy: other changes of the same record kept winning; nothing was written, send it again (Retry-After)",
    500: "The platform's order detail was unavailable: the platform redelivers",
}


def roles(group: str | None) -> list[str]:
    return sorted(ROUTE_ROLES[group]) if group else []


def path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def operation_id(op: Op) -> str:
    words = re.sub(r"[{}]", "", op.path).replace(".", "_").replace("-", "_").strip("/").split("/")
    return "_".join([op.method.lower(), *words])


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


# Named response shapes become components (one definition, referenced); ad hoc ones stay inline.
_PRIMITIVE = {"STR", "INT", "NUM", "BOOL", "OBJ", "CURSOR"}
_NAMED = {id(v): "".join(w.title() for w in k.split("_")) for k, v in vars(schemas).items()
          if k.isupper() and isinstance(v, dict) and k not in _PRIMITIVE}


def _response_schema(schema: dict, components: dict) -> dict:
    name = _NAMED.get(id(schema))
    if name is None:
        return schema
    components[name] = schema
    return {"$ref": REF.format(model=name)}


def _error_statuses(op: Op) -> list[int]:
    codes = set(op.errors)
    if op.body is not None or op.query or path_params(op.path):
        codes.add(400)
    if op.group:
        codes |= {401, 403}
    if path_params(op.path):
        codes.add(404)
    if op.body is not None:
        codes.add(413)
    return sorted(codes)


def _operation(op: Op, model_refs: dict[type[BaseModel], dict], components: dict) -> dict:
    parameters = [{"name": name, "in": "path", "required": True,
                   "schema": op.params.get(name, ID_PARAMS.get(name, PATH_PARAM)),
                   **({"example": EXAMPLES[name]} if name in EXAMPLES else {})} for name in path_params(op.path)]
    parameters += [{"name": q.name, "in": "query", "required": q.required, "schema": q.schema,
                    **({"description": q.description} if q.description else {}),
                    **({"allowEmptyValue": True} if q.empty_is_absent else {})} for q in op.query]
    allowed = roles(op.group)
    doc: dict[str, Any] = {
        "operationId": operation_id(op), "summary": op.summary, "tags": [op.path.strip("/").split("/")[0]],
        "description": f"Roles: {', '.join(allowed)}." if allowed else "No token.",
        "security": [{"bearer": []}] if op.group else [], "x-stocklink-roles": allowed,
        "parameters": parameters,
        "responses": {str(code): {"description": SUCCESS_TEXT[code],
                                  "content": {op.produces: {"schema": _response_schema(schema, components)}}}
                      for code, schema in op.ok.items()},
    }
    if op.produces != "application/json" and any(q.name == "cursor" for q in op.query):
        # a page of a non-JSON answer names the next page in a header
        doc["responses"]["200"]["headers"] = {"X-Next-Cursor": {
            "description": "`cursor` of the next page; absent on the last", "schema": {"type": "string"}}}
    for code in _error_statuses(op):
        doc["responses"][str(code)] = {"description": ERROR_TEXT[code], "content": _json(ERROR_REF)}
    if op.body is not None:
        schema = model_refs[op.body] if isinstance(op.body, type) else _response_schema(op.body, components)
        content = {op.body_type: {"schema": schema}}
        if op.example is not None:
            content[op.body_type]["example"] = op.example
        doc["requestBody"] = {"required": True, "content": content}
    return doc


@lru_cache(maxsize=1)
def document() -> dict:
    ops = operations()
    models = sorted({op.body for op in ops if isinstance(op.body, type)}, key=lambda m: m.__name__)
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    model_refs = {model: ref for (model, _mode), ref in refs.items()}
    paths: dict[str, dict] = {}
    components: dict[str, dict] = {"Error": schemas.ERROR}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, model_refs, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "StockLink API", "version": "1.0.0",
                 "description": "One stock pool for warehouses, storefronts and marketplaces. Token routes take "
                                "`Authorization: Bearer <token>`; each operation lists the roles it admits."},
        "servers": [{"url": ".", "description": "where this document is served (the API's stage)"}],
        "paths": paths,
        "components": {
            "schemas": {**dict(sorted(components.items())), **defs.get("$defs", {})},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                           "description": "An API token (admin, staff, viewer or storefront)"}},
        },
    }
