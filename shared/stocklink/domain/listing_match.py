"""Which master SKU each discovered platform listing sells (pure: no I/O, no clock).

Rules, in order, for each listing (a platform variant / SKU / model with its seller SKU code and barcode):
1. An explicit mapping, by the listing id or else by its seller SKU code: the components it names (a bundle
   or a multipack, e.g. {"GIFT-BOX": [{"sku": "TEA-1", "qty": 2}, {"sku": "MUG-1", "qty": 1}]}).
2. The seller SKU code is a master SKU (exactly, else ignoring case and surrounding spaces).
3. The barcode is a master SKU's barcode.
4. The bundle naming rule: a seller SKU code made of master SKUs joined by "+", each optionally followed by
   "*N" for N units ("TEA-1*2+MUG-1" = two TEA-1 and one MUG-1; "TEA-1*6" alone is a six-pack).
Conflicts are never guessed: a listing whose code and barcode name two different SKUs (or whose code
matches two SKUs once case is ignored, or whose barcode two SKUs carry) is one listing matching two SKUs;
two listings of one shop that each claim exactly one unit of the same SKU are two listings claiming one
SKU. Neither is mapped until the seller decides (an explicit mapping, or fixing the codes). Everything else
is unmapped, with up to three suggestions: SKU codes or names close to its code and title.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping

BUNDLE_SEPARATOR = "+"
UNITS_MARK = "*"
MAX_SUGGESTIONS = 3
_CANDIDATES = 400            # SKUs compared per unmapped listing (those sharing a prefix or a word with it)
_WORD = re.compile(r"[0-9A-Za-z\u4e00-\u9fff]{2,}")


def _norm(code: str) -> str:
    return (code or "").strip().casefold()


@dataclass
class MatchReport:
    mapped: list[dict] = field(default_factory=list)       # listing + components + rule
    unmapped: list[dict] = field(default_factory=list)     # listing + suggestions
    conflicts: list[dict] = field(default_factory=list)    # kind, skus, listings
    already_mapped: list[str] = field(default_factory=list)
    listings: int = 0

    def summary(self) -> dict:
        return {"listings": self.listings, "mapped": len(self.mapped), "unmapped": len(self.unmapped), "conflicts": len(self.conflicts),
                "already_mapped": len(self.already_mapped)}

    def as_dict(self) -> dict:
        return {"summary": self.summary(), "mapped": self.mapped, "unmapped": self.unmapped,
                "conflicts": self.conflicts, "already_mapped": self.already_mapped}


ONE_LISTING_TWO_SKUS = "one_listing_two_skus"
TWO_LISTINGS_ONE_SKU = "two_listings_one_sku"


class Catalogue:
    """The master SKUs as matching reads them: by code, by folded code, by barcode, and for suggestions."""

    def __init__(self, skus: Mapping[str, Mapping]):
        self.skus = dict(skus)
        self.folded: dict[str, set[str]] = {}
        self.by_barcode: dict[str, set[str]] = {}
        self.by_word: dict[str, set[str]] = {}
        for sku, doc in self.skus.items():
            self.folded.setdefault(_norm(sku), set()).add(sku)
            barcode = str(doc.get("barcode") or "").strip()
            if barcode:
                self.by_barcode.setdefault(barcode, set()).add(sku)
            for word in {*_WORD.findall(sku), *_WORD.findall(str(doc.get("name") or ""))}:
                self.by_word.setdefault(word.casefold(), set()).add(sku)

    def by_code(self, code: str) -> set[str]:
        code = (code or "").strip()
        if not code:
            return set()
        if code in self.skus:
            return {code}
        return set(self.folded.get(_norm(code), ()))

    def bundle(self, code: str) -> list[dict] | None:
        """The components a "+"-joined code names, when every part is a master SKU (else None)."""
        if BUNDLE_SEPARATOR not in (code or "") and UNITS_MARK not in (code or ""):
            return None
        components: dict[str, int] = {}
        for part in code.split(BUNDLE_SEPARATOR):
            name, _, units = part.strip().partition(UNITS_MARK)
            qty = int(units) if units.strip().isdigit() and int(units) > 0 else (1 if not units else 0)
            found = self.by_code(name)
            if qty == 0 or len(found) != 1:
                return None
            sku = found.pop()
            components[sku] = components.get(sku, 0) + qty
        return [{"sku": sku, "qty": qty} for sku, qty in components.items()]

    def suggestions(self, code: str, title: str) -> list[str]:
        """Up to MAX_SUGGESTIONS SKU codes close to the listing's code, then to its title (by name)."""
        words = {w.casefold() for w in _WORD.findall(f"{code} {title}")}
        pool: set[str] = set()
        for word in sorted(words, key=len, reverse=True):
            holders = self.by_word.get(word, set())
            if len(holders) <= _CANDIDATES:       # a word most SKUs share ("tea", "item") tells nothing apart
                pool |= holders
            if len(pool) >= _CANDIDATES:
                break
        prefix = _norm(code)[:3]
        if prefix and len(pool) < _CANDIDATES:
            pool |= {s for s in self.skus if _norm(s).startswith(prefix)}
        pool = set(sorted(pool)[:_CANDIDATES])
        out: list[str] = []
        if code:
            folded = {_norm(s): s for s in pool}
            out += [folded[c] for c in difflib.get_close_matches(_norm(code), list(folded), MAX_SUGGESTIONS, 0.5)]
        if title and len(out) < MAX_SUGGESTIONS:
            names = {str(self.skus[s].get("name") or "").casefold(): s for s in pool if self.skus[s].get("name")}
            out += [names[n] for n in difflib.get_close_matches(title.casefold(), list(names), MAX_SUGGESTIONS, 0.4)
                    if names[n] not in out]
        return out[:MAX_SUGGESTIONS]


