"""AWS service clients for the functions, made straight from botocore: boto3 would add its own imports to
every cold start (s3transfer among them, ~80-120 ms here: tests/bench/cold_import.py) and nothing the
functions call needs its resource layer. pynamodb already builds its DynamoDB clients from botocore.

One botocore session per container (a session parses botocore's endpoint and service files once: ~55 ms of
CPU for each new one here, against ~9 ms for one more client of a session), created on first use and shared
with pynamodb's connections (stocklink.store.models); the callers keep the clients they make for the
container. moto intercepts botocore clients in tests as it does boto3's. Region, endpoint
(AWS_ENDPOINT_URL) and credentials come from the environment as they would for boto3.
"""
from __future__ import annotations

import threading

import botocore.session
from botocore.config import Config

_lock = threading.Lock()
_session: botocore.session.Session | None = None


class _SharedSession(botocore.session.Session):
    """A session whose clients are made one at a time: clients are thread-safe, making them is not."""

    def create_client(self, *args, **kwargs):
        with _lock:
            return super().create_client(*args, **kwargs)


def shared_session() -> botocore.session.Session:
    """The container's one botocore session."""
    global _session
    with _lock:
        if _session is None:
            _session = _SharedSession()
        return _session


def client(service: str, *, config: Config | None = None):
    """A new client of `service`; call it once per container and keep the client."""
    return shared_session().create_client(service, config=config)
