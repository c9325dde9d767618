"""Shared set-up of the purchasing tests: a supplier the purchase orders can name."""
from __future__ import annotations


def make_supplier(supplier_id: str = "acme", *, lead_time_days: float = 10.0, currency: str = "CNY") -> dict:
    from stocklink.logic import suppliers
    from stocklink.time import now_ms
    body = suppliers.SupplierRecordIn.model_validate({"name": supplier_id.title(), "currency": currency,
                                                      "lead_time_days": lead_time_days})
    return suppliers.put_supplier(supplier_id, body, now_ms())
