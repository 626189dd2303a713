"""A small progress bar with time left, on stderr, for runs that take more than a moment."""

from __future__ import annotations

import sys
import time
from typing import TextIO

SHOW_AFTER = 1.0  # seconds: quick runs print nothing


class Progress:
    """Counts finished tasks; draws ``label [#####.....] 12/40  0:23 left`` when enabled."""

    def __init__(
        self, total: int, label: str, enabled: bool | None = None, stream: TextIO | None = None
    ) -> None:
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self._interactive() if enabled is None else enabled
        self.done = 0
        self.start = time.monotonic()
        self._drawn = False

    def _interactive(self) -> bool:
        if getattr(self.stream, "isatty", lambda: False)():
            return True
        return "ipykernel" in sys.modules  # a notebook

    def advance(self, count: int = 1) -> None:
        """``count`` more tasks are finished."""
        self.done += count
        elapsed = time.monotonic() - self.start
        if not self.enabled or (elapsed < SHOW_AFTER and self.done < self.total):
            return
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        width = 30
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        minutes, seconds = divmod(int(left + 0.5), 60)
        self.stream.write(
            f"\r{self.label} [{bar}] {self.done}/{self.total}  {minutes}:{seconds:02d} left"
        )
        self._drawn = True
        if self.done >= self.total:
            self.close()

    def close(self) -> None:
        """End the line the bar was drawn on."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