def _public(listing: Mapping) -> dict:
    return {k: listing.get(k) for k in ("listing_id", "seller_sku", "barcode", "title", "platform_ids", "quantity")}


def match_listings(listings: Iterable[Mapping], skus: Mapping[str, Mapping],
                   explicit: Mapping[str, list[dict]] | None = None,
                   existing: Iterable[str] = ()) -> MatchReport:
    """The report for one shop's discovered `listings` against the catalogue `skus` (sku -> document with
    name and barcode). `explicit`: the mapping file (listing id or seller SKU -> components). `existing`:
    listing ids StockLink already maps (left as they are: a manual mapping is never overwritten)."""
    catalogue = Catalogue(skus)
    explicit = explicit or {}
    existing = set(existing)
    report = MatchReport()
    claims: list[dict] = []
    for listing in listings:
        report.listings += 1
        entry = _public(listing)
        lid, code, barcode = entry["listing_id"], str(entry["seller_sku"] or ""), str(entry["barcode"] or "").strip()
        if lid in existing:
            report.already_mapped.append(lid)
            continue
        named = explicit.get(lid) or (explicit.get(code) if code else None)
        if named:
            unknown = [c["sku"] for c in named if c["sku"] not in catalogue.skus]
            if unknown:
                report.unmapped.append({**entry, "reason": f"the mapping names unknown SKU {unknown[0]}",
                                        "suggestions": catalogue.suggestions(unknown[0], "")})
            else:
                claims.append({**entry, "components": [{"sku": c["sku"], "qty": int(c.get("qty", 1))} for c in named],
                               "rule": "mapping"})
            continue
        by_code = catalogue.by_code(code)
        by_barcode = set(catalogue.by_barcode.get(barcode, ())) if barcode else set()
        if len(by_code) > 1 or (not by_code and len(by_barcode) > 1) or (
                len(by_code) == 1 and by_barcode and by_barcode != by_code):
            report.conflicts.append({"kind": ONE_LISTING_TWO_SKUS, "skus": sorted(by_code | by_barcode),
                                     "listings": [entry]})
            continue
        if by_code or by_barcode:
            rule = ("sku_code" if code.strip() in catalogue.skus else "sku_code_folded") if by_code else "barcode"
            (sku,) = by_code or by_barcode
            claims.append({**entry, "components": [{"sku": sku, "qty": 1}], "rule": rule})
            continue
        bundle = catalogue.bundle(code)
        if bundle:
            claims.append({**entry, "components": bundle, "rule": "bundle_name"})
            continue
        report.unmapped.append({**entry, "suggestions": catalogue.suggestions(code, str(entry["title"] or ""))})
    # two listings of the shop each selling exactly one unit of one SKU: which one is the SKU's is the
    # seller's call (a multipack or a bundle holding the SKU is another listing of it, not a rival)
    single = {}
    for claim in claims:
        if len(claim["components"]) == 1 and claim["components"][0]["qty"] == 1:
            single.setdefault(claim["components"][0]["sku"], []).append(claim)
    rivals = {sku: group for sku, group in single.items() if len(group) > 1}
    rival_ids = {c["listing_id"] for group in rivals.values() for c in group}
    for sku, group in sorted(rivals.items()):
        report.conflicts.append({"kind": TWO_LISTINGS_ONE_SKU, "skus": [sku],
                                 "listings": [{k: v for k, v in c.items() if k not in ("components", "rule")}
                                              for c in group]})
    report.mapped = [c for c in claims if c["listing_id"] not in rival_ids]
    return report
