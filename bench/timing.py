"""What the benchmarks share: best-of-N wall-clock timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def timed(function: Callable[[], Any], repeat: int = 3) -> tuple[float, Any]:
    """The best of `repeat` runs in seconds, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result
