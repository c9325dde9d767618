"""Reconciliation cost vs catalogue size: platform calls, DynamoDB requests and time per 30 s pass for
10k and 100k listings across five shops (Shopify, TikTok, Shopee, Lazada, WooCommerce), 1 % of listings
changing per minute, and sync accuracy after injecting 1 % random drift.

Run: PYTHONPATH=shared:. .venv/bin/python tests/bench/reconcile_cost.py [--sizes 10000,100000]

Transport: the marketplace simulators (infra/sandbox) called IN PROCESS — each HttpCall the adapters
build is handed to Sandbox.api as the HTTP server would (signatures verified, real payloads), without
loopback HTTP: 100k listings through HTTP on 2 shared cores would not fit the time box. DynamoDB is
DynamoDB Local (in memory): moto's query walks the whole table, so its cost grows with the catalogue and
would hide what the pass itself does. Secrets Manager / EventBridge are moto in process. Rate-limit pacing runs on a virtual clock: "wait" is the time the pass would spend waiting for
call slots in each shop's windows at its documented rate, shared by reads and pushes (reads capped per pass
at READ_SHARE of the rate), "compute" is measured wall time.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import time

os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
                   "AWS_REGION": "us-east-1", "POWERTOOLS_LOG_LEVEL": "ERROR", "LOG_LEVEL": "ERROR",
                   "EVENT_BUS_NAME": "stocklink", "POWERTOOLS_METRICS_NAMESPACE": "StockLink",
                   # the simulators stand in for the platforms as in the local runtime (loopback URLs)
                   "STOCKLINK_ALLOW_LOOPBACK_HTTP": "1"})
sys.path[:0] = ["shared", "."]

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from moto import mock_aws  # noqa: E402

SHOP = "bench"
CREDS = {
    "shopify": {"access_token": "shpat_sandbox", "location_id": "40642626"},
    "tiktok": {"app_key": "6a1b2c3d4e5f6", "app_secret": "tiktok-secret", "access_token": "TTP_sandbox",
               "shop_cipher": "ROW_sandbox", "shop_id": "7494049642642441621"},
    "shopee": {"partner_id": "2001887", "partner_key": "shopee-partner-key", "shop_id": "14701711",
               "access_token": "shopee-token"},
    "lazada": {"app_key": "100001", "app_secret": "lazada-secret", "access_token": "lazada-token",
               "seller_id": "1000114855"},
    "woocommerce": {"consumer_key": "ck_sandbox", "consumer_secret": "cs_sandbox"},
}
DDB_CALLS: collections.Counter = collections.Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation_name, api_params):
    if self.meta.service_model.service_name == "dynamodb":
        DDB_CALLS[operation_name] += 1
    return _original(self, operation_name, api_params)


botocore.client.BaseClient._make_api_call = _counting


def listing_of(platform: str, i: int) -> tuple[str, dict]:
    """Listing id and platform ids for SKU number i on a platform (batched read-backs where the API has them)."""
    if platform == "shopify":
        return str(10_000_000 + i), {"inventory_item_id": str(20_000_000 + i)}
    if platform == "tiktok":
        return str(30_000_000 + i), {"product_id": str(40_000_000 + i // 50)}
    if platform == "shopee":                 # plain items: get_item_base_info reads 50 per call
        lid = str(50_000_000 + i)
        return lid, {"item_id": lid}
    if platform == "lazada":                 # 20 SKUs per item: GetProductItem reads one item per call
        return str(60_000_000 + i), {"item_id": str(70_000_000 + i // 20)}
    return str(80_000_000 + i), {}


def point_models_at(endpoint: str) -> None:
    from stocklink.store import reconcile_models, sync_models
    from stocklink.store.models import ALL_MODELS

    for model in (*ALL_MODELS, *reconcile_models.MODELS, sync_models.ListingSync, sync_models.SyncFailure,
                  sync_models.ShopSyncStats, sync_models.SkuVelocity):
        model.Meta.host = endpoint
        model._connection = None


class World:
    def __init__(self, n_listings: int, endpoint: str, seed: int = 7):
        from infra.local.provision import create_tables
        from infra.sandbox.server import Sandbox
        from infra.sandbox.state import Listing, Shop
        from stocklink.domain.requests import ShopIn
        from stocklink.logic import catalog
        from stocklink.store.models import CatalogItem, LedgerEntry, StockItem

        self.rng = random.Random(seed)
        client = boto3.client("dynamodb", endpoint_url=endpoint)
        for name in client.list_tables()["TableNames"]:
            client.delete_table(TableName=name)
        create_tables(client)
        point_models_at(endpoint)
        boto3.client("events").create_event_bus(Name="stocklink")
        self.sandbox = Sandbox()
        self.n_skus = n_listings // len(CREDS)
        self.skus = [f"S{i:06d}" for i in range(self.n_skus)]
        self.available = {sku: self.rng.randint(0, 40) for sku in self.skus}
        now = int(time.time() * 1000)
        for platform, creds in CREDS.items():
            base = f"http://127.0.0.1/{platform}/{SHOP}" + ("/rest" if platform == "lazada" else "")
            catalog.put_shop(platform, SHOP, ShopIn(api_base_url=base, **creds), now)
            self.sandbox.state.shops[(platform, SHOP)] = Shop(platform, SHOP, {**creds, "api_base_url": base})
        with CatalogItem.batch_write() as catalog_batch, StockItem.batch_write() as stock_batch, \
                LedgerEntry.batch_write() as ledger_batch:
            for i, sku in enumerate(self.skus):
                q = self.available[sku]
                catalog_batch.save(CatalogItem("SKU", sku, data={"sku": sku, "name": sku}, updated_at=now))
                stock_batch.save(StockItem(sku, "wh-a", on_hand=q, reserved=0, available=q, version=1, updated_at=now))
                ledger_batch.save(LedgerEntry(f"{sku}#wh-a", f"{now:013d}#0000", sku=sku, warehouse_id="wh-a",
                                              movement="receive", qty=q, on_hand_delta=q, available_delta=q,
                                              actor="bench", source="bench", created_at=now))
                for platform in CREDS:
                    lid, ids = listing_of(platform, i)
                    catalog_batch.save(CatalogItem(f"LISTING#{platform}#{SHOP}", lid, updated_at=now, data={
                        "platform": platform, "shop": SHOP, "listing_id": lid,
                        "components": [{"sku": sku, "qty": 1}], "platform_ids": ids}))
                    catalog_batch.save(CatalogItem(f"SKU_LISTINGS#{sku}", f"{platform}#{SHOP}#{lid}", updated_at=now,
                                                   data={"platform": platform, "shop": SHOP, "listing_id": lid}))
                    self.sandbox.state.shop_listings(platform, SHOP)[lid] = Listing(q, dict(ids), sku)

    def transport(self, call):
        from urllib.parse import parse_qsl, urlsplit

        from infra.sandbox.platforms._common import Req

        url = urlsplit(call.url)
        parts = url.path.split("/", 3)
        req = Req(call.method, "/" + (parts[3] if len(parts) > 3 else ""), dict(parse_qsl(url.query, keep_blank_values=True)),
                  {k.lower(): v for k, v in call.headers.items()}, call.body, f"http://bench{url.path}")
        reply = self.sandbox.api(parts[1], parts[2], req)
        return reply.status, reply.headers, reply.body

    def change(self, fraction: float, now: int) -> int:
        """Stock of `fraction` of SKUs changes (ledger entry + counters), channel push shows the new value
        on every platform and marks the SKU dirty, as batch.handle_event does."""
        from stocklink.store import reconcile_models
        from stocklink.store.models import LedgerEntry, StockItem

        picked = self.rng.sample(self.skus, max(1, int(self.n_skus * fraction)))
        for sku in picked:
            delta = self.rng.choice([-2, -1, 1, 3]) if self.available[sku] > 2 else 5
            self.available[sku] += delta
            StockItem(sku, "wh-a").update(actions=[StockItem.on_hand.add(delta), StockItem.available.add(delta),
                                                   StockItem.version.add(1)])
            LedgerEntry(f"{sku}#wh-a", f"{now:013d}#{self.rng.random():.12f}", sku=sku, warehouse_id="wh-a",
                        movement="adjust", qty=abs(delta), on_hand_delta=delta, available_delta=delta,
                        actor="bench", source="bench", created_at=now).save()
            for platform in CREDS:
                lid, _ = listing_of(platform, int(sku[1:]))
                self.sandbox.state.shop_listings(platform, SHOP)[lid].quantity = self.available[sku]
            reconcile_models.mark_dirty(sku, now, {"cause": "adjust", "total_available": self.available[sku]})
        return len(picked)

    def drift(self, fraction: float) -> int:
        listings = [(p, lid) for p in CREDS for lid in self.sandbox.state.shop_listings(p, SHOP)]
        picked = self.rng.sample(listings, int(len(listings) * fraction))
        for p, lid in picked:
            self.sandbox.state.shop_listings(p, SHOP)[lid].quantity += self.rng.randint(1, 5)
        return len(picked)

    def true_accuracy(self) -> float:
        total = ok = 0
        for p in CREDS:
            for listing in self.sandbox.state.shop_listings(p, SHOP).values():
                total += 1
                ok += listing.quantity == self.available[listing.seller_sku]
        return 100.0 * ok / total


class VirtualWait:
    def __init__(self):
        self.waited = 0.0

    def sleep(self, seconds: float) -> None:
        self.waited += max(0.0, seconds)

    def clock(self) -> float:
        return time.monotonic() + self.waited


def one_pass(world: World, vw: VirtualWait, now: int, verify_every_s: int) -> dict:
    from stocklink.logic.sync.sweep import run_pass

    DDB_CALLS.clear()
    waited0, t = vw.waited, time.perf_counter()
    report = run_pass(now, budget_ms=600_000, verify_every_s=verify_every_s, transport=world.transport)
    compute = time.perf_counter() - t
    return {"report": report, "compute_s": compute, "wait_s": vw.waited - waited0, "ddb": sum(DDB_CALLS.values())}


def line(label: str, r: dict) -> str:
    rep = r["report"]
    return (f"  {label:<26} checked {rep['listings_checked']:>6}  dirty SKUs {rep['dirty_skus_verified']:>4}  "
            f"slice SKUs {rep['slice']['verified']:>5}  read calls {rep['read_calls']:>4}  push calls "
            f"{rep['push_calls']:>4}  DynamoDB req {r['ddb']:>6}  compute {r['compute_s']:6.2f} s  "
            f"rate wait {r['wait_s']:6.2f} s  drift {rep['drift_found']}/{rep['drift_fixed']}")


def run_size(n_listings: int, accuracy_passes: int, endpoint: str) -> dict:
    from stocklink.logic.sync import batch, rate_limit, seams
    from stocklink.store import reconcile_models

    vw = VirtualWait()
    # virtual time everywhere pacing looks: the per-pass buckets and the shops' shared call windows
    seams.sleep, seams.clock = vw.sleep, vw.clock
    seams.wall = lambda: time.time() + vw.waited
    with mock_aws():
        t = time.perf_counter()
        world = World(n_listings, endpoint)
        seams.send = world.transport          # correction pushes go to the same in-process simulators
        rate_limit._limiters.clear()
        print(f"\n{n_listings:,} listings ({world.n_skus:,} SKUs x 5 shops): seeded in {time.perf_counter() - t:.1f} s",
              flush=True)
        now = int(time.time() * 1000) + 10_000
        reconcile_models.save_state({"sku_count": world.n_skus, "cycle_started_at": now, "cycle_done": 0}, now)
        out = {"steady": [], "dirty_only": []}
        per_pass = 0.005                              # 1 % of listings per minute = 0.5 % per 30 s pass
        for k in range(3 if n_listings <= 10_000 else 2):
            world.change(per_pass, now)
            r = one_pass(world, vw, now, 600)
            out["steady"].append(r)
            print(line(f"pass {k + 1} (verify_every 10m)", r), flush=True)
            now += 30_000
        for k in range(2):
            world.change(per_pass, now)
            r = one_pass(world, vw, now, 10 ** 9)      # slice ~1 SKU: the changed-listing work alone
            out["dirty_only"].append(r)
            print(line(f"pass {k + 1} (changed only)", r), flush=True)
            now += 30_000
        reconcile_models.save_state({"sku_count": world.n_skus, "cycle_started_at": now, "cycle_done": 0}, now)
        injected = world.drift(0.01)
        before = world.true_accuracy()
        print(f"  injected drift into {injected:,} listings (1 %): true accuracy {before:.2f} %", flush=True)
        acc = []
        for k in range(accuracy_passes):
            world.change(per_pass, now)
            r = one_pass(world, vw, now, 600)
            acc.append((k + 1, r["report"]["sync_accuracy_pct"], world.true_accuracy(), r["report"]["drift_fixed"]))
            now += 30_000
        for k, reported, true, fixed in acc:
            print(f"  after pass {k:>2}: pass-reported accuracy {reported} %  true accuracy {true:.2f} %  "
                  f"drift fixed this pass {fixed}", flush=True)
        out["accuracy"] = acc
        seams.send = _send_original
        return out


_send_original = None


def main():
    global _send_original
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    from stocklink.logic.sync import batch, rate_limit, seams

    _send_original = seams.send
    results = {}
    t0 = time.perf_counter()
    from infra.local.dynamodb_local import DynamoDBLocal

    with DynamoDBLocal() as ddb:
        for n in [int(s) for s in args.sizes.split(",")]:
            results[n] = run_size(n, accuracy_passes=20 if n <= 10_000 else 2, endpoint=ddb.endpoint_url)
    sizes = sorted(results)
    if len(sizes) >= 2:
        a, b = sizes[0], sizes[-1]
        print(f"\ngrowth {a:,} -> {b:,} listings (x{b // a}), mean per pass:")
        for mode in ("dirty_only", "steady"):
            for key, get in (("read calls", lambda r: r["report"]["read_calls"]), ("DynamoDB req", lambda r: r["ddb"]),
                             ("compute s", lambda r: r["compute_s"]), ("rate wait s", lambda r: r["wait_s"])):
                ma = sum(get(r) for r in results[a][mode]) / len(results[a][mode])
                mb = sum(get(r) for r in results[b][mode]) / len(results[b][mode])
                print(f"  {mode:<10} {key:<13} {ma:10.2f} -> {mb:10.2f}  (x{mb / ma if ma else float('nan'):.2f})")
    print(f"\nbenchmark wall time {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
