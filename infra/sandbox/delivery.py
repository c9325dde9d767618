"""Webhook delivery the way marketplaces do it under load: late (a fixed delay or a uniform random one in a
range, per shop, seeded for reproducible runs), optionally out of order, retried with backoff when the
receiver answers 5xx / 429 / 408 or does not answer at all, and every attempt recorded in a delivery log.

A shop whose settings are the defaults (no delay, in order) is delivered inline by the checkout, as before
(`Deliverer.deliver_now`: one attempt, the answer carries StockLink's reply). Any other shop's webhooks go
through `Deliverer.schedule`: a scheduler thread keeps a heap of due times and hands due deliveries to
daemon sender threads, starting another whenever every sender is busy (a marketplace does not queue its
webhooks behind a slow receiver, so neither does the simulator); the checkout answers at once with the
delivery ids.

Order: one random draw per webhook from the shop's own `random.Random(seed)`. In order (`reorder` off) a
webhook is never due before the shop's previous one (a slow draw holds back the ones behind it, FIFO);
with `reorder` each webhook is due after its own draw, so a later order's webhook can overtake an earlier
one. Retries are scheduled on their own (a failing webhook does not hold back the shop's later ones, as on
the real platforms).
"""
from __future__ import annotations

import heapq
import http.client
import itertools
import queue
import random
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable

MAX_DELAY_S = 3600.0
MAX_SENDERS = 512        # concurrent attempts at most (threads); beyond that due webhooks wait their turn
FINAL_STATES = ("delivered", "failed")

Post = Callable[[str, dict, bytes, float], tuple[int, str]]


