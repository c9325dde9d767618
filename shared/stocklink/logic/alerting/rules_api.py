"""Alert rules: threshold overrides per scope (global -> ABC class -> SKU) and, per SKU, its ABC class and
safety stock. PUT/GET /alert-rules, and what one SKU resolves to when it is graded."""
from __future__ import annotations

import re
from typing import Any, Mapping

from stocklink.alerts.levels import ThresholdConfig, Thresholds
from stocklink.errors import ValidationFailed
from stocklink.logic.paging import PageRequest
from stocklink.store import alert_models as store

SKU_META = ("abc_class", "safety_stock")


def sku_settings(sku: str) -> tuple[Thresholds, str | None, int | None]:
    """(thresholds, abc class, safety stock) for one SKU: global -> ABC class -> SKU."""
    docs = store.rule_docs([("global", None), ("sku", sku)])
    sku_doc = dict(docs.get(("sku", sku)) or {})
    abc = sku_doc.pop("abc_class", None)
    safety = sku_doc.pop("safety_stock", None)
    abc_doc = store.rule_doc("abc", abc.upper()) if abc else None
    config = ThresholdConfig.from_dict({"global": docs.get(("global", None)) or {},
                                        "abc": {abc.upper(): abc_doc} if abc and abc_doc else {},
                                        "sku": {sku: sku_doc}})
    return config.resolve(sku, abc), abc, safety


def put_rule(scope: str, name: str | None, body: Mapping[str, Any], now_ms: int) -> dict:
    """PUT /alert-rules/global | abc/{class} | sku/{sku}: sparse threshold overrides (and, per SKU,
    abc_class and safety_stock). Validated by building the thresholds they produce."""
    body = dict(body)
    if scope == "abc":
        name = name.upper()
        if not re.fullmatch(r"[A-Z]", name):
            raise ValidationFailed("ABC class must be one letter, e.g. A")
    meta = _sku_meta(scope, body)
    try:
        Thresholds().merged(body)
    except (TypeError, ValueError) as exc:
        raise ValidationFailed(str(exc)) from exc
    doc = {**body, **meta}
    store.save_rule(scope, name, doc, now_ms)
    return {"scope": scope, "name": name, "rules": doc}


def _sku_meta(scope: str, body: dict[str, Any]) -> dict[str, Any]:
    """Take abc_class and safety_stock out of `body` (SKU rules only), validated."""
    meta = {k: body.pop(k) for k in SKU_META if k in body}
    if meta and scope != "sku":
        raise ValidationFailed(f"{sorted(meta)} can only be set per SKU")
    if "abc_class" in meta and meta["abc_class"] is not None:
        meta["abc_class"] = str(meta["abc_class"]).upper()
        if not re.fullmatch(r"[A-Z]", meta["abc_class"]):
            raise ValidationFailed("abc_class must be one letter, e.g. A")
    if meta.get("safety_stock") is not None and (not isinstance(meta["safety_stock"], int)
                                                 or meta["safety_stock"] < 0):
        raise ValidationFailed("safety_stock must be a whole number >= 0")
    return meta


def list_rules(page: PageRequest = PageRequest()) -> dict:
    """The stored rule documents of one page (in the order they were last written), the defaults, and
    `next` to continue."""
    out: dict[str, Any] = {"global": {}, "abc": {}, "sku": {}}
    found = store.rules_page(page.limit, page.cursor)
    for scope, name, doc in found.items:
        if scope == "global":
            out["global"] = doc
        else:
            out[scope][name] = doc
    out["defaults"] = Thresholds().__dict__
    out["next"] = found.next
    return out
