"""Every key StockLink's tables use: partition prefixes and how keys are composed.

Only store/ imports this module; code above it names things (a shop, a listing, a SKU) and never a key.
Tables (infra/topology.py): stock items and ledger have natural keys (sku, warehouse / stream, entry);
reservations and inbound events are keyed by their ids; the catalog, sync, reconciliation, alert and
forecast tables are single-table designs whose partitions are named here.
"""
from __future__ import annotations

import zlib

# --- catalog table ----------------------------------------------------------------------------------
WAREHOUSE = "WAREHOUSE"               # sk: warehouse id
SKU = "SKU"                           # sk: master SKU
SHOP = "SHOP"                         # sk: platform#shop
ALLOCATION = "ALLOCATION"             # sk: platform#shop (the shop's allocation settings)
SKU_LISTINGS = "SKU_LISTINGS#"        # + sku; sk: platform#shop#listing (reverse index for channel sync)


def channel(platform: str, shop: str) -> str:
    return f"{platform}#{shop}"


def listing_pk(platform: str, shop: str) -> str:
    """Partition of a shop's listings (sk: listing id)."""
    return f"LISTING#{platform}#{shop}"


def sku_listings_pk(sku: str) -> str:
    return SKU_LISTINGS + sku


def listing_ref(platform: str, shop: str, listing_id: str) -> str:
    return f"{platform}#{shop}#{listing_id}"


# --- ledger ----------------------------------------------------------------------------------------------
def ledger_stream(sku: str, warehouse_id: str) -> str:
    return f"{sku}#{warehouse_id}"


# --- reservations table (key: reservation id) ------------------------------------------------------------
# The sparse index by_expiry (hold_shard, expires_at) lists held reservations only, spread over a few
# shards so the expiry sweep never queries one hot partition.
HOLD_SHARDS = 4


def hold_shard(reservation_id: str) -> str:
    return f"H{zlib.crc32(reservation_id.encode()) % HOLD_SHARDS}"


def hold_shards() -> list[str]:
    return [f"H{n}" for n in range(HOLD_SHARDS)]
