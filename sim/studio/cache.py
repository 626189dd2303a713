"""A bounded, thread-safe cache of results, least recently used out first.

The studio keeps one per server. (Streamlit's ``st.cache_data`` replays the element calls a
cached function made, and refuses a progress bar drawn from inside the function on a
block created outside it, so a run could not report its progress through it.)
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class BoundedCache(Generic[Value]):
    """At most ``entries`` values by key; the least recently used goes first."""

    def __init__(self, entries: int) -> None:
        if entries < 1:
            raise ValueError("entries must be >= 1")
        self.entries = entries
        self._values: OrderedDict[Hashable, Value] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._values

    def get_or_compute(self, key: Hashable, compute: Callable[[], Value]) -> Value:
        """The cached value of ``key``, computing (outside the lock) and keeping it on a miss.
        A computation that raises leaves nothing behind."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = compute()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.entries:
                self._values.popitem(last=False)
        return value
