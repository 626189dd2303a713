"""Progress of a study, reported through a callback.

Every study takes ``progress``: ``None`` (default: a bar on a terminal or in a notebook once
a run takes over a second), ``False`` (nothing), ``True`` (a bar wherever it is), or a
callable ``progress(done, total)`` called as each task finishes: the studio's progress
widget and a notebook's own bar are such callables. The bar is tqdm's.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Protocol, TextIO

ProgressArg = bool | None | Callable[[int, int], None]
"""What a study's ``progress`` argument takes."""

SHOW_AFTER = 1.0  # seconds: quick runs print nothing


class _Bar(Protocol):
    """What this module uses of a tqdm bar."""

    total: float

    def update(self, n: float | None = 1) -> bool | None: ...
    def close(self) -> None: ...


def _notebook_bar(total: int, label: str) -> _Bar:
    """tqdm's widget bar in a notebook; its text bar where ipywidgets is missing."""
    try:
        from tqdm.notebook import tqdm as widget

        bar: _Bar = widget(total=total, desc=label, delay=SHOW_AFTER, leave=False)
    except ImportError:  # tqdm.notebook says "IProgress not found" without ipywidgets
        from tqdm import tqdm

        bar = tqdm(total=total, desc=label, delay=SHOW_AFTER, leave=False)
    return bar


class Progress:
    """Counts finished tasks and tells the callback, or draws the bar; closed by its owner
    (``with Progress(...) as bar``), so one bar can span several batches."""

    def __init__(
        self, total: int, label: str, progress: ProgressArg = None, stream: TextIO | None = None
    ) -> None:
        self.total = total
        self.done = 0
        self._callback = progress if callable(progress) else None
        self._bar: _Bar | None = None
        if self._callback is None and progress is not False:
            notebook = stream is None and "ipykernel" in sys.modules
            stream = stream or sys.stderr
            interactive = getattr(stream, "isatty", lambda: False)() or notebook
            if notebook:
                self._bar = _notebook_bar(total, label)
            elif progress is True or interactive:
                from tqdm import tqdm  # imported when a bar is drawn

                self._bar = tqdm(
                    total=total, desc=label, delay=SHOW_AFTER, leave=False, file=stream
                )

    def extend(self, count: int) -> None:
        """``count`` more tasks to do (a precision-driven study's next round)."""
        self.total += count
        if self._bar is not None:
            self._bar.total = self.total  # drawn at the next update, after the delay

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def advance(self, count: int = 1) -> None:
        """``count`` more tasks are finished."""
        self.done += count
        if self._callback is not None:
            self._callback(self.done, self.total)
        elif self._bar is not None:
            self._bar.update(count)

    def close(self) -> None:
        """The study is over: remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
