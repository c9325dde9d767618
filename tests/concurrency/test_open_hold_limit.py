"""A storefront token's open-hold limit under a race, on DynamoDB Local with 40 % of transactions cancelled
as conflicts (tests/transaction_conflicts.py): exactly the limit is held, every other hold is refused with
429 and writes nothing, and the count follows the holds as they end."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from stocklink.domain.requests import ReceiptIn, ReservationIn, SkuIn, WarehouseIn
from stocklink.domain.stock import ReservationAction
from stocklink.errors import StockLinkError
from stocklink.logic import catalog, inventory, storefront
from stocklink.store import repository
from stocklink.time import now_ms
from tests.transaction_conflicts import ConflictInjector

LIMIT = 20


def test_concurrent_holds_of_one_token_stop_exactly_at_its_limit(local_tables, monkeypatch):
    t = now_ms()
    catalog.put_sku("S-1", SkuIn(name="s"), t)
    catalog.put_warehouse("wh-a", WarehouseIn(name="A"), t)
    inventory.receive(ReceiptIn(warehouse_id="wh-a", reference="PO-1", lines=[{"sku": "S-1", "qty": 500}]),
                      actor="test", now_ms=t)
    ConflictInjector(0.4).install(monkeypatch)
    limits = storefront.HoldLimits(max_open_holds=LIMIT)

    def hold(i: int) -> str:
        try:
            storefront.hold(ReservationIn(reservation_id=f"h-{i}", channel="web", lines=[{"sku": "S-1", "qty": 1}]),
                            actor="front", now_ms=now_ms(), limits=limits)
            return "held"
        except StockLinkError as exc:
            return exc.code

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(hold, range(60)))
    assert answers.count("held") == LIMIT and answers.count("too_many_requests") == 60 - LIMIT
    assert repository.open_holds("front") == LIMIT
    (item,) = repository.stock_items("S-1")
    assert (int(item.reserved), int(item.available)) == (LIMIT, 500 - LIMIT)

    held = [f"h-{i}" for i, answer in enumerate(answers) if answer == "held"]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda rid: storefront.move(rid, ReservationAction.RELEASE, actor="front",
                                                  now_ms=now_ms()), held[:5]))
    assert repository.open_holds("front") == LIMIT - 5