def parse_delay(value) -> tuple[float, float]:
    """`webhook_delay_s` as (min, max) seconds: a number (fixed), a [min, max] pair (uniform random), or the
    same as text ("1", "0-3", "0.5-2"); None is no delay."""
    if value is None:
        return 0.0, 0.0
    if isinstance(value, bool):
        raise ValueError("webhook_delay_s must be a number, [min, max] or 'min-max'")
    if isinstance(value, (int, float)):
        low = high = float(value)
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        low, high = (float(v) for v in value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        low_text, sep, high_text = text.partition("-")
        low = float(low_text)
        high = float(high_text) if sep else low
    else:
        raise ValueError("webhook_delay_s must be a number, [min, max] or 'min-max'")
    if not 0.0 <= low <= high <= MAX_DELAY_S:
        raise ValueError(f"webhook_delay_s needs 0 <= min <= max <= {MAX_DELAY_S:g}, got {value!r}")
    return low, high


def describe_delay(low: float, high: float) -> float | list[float]:
    return low if low == high else [low, high]


@dataclass
class DeliverySettings:
    """A shop's webhook delivery (POST /_sandbox/shops `delivery`, PUT /_sandbox/delivery)."""
    delay: tuple[float, float] = (0.0, 0.0)
    reorder: bool = False
    seed: int | None = None
    max_attempts: int = 4            # first try + retries on 5xx / 429 / 408 / no answer
    retry_backoff_s: float = 1.0     # before retry n: backoff * 2 ** (n - 1)
    timeout_s: float = 10.0          # an attempt not answered by then counts as failed (status 0)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)
    last_due: float = 0.0            # in order: the due time (monotonic) of the shop's latest webhook

    @classmethod
    def from_doc(cls, doc) -> DeliverySettings:
        settings = cls()
        settings.update(doc or {})
        return settings

    def update(self, doc: dict) -> None:
        """Changes the settings named in `doc` (the others stay); raises ValueError on a bad value."""
        if not isinstance(doc, dict):
            raise ValueError("delivery settings must be an object")
        unknown = set(doc) - {"webhook_delay_s", "reorder", "seed", "max_attempts", "retry_backoff_s", "timeout_s"}
        if unknown:
            raise ValueError(f"unknown delivery setting(s): {sorted(unknown)}")
        delay = parse_delay(doc["webhook_delay_s"]) if "webhook_delay_s" in doc else self.delay
        reorder = doc.get("reorder", self.reorder)
        if not isinstance(reorder, bool):
            raise ValueError("reorder must be true or false")
        attempts = int(doc.get("max_attempts", self.max_attempts))
        backoff = float(doc.get("retry_backoff_s", self.retry_backoff_s))
        timeout = float(doc.get("timeout_s", self.timeout_s))
        if not 1 <= attempts <= 20 or not 0 <= backoff <= 600 or not 0 < timeout <= 120:
            raise ValueError("max_attempts must be 1..20, retry_backoff_s 0..600, timeout_s 0..120")
        self.delay, self.reorder, self.max_attempts, self.retry_backoff_s, self.timeout_s = \
            delay, reorder, attempts, backoff, timeout
        if "seed" in doc:
            self.seed = None if doc["seed"] is None else int(doc["seed"])
            self.rng = random.Random(self.seed)

    @property
    def inline(self) -> bool:
        """Delivered by the checkout itself (today's behaviour): no delay and in order."""
        return self.delay == (0.0, 0.0) and not self.reorder

    def draw(self) -> float:
        low, high = self.delay
        return low if low == high else self.rng.uniform(low, high)

    def describe(self) -> dict:
        return {"webhook_delay_s": describe_delay(*self.delay), "reorder": self.reorder, "seed": self.seed,
                "max_attempts": self.max_attempts, "retry_backoff_s": self.retry_backoff_s,
                "timeout_s": self.timeout_s}


def post_webhook(url: str, headers: dict, body: bytes, timeout: float) -> tuple[int, str]:
    """One delivery attempt: (HTTP status, response body); status 0 when nothing answered in time."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except (OSError, http.client.HTTPException) as exc:      # refused, reset, timed out, garbled
        return 0, f"delivery failed: {exc}"


def retryable(status: int) -> bool:
    return status == 0 or status in (408, 429) or status >= 500


@dataclass
class _Job:
    record: dict
    url: str
    headers: dict
    body: bytes
    settings: DeliverySettings
    generation: int


class Deliverer:
    """The simulator's webhook sender and delivery log (one per Sandbox)."""

    def __init__(self, post: Post = post_webhook, max_senders: int = MAX_SENDERS):
        self._post = post
        self._max_senders = max_senders
        self._senders = 0
        self._idle = 0
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Job]] = []
        self._ready: queue.Queue[_Job] = queue.Queue()
        self._ids = itertools.count(1)
        self._order = itertools.count()
        self._generation = 0
        self._started = False
        self.log: list[dict] = []

    # -- scheduling -------------------------------------------------------------------------------------
    def _record(self, platform: str, shop: str, order_id: str, kind: str, delay: float,
                now: float | None = None) -> dict:
        now = time.time() if now is None else now
        record = {"delivery_id": next(self._ids), "platform": platform, "shop": shop, "order_id": order_id,
                  "kind": kind, "created": now, "delay_s": round(delay, 6), "due": now + delay,
                  "state": "scheduled", "status": None, "body": "", "attempts": [], "done_at": None}
        self.log.append(record)
        return record

    def deliver_now(self, platform: str, shop: str, order_id: str, kind: str, url: str, headers: dict,
                    body: bytes, settings: DeliverySettings) -> dict:
        """Inline delivery by the checkout: one attempt, recorded; returns {status, body, delivery_id}."""
        with self._cond:
            record = self._record(platform, shop, order_id, kind, 0.0)
            record["state"] = "delivering"
            job = _Job(record, url, headers, body, settings, self._generation)
        self._attempt(job, retry=False)
        return {"status": record["status"], "body": record["body"], "delivery_id": record["delivery_id"]}

    def schedule(self, platform: str, shop: str, order_id: str, kind: str, url: str,
                 messages: list[tuple[dict, bytes]], settings: DeliverySettings) -> list[dict]:
        """Queues the webhooks of one checkout; the caller holds the state lock (so the shop's draws and its
        in-order due times follow the checkouts). Returns [{delivery_id, due_in_s}]."""
        out = []
        with self._cond:
            now, wall = time.monotonic(), time.time()      # created and due on both clocks at one moment
            self._start()
            for headers, body in messages:
                due = now + settings.draw()
                if not settings.reorder:
                    due = max(due, settings.last_due)
                    settings.last_due = due
                record = self._record(platform, shop, order_id, kind, due - now, wall)
                heapq.heappush(self._heap, (due, next(self._order),
                                            _Job(record, url, headers, body, settings, self._generation)))
                out.append({"delivery_id": record["delivery_id"], "due_in_s": record["delay_s"]})
            self._cond.notify_all()
        return out

    def _start(self) -> None:
        if self._started:
            return
        self._started = True
        threading.Thread(target=self._schedule_loop, name="sandbox-delivery-scheduler", daemon=True).start()

    def _schedule_loop(self) -> None:
        while True:
            with self._cond:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    self._cond.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                _, _, job = heapq.heappop(self._heap)
                if job.generation != self._generation:
                    continue
                job.record["state"] = "delivering"
                if self._idle:
                    self._idle -= 1          # an idle sender takes it
                elif self._senders < self._max_senders:
                    self._senders += 1
                    threading.Thread(target=self._send_loop, name=f"sandbox-delivery-{self._senders}",
                                     daemon=True).start()
            self._ready.put(job)

    def _send_loop(self) -> None:
        while True:
            job = self._ready.get()
            if job.generation == self._generation:
                self._attempt(job, retry=True)
            with self._cond:
                self._idle += 1

    def _attempt(self, job: _Job, retry: bool) -> None:
        started = time.time()
        try:
            status, answer = self._post(job.url, job.headers, job.body, job.settings.timeout_s)
        except Exception as exc:  # noqa: BLE001 - a sender must survive anything, and the record must end
            status, answer = 0, f"delivery failed: {exc!r}"
        finished = time.time()
        with self._cond:
            if job.generation != self._generation:
                return                                  # the sandbox was reset meanwhile
            record = job.record
            record["attempts"].append({"ts": started, "status": status,
                                       "elapsed_ms": round((finished - started) * 1000, 1)})
            record["status"], record["body"] = status, answer
            attempts = len(record["attempts"])
            if 200 <= status < 300:
                record["state"], record["done_at"] = "delivered", finished
            elif retry and retryable(status) and attempts < job.settings.max_attempts:
                backoff = job.settings.retry_backoff_s * 2 ** (attempts - 1)
                record["state"], record["due"] = "retrying", finished + backoff
                heapq.heappush(self._heap, (time.monotonic() + backoff, next(self._order), job))
            else:
                record["state"], record["done_at"] = "failed", finished
            self._cond.notify_all()

    # -- reading ----------------------------------------------------------------------------------------
    def records(self, platform: str | None = None, shop: str | None = None, order_id: str | None = None,
                since: float = 0.0, pending_only: bool = False) -> list[dict]:
        with self._cond:
            return [dict(r, attempts=list(r["attempts"])) for r in self.log
                    if r["created"] >= since and platform in (None, r["platform"]) and shop in (None, r["shop"])
                    and order_id in (None, r["order_id"]) and not (pending_only and r["state"] in FINAL_STATES)]

    def _pending(self, platform: str | None, shop: str | None) -> int:
        return sum(1 for r in self.log if r["state"] not in FINAL_STATES
                   and platform in (None, r["platform"]) and shop in (None, r["shop"]))

    def wait(self, timeout: float, platform: str | None = None, shop: str | None = None) -> int:
        """Blocks until no delivery (of the shop, if named) is scheduled, in flight or awaiting a retry, or
        `timeout` seconds have passed; returns how many are still pending."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while (left := self._pending(platform, shop)) and time.monotonic() < deadline:
                self._cond.wait(deadline - time.monotonic())
            return left

    def reset(self) -> None:
        """Drops the log and every scheduled delivery (attempts in flight finish unrecorded)."""
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self.log = []
            self._cond.notify_all()
