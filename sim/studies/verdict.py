"""SLO verdicts and how they combine: one bad answer outweighs an unsure one, which
outweighs a good one."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Verdict(StrEnum):
    """The verdict on an SLO, a model or a search point (its value is what JSON shows)."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"

    @classmethod
    def combine(cls, verdicts: Iterable[Verdict]) -> Verdict:
        """fail if any fails, else inconclusive if any is, else pass (also for none)."""
        found = set(verdicts)
        if cls.FAIL in found:
            return cls.FAIL
        return cls.INCONCLUSIVE if cls.INCONCLUSIVE in found else cls.PASS
