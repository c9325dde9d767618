"""moto in server mode on a free loopback port: EventBridge, SNS, SQS, SSM, Secrets Manager, Step Functions.

moto keeps its state in memory only, per process (two servers in one process share it). The bus, rules
and the API-token secret are re-provisioned at each
start, but shop secrets written through the API (PUT /shops) would be lost, so Secrets Manager contents
can be snapshotted to a JSON file: restored at start, rewritten shortly after every Secrets Manager write
that goes through the server (and once more at stop). The file holds plain secret values: it is created
0600 under .stocklink/data/, which is a developer's local state, never committed.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import threading
from pathlib import Path

from moto.server import ThreadedMotoServer

from infra.local import moto_patches
from infra.local.workers import REGION

log = logging.getLogger("stocklink.local")

# Secrets Manager actions that change what a snapshot holds.
_SECRET_WRITES = {"CreateSecret", "PutSecretValue", "UpdateSecret", "DeleteSecret", "RestoreSecret",
                  "TagResource", "UntagResource", "UpdateSecretVersionStage", "RotateSecret"}


class _Server(ThreadedMotoServer):
    """ThreadedMotoServer that tells us about Secrets Manager writes (moto 5.x internals, pinned <6)."""

    def __init__(self, *args, on_secret_write=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._on_secret_write = on_secret_write

    def _server_entry(self) -> None:
        from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        notify = self._on_secret_write

        def wrapped(environ, start_response):
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            result = app(environ, start_response)
            if notify and target.startswith("secretsmanager.") and target.split(".", 1)[1] in _SECRET_WRITES:
                notify()
            return result

        self._server = make_server(self._ip_address, self._port, wrapped, True,
                                   request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


class MotoServer:
    def __init__(self, port: int = 0, secrets_file: str | os.PathLike | None = None):
        self._requested_port = port
        self.secrets_file = Path(secrets_file) if secrets_file else None
        self._server: _Server | None = None
        self.port: int | None = None
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._snapshot_thread: threading.Thread | None = None
        self._snapshot_lock = threading.Lock()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, service: str):
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=REGION,
                            aws_access_key_id="testing", aws_secret_access_key="testing")

    def start(self) -> "MotoServer":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per moto call drowns the console
        moto_patches.apply()
        # port 0: the OS picks a free port at bind time, so there is no race with other processes.
        self._server = _Server("127.0.0.1", self._requested_port, verbose=False,
                               on_secret_write=self._dirty.set if self.secrets_file else None)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        if self.secrets_file:
            self.restore_secrets()
            self._snapshot_thread = threading.Thread(target=self._snapshot_loop, daemon=True,
                                                     name="secrets-snapshot")
            self._snapshot_thread.start()
        return self

    # -- Secrets Manager persistence ------------------------------------------------------------
    def _snapshot_loop(self) -> None:
        while not self._stopping.is_set():
            if self._dirty.wait(timeout=0.5):
                self._stopping.wait(0.2)  # coalesce a burst of writes into one file write
                self._dirty.clear()
                try:
                    self.snapshot_secrets()
                except Exception:  # noqa: BLE001 - keep trying on the next change
                    log.exception("could not snapshot secrets to %s", self.secrets_file)

    def snapshot_secrets(self) -> int:
        if not self.secrets_file:
            return 0
        with self._snapshot_lock:
            sm = self.client("secretsmanager")
            secrets = []
            for page in sm.get_paginator("list_secrets").paginate():
                for meta in page["SecretList"]:
                    if meta.get("DeletedDate"):
                        continue
                    entry = {"Name": meta["Name"], "Description": meta.get("Description"),
                             "Tags": meta.get("Tags") or []}
                    try:
                        value = sm.get_secret_value(SecretId=meta["ARN"])
                    except sm.exceptions.ResourceNotFoundException:
                        continue
                    if "SecretString" in value:
                        entry["SecretString"] = value["SecretString"]
                    elif "SecretBinary" in value:
                        entry["SecretBinary"] = base64.b64encode(value["SecretBinary"]).decode()
                    secrets.append(entry)
            self.secrets_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.secrets_file.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                json.dump({"secrets": secrets}, fh, indent=1)
            os.replace(tmp, self.secrets_file)  # atomic: a crash mid-write keeps the previous snapshot
            return len(secrets)

    def restore_secrets(self) -> int:
        if not self.secrets_file or not self.secrets_file.exists():
            return 0
        data = json.loads(self.secrets_file.read_text())
        sm = self.client("secretsmanager")
        for entry in data.get("secrets", []):
            kwargs = {"Name": entry["Name"]}
            if entry.get("Description"):
                kwargs["Description"] = entry["Description"]
            if entry.get("Tags"):
                kwargs["Tags"] = entry["Tags"]
            if "SecretString" in entry:
                kwargs["SecretString"] = entry["SecretString"]
            elif "SecretBinary" in entry:
                kwargs["SecretBinary"] = base64.b64decode(entry["SecretBinary"])
            try:
                sm.create_secret(**kwargs)
            except sm.exceptions.ResourceExistsException:
                # moto's state is per process: a second server in one process (tests) still has it.
                value = {k: kwargs[k] for k in ("SecretString", "SecretBinary") if k in kwargs}
                sm.put_secret_value(SecretId=entry["Name"], **value)
        self._dirty.clear()  # restoring is not a change
        return len(data.get("secrets", []))

    def stop(self) -> None:
        if self._server is None:
            return
        self._stopping.set()
        if self._snapshot_thread:
            self._snapshot_thread.join(timeout=5)
        if self.secrets_file:
            try:
                self.snapshot_secrets()
            except Exception:  # noqa: BLE001
                log.exception("could not snapshot secrets at stop")
        self._server.stop()
        self._server = None

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
