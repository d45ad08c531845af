"""The writers' lock of an index on a Milvus server: a lease kept in Milvus itself, so
writers on any machine (``qa serve`` replicas, ``qa add``) take turns with nothing else
shared.

The lease lives in a collection of its own, ``<name>_lock`` (a rebuild drops and recreates
the index's collections while its writer holds the lock: the claim must not be among
them). A row is a claim: its owner (host, process, a random part) and when it expires
(wall-clock milliseconds). To take the lock, a writer

    1. writes its claim (an upsert: a retried request leaves one row, not two);
    2. reads every live claim (expiry in the future) with Strong consistency;
    3. if another writer's live claim is among them, deletes its own and tries again after
       a random pause (growing, at most two seconds); else it holds the lock.

Why two writers cannot both hold it: Milvus orders operations by the timestamps its
oracle hands out, and a Strong read sees every write stamped before the read. Were A and
B both to proceed, A's read missed B's claim, so B's write came after A's read, which came
after A's write (A waited for it); and B's read missed A's claim, so A's write came after
B's read, after B's write: b_insert > a_query > a_insert > b_query > b_insert, a
contradiction. Two writers may both back off (and retry at random times); never both win.

A claim lasts `LEASE_S`: a crashed writer blocks the others that long at most. While the
write runs, a thread renews the claim every `LEASE_S` / 4; the claim is deleted when the
write ends (in ``finally``). A holder that could not renew in time (a stalled machine, a
lost connection) may have been overtaken: that is logged as an error, since the write it
was doing may then have raced another. Expiry compares wall clocks, so the writers'
machines must agree on the time to well within `LEASE_S` (NTP does).
"""

from __future__ import annotations

import logging
import os
import random
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

from qa.core.errors import Busy

log = logging.getLogger(__name__)

LEASE_S = 20.0  # how long a claim lives unless renewed (a crashed writer blocks this long)
MAX_PAUSE_S = 2.0  # longest pause between two tries
_ready: set[tuple[int, str]] = set()  # (client, collection) pairs known to exist
_ready_lock = threading.Lock()


