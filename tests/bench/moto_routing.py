"""CPU of moto's EventBridge -> SQS routing per stock.changed event, in this process, with and without
infra/local/moto_patches.py.

    python -m tests.bench.moto_routing [--events 300] [--waiting 300]

The topology's rules and queues are provisioned on moto (mock_aws) as the local runtime does; `--waiting`
records are left in every queue first (a batching window holds up to 200), then `--events` PutEvents go
through moto's backend. Prints CPU ms per event; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import time

import boto3
from moto import mock_aws

from infra import topology
from infra.local import moto_patches
from infra.local.bus import EventBus

DETAIL = json.dumps({"sku": "CPU-HOT", "warehouse_id": "WH-CPU", "available": 5, "reserved": 3, "on_hand": 8,
                     "reason": "reservation", "reservation_id": "r-abc-1", "at": "2026-12-07T10:00:00Z"})


class _Moto:
    def client(self, name: str):
        return boto3.client(name, region_name="us-east-1")


def ms_per_event(n: int, waiting: int) -> float:
    from moto.events.models import events_backends

    with mock_aws():
        EventBus(_Moto(), topology.EVENT_RULES, dispatch=lambda f, e: None).provision()
        backend = events_backends["123456789012"]["us-east-1"]
        entry = {"Source": "stocklink", "DetailType": "stock.changed", "EventBusName": "stocklink", "Detail": DETAIL}
        for _ in range(waiting):
            backend.put_events([entry])
        started = time.process_time()
        for _ in range(n):
            backend.put_events([entry])
        return (time.process_time() - started) / n * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--waiting", type=int, default=300)
    args = parser.parse_args(argv)
    plain = ms_per_event(args.events, args.waiting)
    moto_patches.apply()
    patched = ms_per_event(args.events, args.waiting)
    print(f"moto PutEvents -> SQS, {args.waiting} records waiting per queue: {plain:.2f} ms CPU per event, "
          f"{patched:.2f} ms with infra/local/moto_patches.py")


if __name__ == "__main__":
    main()
