"""The process's current run (``aidos.run``)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ._run import Run

lock = threading.Lock()
current: "Optional[Run]" = None


def forget(run: "Run") -> None:
    global current
    with lock:
        if current is run:
            current = None


def replace(run: "Run") -> "Optional[Run]":
    """Makes ``run`` current; returns the one it replaced."""
    global current
    with lock:
        previous, current = current, run
    return previous
