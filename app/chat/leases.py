"""Leases on running turns: a process that dies mid-turn lets a retry take the turn over within seconds.

A turn's claim (`messages.turn_started_at`) is renewed every few seconds while this process runs it, by
one thread for the whole process (one UPDATE for all its turns). A claim that stopped being renewed for a
lease's length belongs to a process that crashed or was killed: a retry with the same Idempotency-Key
takes it over. Fixed-length claims would make a customer wait as long as the slowest possible turn.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import update

from app.db import session_scope, utcnow
from app.models import Message

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: set[int] = set()
        self._thread: threading.Thread | None = None
        self._every_s = 10.0

    def hold(self, message_id: int, lease_s: float) -> None:
        """Keep renewing the claim on this message's turn until release()."""
        with self._lock:
            self._held.add(message_id)
            self._every_s = max(0.2, min(self._every_s, lease_s / 3))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._renew_forever, name="turn-leases", daemon=True)
                self._thread.start()

    def release(self, message_id: int) -> None:
        with self._lock:
            self._held.discard(message_id)

    def held(self) -> set[int]:
        with self._lock:
            return set(self._held)

    def _renew_forever(self) -> None:
        while True:  # a daemon thread: it ends with the process
            time.sleep(self._every_s)
            ids = self.held()
            if ids:
                self.renew(ids)

    def renew(self, ids: set[int]) -> None:
        try:
            with session_scope() as session:
                session.execute(
                    update(Message)
                    .where(Message.id.in_(ids), Message.status == "processing")
                    .values(turn_started_at=utcnow())
                    .execution_options(synchronize_session=False)
                )
        except Exception as exc:  # noqa: BLE001 - the database may be restarting; renew on the next tick
            log.warning("could not renew %d turn lease(s): %s", len(ids), exc)


leases = LeaseKeeper()
