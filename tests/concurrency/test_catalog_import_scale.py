"""A 2,000-SKU x 3-warehouse sheet through the imports API on DynamoDB Local (moto's transactions cost seconds
each at this size): dry run, apply continued over several runs with rising progress, applied twice and the
same sheet imported again, with one set of ledger entries."""
from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from stocklink import events
from stocklink.store.models import LedgerEntry, StockItem
from tests.integration.apigw import ApiClient
from tests.integration.conftest import STAFF_TOKEN
from tests.integration.test_catalog_import import WAREHOUSES, ShortContext, sheet

pytestmark = pytest.mark.ddb_local


def _ledger_count() -> int:
    return sum(1 for _ in LedgerEntry.scan())


def test_2000_skus_by_3_warehouses_import_with_progress_and_twice_changes_nothing(local_tables):
    from functions.imports_api.handler import handler as imports_api
    from functions.imports_run.handler import handler as imports_run
    from functions.staff_api.handler import handler as staff_api
    from stocklink import auth, secrets

    published = local_tables
    with mock_aws():          # the tokens secret only: every table is DynamoDB Local's (local_tables)
        secrets.forget()
        auth.forget()
        boto3.client("secretsmanager").create_secret(Name="stocklink/api-tokens", SecretString=json.dumps(
            {"tokens": {STAFF_TOKEN: {"name": "alice", "roles": ["staff"]}}}))
        staff, api = ApiClient(staff_api, STAFF_TOKEN), ApiClient(imports_api, STAFF_TOKEN)
        for n, wid in enumerate(WAREHOUSES):
            assert staff.put(f"/warehouses/{wid}", {"name": f"Warehouse {n}", "priority": n}).status == 200

        def runs() -> list[dict]:
            """Deliver import.requested until none is left, reading the progress after each run."""
            seen = []
            while pending := [d for t, d in published if t == events.IMPORT_REQUESTED]:
                published.clear()
                for detail in pending:
                    imports_run({"detail": detail}, ShortContext(40))
                    seen.append(api.get(f"/imports/{detail['import_id']}").body["progress"])
            return seen

        dry = api.post("/imports/catalog", raw=sheet(2000).encode())
        assert dry.status == 201 and dry.body["status"] == "ready", dry.body
        job = dry.body
        assert job["summary"]["new_skus"] == 2000 and job["summary"]["opening_lines"] == 6000
        assert job["summary"]["opening_units"]["wh-b"] == sum((i + 1) % 7 + 1 for i in range(2000))
        assert _ledger_count() == 0 and not list(StockItem.scan())

        assert api.post(f"/imports/{job['import_id']}/apply", {"accept_adjustments": "all"}).status == 202
        progress = runs()
        done = [p["chunks_done"] for p in progress]
        assert len(done) == -(-job["progress"]["chunks"] // 40) and done == sorted(done)
        assert done[-1] == job["progress"]["chunks"] and progress[-1]["percent"] == 100.0
        assert api.get(f"/imports/{job['import_id']}").body["status"] == "applied"
        assert _ledger_count() == 6000
        assert {int(i.on_hand) for i in StockItem.query("S01234")} == {(1234 + n) % 7 + 1 for n in range(3)}

        assert api.post(f"/imports/{job['import_id']}/apply", {"accept_adjustments": "all"}).status == 200
        published.append((events.IMPORT_REQUESTED, {"import_id": job["import_id"]}))   # a redelivered run
        runs()
        again = api.post("/imports/catalog", raw=sheet(2000).encode()).body
        assert again["summary"]["unchanged_skus"] == 2000 and again["summary"]["opening_lines"] == 0
        assert again["summary"]["proposed_adjustments"] == 0
        api.post(f"/imports/{again['import_id']}/apply", {})
        runs()
        assert _ledger_count() == 6000
