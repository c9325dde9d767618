"""Matching discovered listings to master SKUs: code, folded code, barcode, the bundle naming rule, an
explicit mapping, conflicts both ways, listings already mapped, and suggestions for the unmapped."""
from stocklink.domain.listing_match import ONE_LISTING_TWO_SKUS, TWO_LISTINGS_ONE_SKU, match_listings

SKUS = {
    "TEA-1": {"name": "Jasmine tea 100g", "barcode": "6901234567890"},
    "TEA-2": {"name": "Oolong tea 100g", "barcode": "6901234567891"},
    "MUG-1": {"name": "White mug", "barcode": ""},
    "Cup-9": {"name": "Paper cup", "barcode": "111"},
    "CUP-9": {"name": "Paper cup (box)", "barcode": "222"},
    "SPOON": {"name": "Spoon", "barcode": "333"},
    "FORK": {"name": "Fork", "barcode": "333"},
}


def listing(lid, sku="", barcode="", title=""):
    return {"listing_id": lid, "seller_sku": sku, "barcode": barcode, "title": title,
            "platform_ids": {"item_id": "1"}, "quantity": 4}


def mapped(report):
    return {m["listing_id"]: (m["rule"], m["components"]) for m in report.mapped}


def test_code_then_folded_code_then_barcode():
    report = match_listings([listing("a", "TEA-1"), listing("b", " mug-1 "), listing("c", "", "6901234567891")], SKUS)
    assert mapped(report) == {"a": ("sku_code", [{"sku": "TEA-1", "qty": 1}]),
                              "b": ("sku_code_folded", [{"sku": "MUG-1", "qty": 1}]),
                              "c": ("barcode", [{"sku": "TEA-2", "qty": 1}])}
    assert report.mapped[0]["platform_ids"] == {"item_id": "1"}     # what pushes need travels with it
    assert report.summary() == {"listings": 3, "mapped": 3, "unmapped": 0, "conflicts": 0, "already_mapped": 0}


def test_bundle_naming_rule_and_explicit_mapping():
    explicit = {"GIFT": [{"sku": "TEA-1", "qty": 2}, {"sku": "MUG-1", "qty": 1}], "L9": [{"sku": "TEA-2", "qty": 6}]}
    report = match_listings([listing("x", "TEA-1*2+MUG-1"), listing("y", "GIFT"), listing("L9", "whatever"),
                             listing("z", "TEA-1+NOPE")], SKUS, explicit)
    assert mapped(report) == {"x": ("bundle_name", [{"sku": "TEA-1", "qty": 2}, {"sku": "MUG-1", "qty": 1}]),
                              "y": ("mapping", [{"sku": "TEA-1", "qty": 2}, {"sku": "MUG-1", "qty": 1}]),
                              "L9": ("mapping", [{"sku": "TEA-2", "qty": 6}])}
    assert [u["listing_id"] for u in report.unmapped] == ["z"]      # one part is no SKU: no guess


def test_an_explicit_mapping_naming_an_unknown_sku_maps_nothing():
    report = match_listings([listing("a", "X")], SKUS, {"a": [{"sku": "TEA-9", "qty": 1}]})
    assert not report.mapped
    assert "TEA-9" in report.unmapped[0]["reason"] and report.unmapped[0]["suggestions"]


def test_one_listing_matching_two_skus_is_a_conflict():
    report = match_listings([listing("a", "TEA-1", "6901234567891"),   # code says TEA-1, barcode TEA-2
                             listing("b", "cup-9"),                    # two SKUs once case is ignored
                             listing("c", "", "333")], SKUS)           # a barcode two SKUs carry
    assert not report.mapped
    assert [(c["kind"], c["skus"]) for c in report.conflicts] == [
        (ONE_LISTING_TWO_SKUS, ["TEA-1", "TEA-2"]), (ONE_LISTING_TWO_SKUS, ["CUP-9", "Cup-9"]),
        (ONE_LISTING_TWO_SKUS, ["FORK", "SPOON"])]


def test_two_listings_claiming_one_sku_are_a_conflict_but_a_multipack_is_not():
    report = match_listings([listing("a", "TEA-1"), listing("b", "", "6901234567890"), listing("c", "TEA-1*3"),
                             listing("d", "TEA-2")], SKUS)
    assert set(mapped(report)) == {"c", "d"}
    (conflict,) = report.conflicts
    assert conflict["kind"] == TWO_LISTINGS_ONE_SKU and conflict["skus"] == ["TEA-1"]
    assert sorted(l["listing_id"] for l in conflict["listings"]) == ["a", "b"]


def test_already_mapped_listings_are_left_alone():
    report = match_listings([listing("a", "TEA-1"), listing("b", "TEA-2")], SKUS, existing={"a"})
    assert report.already_mapped == ["a"] and list(mapped(report)) == ["b"]


def test_unmapped_listings_get_close_codes_and_names():
    report = match_listings([listing("a", "TEA1", title="tea"), listing("b", "", title="Jasmine tea 100 g"),
                             listing("c", "ZZZ", title="nothing alike")], SKUS)
    suggestions = {u["listing_id"]: u["suggestions"] for u in report.unmapped}
    assert suggestions["a"][0] == "TEA-1"
    assert suggestions["b"][0] == "TEA-1"
    assert suggestions["c"] == []
