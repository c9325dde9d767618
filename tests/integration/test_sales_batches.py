"""The sales_aggregate function fed by its SQS queue (topology: sales-on-stock-changed, QueueDelivery),
through the real handler on moto: each (sku, warehouse) ledger stream named by a batch is counted once,
every commit / cancel entry exactly once, a redelivered batch counts nothing more, and a stream that
fails fails only the records that named it."""
from __future__ import annotations

import pytest

from tests.integration.apigw import LambdaContext
from tests.integration.test_alert_batches import failures
from tests.integration.test_alerting import sqs_batch
from tests.integration.test_forecasting_service import counter

SKU = "TEE-RED-M"


def invoke(event: dict) -> dict:
    from functions.sales_aggregate.handler import handler
    return handler(event, LambdaContext())


def sales_rule_events(bus) -> list[dict]:
    from infra.topology import EVENT_RULES
    (rule,) = [r for r in EVENT_RULES if r.function == "sales_aggregate"]
    return [e for e in bus.drain() if e["detail-type"] in rule.detail_types]


@pytest.fixture
def counted_streams(monkeypatch):
    """Every count_stream call: (sku, warehouse, its result)."""
    from stocklink.logic import sales_history

    calls = []
    real = sales_history.count_stream

    def spy(sku, warehouse_id, now_ms):
        result = real(sku, warehouse_id, now_ms)
        calls.append((sku, warehouse_id, result))
        return result

    monkeypatch.setattr(sales_history, "count_stream", spy)
    return calls


@pytest.fixture
def flash_sale(stocked, storefront, aws):
    """3 units in wh-a and 3 in wh-b: five paid 1-unit orders (wh-a, wh-a, wh-a, wh-b, wh-b), one of them
    (o3, wh-a) cancelled after paying, one unpaid hold (wh-b) released. Returns the rule's bus events."""
    aws.drain()
    for n in range(5):
        assert storefront.post("/reservations", {"reservation_id": f"o{n}", "channel": "web",
                                                 "lines": [{"sku": SKU, "qty": 1}]}).status == 201
        assert storefront.post(f"/reservations/o{n}/commit").status == 200
    assert storefront.post("/reservations", {"reservation_id": "hold", "channel": "web",
                                             "lines": [{"sku": SKU, "qty": 1}]}).status == 201
    assert storefront.post("/reservations/hold/release").status == 200
    assert storefront.post("/reservations/o2/release").status == 200
    return sales_rule_events(aws)


def day_counters():
    from stocklink.logic.sales_history import day_of
    from stocklink.store import repository
    days = {day_of(int(e.created_at)) for wh in ("wh-a", "wh-b") for e in repository.ledger_entries(SKU, wh)
            if e.movement == "commit"}
    (day,) = days
    return {pk: counter(pk, day) for pk in (f"SALES#{SKU}", f"SALESW#{SKU}#wh-a", f"SALESW#{SKU}#wh-b",
                                            f"SALESC#{SKU}#storefront")}


def test_a_batch_counts_each_stream_once_and_each_entry_exactly_once(flash_sale, counted_streams):
    kinds = sorted({e["detail-type"] for e in flash_sale})
    assert kinds == ["reservation.committed", "stock.changed"]
    assert len(flash_sale) > 10
    per_batch = []
    for start in range(0, len(flash_sale), 10):            # the queue hands over at most 10 at a time
        batch, _ = sqs_batch(flash_sale[start:start + 10])
        before = len(counted_streams)
        assert invoke(batch) == {"batchItemFailures": []}
        per_batch.append([(s, w) for s, w, _ in counted_streams[before:]])
    # one count per stream a batch names, never one per event
    assert all(len(streams) == len(set(streams)) <= 2 for streams in per_batch)
    assert len(counted_streams) < sum(1 for e in flash_sale if e["detail-type"] == "reservation.committed"
                                      or e["detail"].get("cause") in ("return", "release"))
    assert sum(r["counted"] for *_, r in counted_streams) == 5 + 1   # five commits, one paid cancellation
    assert day_counters() == {f"SALES#{SKU}": 4, f"SALESW#{SKU}#wh-a": 2, f"SALESW#{SKU}#wh-b": 2,
                              f"SALESC#{SKU}#storefront": 4}

    # SQS delivers at least once: the same batches again count nothing more
    counted_streams.clear()
    for start in range(0, len(flash_sale), 10):
        batch, _ = sqs_batch(flash_sale[start:start + 10])
        assert invoke(batch) == {"batchItemFailures": []}
    assert counted_streams and sum(r["counted"] for *_, r in counted_streams) == 0
    assert day_counters()[f"SALES#{SKU}"] == 4


def test_one_batch_of_a_burst_reads_each_stream_once(flash_sale, counted_streams):
    named = [e for e in flash_sale if e["detail-type"] == "reservation.committed"
             or e["detail"].get("cause") in ("return", "release")]
    assert len(named) == 7                              # 5 commits, 2 releases
    assert invoke(sqs_batch(named)[0]) == {"batchItemFailures": []}
    assert sorted((s, w) for s, w, _ in counted_streams) == [(SKU, "wh-a"), (SKU, "wh-b")]
    assert sum(r["counted"] for *_, r in counted_streams) == 6
    assert day_counters()[f"SALES#{SKU}"] == 4


def test_a_failing_stream_fails_only_the_records_naming_it_and_unreadable_records_are_reported(
        flash_sale, monkeypatch):
    from stocklink.logic import sales_history

    named = [e for e in flash_sale if e["detail-type"] == "reservation.committed"
             or e["detail"].get("cause") in ("return", "release")]
    ignored = [e for e in flash_sale if e not in named][:2]    # e.g. reserve: names no stream
    assert len(ignored) == 2
    events = named + ignored
    batch, ids = sqs_batch(events, bodies=["{not json", '"a string"'])
    names_b = {i for i, e in zip(ids, events)
               if any(a["warehouse_id"] == "wh-b" for a in e["detail"].get("allocations") or [])
               or (e["detail"].get("warehouse_id") == "wh-b" and e["detail"].get("cause") == "release")}
    assert len(names_b) == 3                               # o3's and o4's commits, the released hold

    real = sales_history.count_stream

    def broken(sku, warehouse_id, now_ms):
        if warehouse_id == "wh-b":
            raise RuntimeError("ProvisionedThroughputExceededException")
        return real(sku, warehouse_id, now_ms)

    monkeypatch.setattr(sales_history, "count_stream", broken)
    assert set(failures(invoke(batch))) == names_b | set(ids[-2:])
    counters = day_counters()
    assert counters[f"SALESW#{SKU}#wh-a"] == 2 and counters[f"SALESW#{SKU}#wh-b"] is None

    monkeypatch.setattr(sales_history, "count_stream", real)
    retry, _ = sqs_batch([e for i, e in zip(ids, events) if i in names_b])
    assert failures(invoke(retry)) == []
    assert day_counters() == {f"SALES#{SKU}": 4, f"SALESW#{SKU}#wh-a": 2, f"SALESW#{SKU}#wh-b": 2,
                              f"SALESC#{SKU}#storefront": 4}


def test_a_bare_event_is_still_counted_as_one(flash_sale):
    committed = [e for e in flash_sale if e["detail-type"] == "reservation.committed"]
    # o4's commit names wh-b: o3's and o4's commit entries (the released hold there was never paid)
    assert invoke(committed[-1]) == {"counted": 2, "already_counted": 0, "ignored": False}
