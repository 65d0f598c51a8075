"""Graceful stop on SIGTERM / Ctrl-C: finish the chunk in flight, commit it, then leave.

The first SIGTERM or SIGINT only sets a flag the pipeline checks between chunks (a chunk's
writes are one transaction per account, so days stay whole either way). A second Ctrl-C aborts
at once: the transaction in flight rolls back.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger(__name__)


class StopSignals:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None

    def install(self) -> StopSignals:
        """Take over SIGTERM and SIGINT (call from the main thread)."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)
        return self

    def requested(self) -> bool:
        return self.event.is_set()

    def exit_code(self) -> int:
        """The shell convention for a process ended by a signal: 128 + its number."""
        return 128 + (self.signum or signal.SIGTERM)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.event.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signum = signum
        self.event.set()
        log.warning("%s received: stopping after the chunk in flight (Ctrl-C again aborts it)",
                    signal.Signals(signum).name)
