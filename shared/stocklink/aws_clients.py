"""AWS service clients for the functions, made straight from botocore: boto3 would add its own imports to
every cold start (s3transfer among them, ~80-120 ms here: tests/bench/cold_import.py) and nothing the
functions call needs its resource layer. pynamodb already builds its DynamoDB clients from botocore.

One botocore session per container (a session parses botocore's endpoint and service files once), created
on first use; the callers keep the clients they make for the container. moto intercepts botocore clients in
tests as it does boto3's. Region, endpoint (AWS_ENDPOINT_URL) and credentials come from the environment as
they would for boto3.
"""
from __future__ import annotations

import threading

import botocore.session
from botocore.config import Config

_lock = threading.Lock()
_session: botocore.session.Session | None = None


def client(service: str, *, config: Config | None = None):
    """A new client of `service`; call it once per container and keep the client (they are thread-safe,
    the session making them is not: made under a lock)."""
    global _session
    with _lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session.create_client(service, config=config)
