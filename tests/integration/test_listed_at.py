"""A listing's creation time (listed_at): set by its first write only, read per SKU for its history start."""
from stocklink.store import catalog
from stocklink.store.models import CatalogItem
from stocklink.store import keys


def _doc(*skus):
    return {"listing_id": "L1", "components": [{"sku": s, "qty": 1} for s in skus]}


def test_listed_at_is_set_once_and_never_moved(aws):
    catalog.put_listing("taobao", "shop", "L1", _doc("A"), 1_000)
    catalog.put_listing("taobao", "shop", "L1", _doc("A", "B"), 5_000)
    assert CatalogItem.get(keys.listing_pk("taobao", "shop"), "L1").listed_at == 1_000
    assert catalog.listing("taobao", "shop", "L1")["components"] == _doc("A", "B")["components"]
    catalog.put_listing("jd", "shop", "L9", {**_doc("A"), "listing_id": "L9"}, 3_000)
    assert catalog.first_listed(["A", "B", "C"]) == {"A": 1_000, "B": 1_000}    # earliest listing; C: none


def test_a_listing_from_before_listed_at_stays_unknown(aws):
    CatalogItem(keys.listing_pk("taobao", "shop"), "L1", data=_doc("A"), updated_at=1).save()   # legacy item
    catalog.put_listing("taobao", "shop", "L1", _doc("A"), 9_000)
    assert CatalogItem.get(keys.listing_pk("taobao", "shop"), "L1").listed_at is None
    assert catalog.first_listed(["A"]) == {}


def test_a_discovered_listing_keeps_its_discovery_time_through_activation(aws):
    assert catalog.put_pending_listing("taobao", "shop", "L1", _doc("A"), 2_000)
    catalog.activate_listings("taobao", "shop", ["L1"], {"choice": "push"}, 7_000)
    assert CatalogItem.get(keys.listing_pk("taobao", "shop"), "L1").listed_at == 2_000
    assert catalog.first_listed(["A"]) == {"A": 2_000}
