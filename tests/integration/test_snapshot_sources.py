"""What the sales aggregation leaves for the daily snapshot: an order line per paid line, and a stock-out
mark when a stock.changed showed nothing available, even if the day ends restocked."""
from __future__ import annotations

from tests.integration.apigw import ApiClient
from tests.integration.conftest import STOREFRONT_TOKEN
from tests.integration.test_reports import rows_of_day


def test_a_sale_to_zero_leaves_an_order_line_and_a_stockout_mark_the_snapshot_reads(aws, staff):
    from functions.storefront_api.handler import handler as storefront_handler
    from stocklink.logic import sales_history, snapshots
    from stocklink.time import now_ms

    staff.put("/warehouses/wh-a", {"name": "A", "priority": 1})
    staff.put("/skus/T", {"name": "T", "price": 9, "unit_cost": 4})
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-1", "lines": [{"sku": "T", "qty": 2}]})
    shop = ApiClient(storefront_handler, STOREFRONT_TOKEN)
    assert shop.post("/reservations", {"reservation_id": "r1", "channel": "web",
                                       "lines": [{"sku": "T", "qty": 2}]}).status == 201
    assert shop.post("/reservations/r1/commit").status == 200
    staff.post("/stock/receipts", {"warehouse_id": "wh-a", "reference": "PO-2", "lines": [{"sku": "T", "qty": 5}]})
    now = now_ms()
    assert sales_history.on_events(aws.drain(), now)["failed"] == []
    state = snapshots.run("today", now, day=snapshots.day_of(now))
    rows = rows_of_day(snapshots.day_of(now))
    total = rows[(f"SNAP#{snapshots.day_of(now)}", "T")]
    # restocked to 5 before the day ended, but it had none available in between: a stock-out day
    assert (total["available"], total["sold"], total["lines"], total["stockout"]) == (5, 2, 1, True)
    assert rows[(f"SNAPW#{snapshots.day_of(now)}#wh-a", "T")]["stockout"] is True
    assert state["totals"]["order_lines"] == 1 and state["totals"]["cogs"] == 8