def owner_id() -> str:
    """This writer's name in its claim: host, process id and a random part (two writers
    in one process are two owners)."""
    host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:60] or "host"
    return f"{host}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class LeaseLock:
    """One writer's lease on ``collection`` (created on first use) through ``client``."""

    def __init__(self, client: Any, collection: str, shown: str, lease_s: float = LEASE_S) -> None:
        self.client = client
        self.collection = collection
        self.shown = shown  # the index's address, for messages
        self.lease_s = lease_s
        self.owner = owner_id()
        self.lost = False  # set when a renewal came too late: another may have taken over
        self._valid_until = 0.0  # monotonic time until which our claim surely holds
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # -- the protocol ---------------------------------------------------------------------
    def rivals(self) -> list[str]:
        """The owners of live claims other than ours (one Strong read)."""
        now = int(time.time() * 1000)
        rows = self.client.query(
            self.collection,
            filter=f"expires > {now}",
            output_fields=["id"],
            consistency_level="Strong",
        )
        return sorted(r["id"] for r in rows if r["id"] != self.owner)

    def claim(self) -> None:
        """Write (or renew) our claim, expiring ``lease_s`` from now."""
        start = time.monotonic()
        expires = int((time.time() + self.lease_s) * 1000)
        self.client.upsert(self.collection, [{"id": self.owner, "expires": expires, "v": _V}])
        self._valid_until = start + self.lease_s

    def drop(self) -> None:
        """Delete our claim."""
        self.client.delete(self.collection, filter=f'id == "{self.owner}"')

    def try_acquire(self) -> list[str]:
        """One try: claim, read the live claims, keep ours only if it is alone. Returns the
        rivals seen ([]: the lock is ours)."""
        self.claim()
        try:
            others = self.rivals()
        except BaseException:
            self._quietly(self.drop)
            raise
        if others:
            self.drop()
        return others

    # -- acquiring and releasing ----------------------------------------------------------
    def acquire(self, timeout: float | None = None) -> None:
        """Take the lock, waiting at most ``timeout`` seconds (None: as long as it takes),
        then `Busy`; the lease is renewed in the background until `release`."""
        ensure_collection(self.client, self.collection)
        start = time.monotonic()
        warned = False
        for tries in count(1):
            others = self.try_acquire()
            if not others:
                break
            pause = random.uniform(0.5, 1.0) * min(MAX_PAUSE_S, 0.05 * 2**tries)
            waited = time.monotonic() - start
            if timeout is not None and waited >= timeout:
                raise Busy(
                    f"another process has been writing the index at {self.shown} for over "
                    f"{timeout:g} s; retry when it is done"
                )
            if not warned and waited >= 1.0:
                log.warning("waiting for another qa process (%s) to finish writing %s …",
                            others[0], self.shown)  # fmt: skip
                warned = True
            # the last pause ends at the deadline: one more try then, not a give-up before it
            time.sleep(pause if timeout is None else min(pause, timeout - waited))
        self._stop.clear()
        self._renewer = threading.Thread(target=self._renew, name="qa-lease", daemon=True)
        self._renewer.start()
        self._quietly(self._sweep)

    def release(self) -> None:
        """Stop renewing and delete our claim (left to expire if Milvus cannot be reached)."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
            self._renewer = None
        if self.lost or time.monotonic() > self._valid_until:
            log.error("the write lease on %s lapsed during the write (not renewed within "
                      "%g s): another writer may have written at the same time",
                      self.shown, self.lease_s)  # fmt: skip
        self._quietly(self.drop)

    def _renew(self) -> None:
        while not self._stop.wait(self.lease_s / 4):
            if time.monotonic() > self._valid_until:
                self.lost = True  # too late: renewing now could revive an overtaken claim
                return
            self._quietly(self.claim)

    def _sweep(self) -> None:
        """Delete claims long expired (crashed writers'), so the table stays small."""
        old = int((time.time() - 2 * self.lease_s) * 1000)
        self.client.delete(self.collection, filter=f"expires < {old}")

    def _quietly(self, action: Any) -> None:
        try:
            action()
        except Exception as e:  # the claim expires by itself; the write goes on
            log.warning("write lease on %s: %s failed (%s)", self.shown, action.__name__, e)


@contextmanager
def lease_lock(
    client: Any, collection: str, shown: str, timeout: float | None, lease_s: float = LEASE_S
) -> Iterator[LeaseLock]:
    """Hold the writers' lease on ``collection`` for the ``with`` block."""
    lock = LeaseLock(client, collection, shown, lease_s)
    lock.acquire(timeout)
    try:
        yield lock
    finally:
        lock.release()


_V = [0.0, 0.0]  # Milvus wants a vector field in every collection: a 2-d dummy


def ensure_collection(client: Any, name: str) -> None:
    """Create the claims collection ``name`` unless it exists (Strong, loaded)."""
    key = (id(client), name)
    with _ready_lock:
        if key in _ready:
            return
        if not client.has_collection(name):
            from pymilvus import DataType

            s = client.create_schema(auto_id=False)
            s.add_field("id", DataType.VARCHAR, max_length=128, is_primary=True)
            s.add_field("expires", DataType.INT64)
            s.add_field("v", DataType.FLOAT_VECTOR, dim=2)
            ip = client.prepare_index_params()
            ip.add_index("v", index_type="FLAT", metric_type="L2")
            try:
                client.create_collection(
                    name, schema=s, index_params=ip, consistency_level="Strong"
                )
            except Exception:
                if not client.has_collection(name):  # not another writer's creation: real
                    raise
                client.load_collection(name)
        else:
            client.load_collection(name)  # created by another writer: maybe not loaded yet
        _ready.add(key)
