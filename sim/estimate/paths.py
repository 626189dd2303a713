"""What a request meets on its way, as samples: a callee's answers, a call with its timeout,
connection pool and retries, a step of calls made together, a service's own work.

The estimate composes response times by sampling each station's marginal distribution
independently (the decomposition's assumption): a caller's call takes a callee answer at
random, so sums, maxima, timeouts and retries come out of the same arithmetic as in the
engine, and percentiles and failure shares are read off the samples.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.model.controls import RetryPolicy
from sim.model.service import Call
from sim.policies.retry import exponential

SAMPLES = 20_000
"""Samples per distribution: p99 within about 2 % of its value."""

OK, REJECTED, TIMEOUT, ERROR = range(4)
"""A request's root outcome, by code: ok, refused somewhere (any reason), a caller gave up,
an error."""

_RETRYABLE = {
    REJECTED: {"queue_full", "pool_full", "rate_limited", "concurrency_limited"},
    TIMEOUT: {"timeout"},
    ERROR: {"error"},
}


@dataclass
class Answers:
    """A service as its callers see it: the share of attempts it refuses at once, and
    response times of admitted requests with each one's root outcome."""

    refused: float
    latency: np.ndarray
    root: np.ndarray

    @classmethod
    def instant(cls) -> Answers:
        """A service that answers every request at once (before anything is known)."""
        return cls(0.0, np.zeros(SAMPLES), np.zeros(SAMPLES, dtype=np.int8))


@dataclass
class Outcomes:
    """Samples of logical calls (or client requests): latency, root outcome, the
    attempts that reached the callee, and whether a failure is the caller's own (its
    pool was full, or it gave up), not the callee's."""

    latency: np.ndarray
    root: np.ndarray
    attempts: np.ndarray
    own: np.ndarray

    @classmethod
    def fire_and_forget(cls, n: int) -> Outcomes:
        """``n`` fire-and-forget (enqueue) calls as their caller sees them: done at once,
        ok, whatever becomes of the message (the engine does not wait for it)."""
        return cls(np.zeros(n), np.zeros(n, dtype=np.int8), np.ones(n), np.zeros(n, dtype=bool))

    @property
    def ok(self) -> np.ndarray:
        """Which succeeded."""
        return np.asarray(self.root == OK)


@dataclass
class Pool:
    """A caller-side connection pool as its requests see it: refused (pool_full) and the
    waits for a connection."""

    refused: float
    waits: np.ndarray


def attempts_of(
    answers: Answers,
    rng: np.random.Generator,
    timeout: float | None = None,
    retries: RetryPolicy | None = None,
    wire: np.ndarray | None = None,
    loss: float = 0.0,
    pool: Pool | None = None,
    n: int = SAMPLES,
) -> Outcomes:
    """Logical calls to a service answering as ``answers``: each attempt waits for a
    pooled connection, is refused or answered (or lost), gives up at ``timeout``; failures
    in ``retries.retry_on`` are retried after the policy's backoff."""
    limit = math.inf if timeout is None else timeout
    attempts = retries.max_attempts if retries is not None else 1
    retry_on = set(retries.retry_on) if retries is not None else set()
    retryable = np.zeros(len(_RETRYABLE) + 1, dtype=bool)  # by outcome code
    for code, kinds in _RETRYABLE.items():
        retryable[code] = bool(kinds & retry_on)
    latency, sent = np.zeros(n), np.zeros(n)
    root, own = np.empty(0, dtype=np.int8), np.empty(0, dtype=bool)  # the first attempt's
    going = np.ones(n, dtype=bool)
    previous = np.zeros(n)
    for attempt in range(attempts):
        if pool is not None:
            full = rng.random(n) < pool.refused
            took = np.where(full, 0.0, rng.choice(pool.waits, n))
        else:
            full, took = np.zeros(n, dtype=bool), np.zeros(n)
        pick = rng.integers(0, answers.latency.size, n)
        answer, answered = answers.latency[pick], answers.root[pick]
        if wire is not None:
            answer = answer + rng.choice(wire, n)
        refused = ~full & (rng.random(n) < answers.refused)
        lost = ~full & ~refused & (rng.random(n) < loss)
        answer = np.where(refused, 0.0, np.where(lost, math.inf, answer))
        reply = took + answer
        late = ~full & (reply > limit)
        took = np.where(full, took, np.minimum(reply, limit))
        kind = np.where(full | refused, REJECTED, answered).astype(np.int8)
        kind[late] = TIMEOUT
        reached = ~full & ~lost  # a lost message never reaches the callee
        if attempt == 0:  # every request is going: no selection to make
            latency += took
            sent += reached
            root, own = kind, full | late
        else:
            latency[going] += took[going]
            sent[going & reached] += 1
            root[going] = kind[going]
            own[going] = (full | late)[going]
        again = going & retryable[kind] & (attempt + 1 < attempts)
        if retries is not None and again.any():
            sleep = _backoff(retries, attempt, previous, rng, n)
            latency[again] += sleep[again]
            previous = sleep
        going = again
        if not going.any():
            break
    return Outcomes(latency, root, sent, own)


def _backoff(
    policy: RetryPolicy, retry: int, previous: np.ndarray, rng: np.random.Generator, n: int
) -> np.ndarray:
    """The sleeps before retry number ``retry`` (AWS's formulas, as the engine's Backoff)."""
    u = rng.random(n)
    if policy.jitter == "decorrelated":
        start = np.where(previous > 0, previous, policy.base)
        high = np.maximum(3 * start, policy.base)
        return np.asarray(np.minimum(policy.cap, policy.base + u * (high - policy.base)))
    expo = exponential(retry, policy.base, policy.cap, policy.multiplier)
    if policy.jitter == "none":
        return np.full(n, expo)
    if policy.jitter == "full":
        return u * expo
    return expo / 2 + u * expo / 2


def copies(call: Call, logical: Outcomes, rng: np.random.Generator) -> Outcomes:
    """One sample per request of the call's copies, shaped (count, n): those skipped by
    probability or served from the cache take no time and succeed."""
    n = logical.latency.size
    shape = (call.count, n)
    pick = rng.integers(0, n, shape)
    made = rng.random(n) < call.probability  # the entry is made at all, for all its copies
    skip = ~made[None, :] | (rng.random(shape) < call.cache_hit_ratio)
    return Outcomes(
        np.where(skip, 0.0, logical.latency[pick]),
        np.where(skip, OK, logical.root[pick]).astype(np.int8),
        np.where(skip, 0.0, logical.attempts[pick]),
        np.where(skip, False, logical.own[pick]),
    )


def step_time(
    calls: list[Call], logical: list[Outcomes], parallel: bool, rng: np.random.Generator
) -> Outcomes:
    """A step's latency and root outcome per request: one sequential entry (its copies
    one after another, stopping at the first failure), or parallel entries (all copies at
    once, done when every entry has its quorum; the first failure in call order is the
    step's)."""
    n = logical[0].latency.size
    latency, root = np.zeros(n), np.zeros(n, dtype=np.int8)
    own = np.zeros(n, dtype=bool)
    if not parallel:
        sampled = copies(calls[0], logical[0], rng)
        for i in range(calls[0].count):
            going = root == OK
            latency += np.where(going, sampled.latency[i], 0.0)
            root = np.where(going, sampled.root[i], root).astype(np.int8)
            own = np.where(going, sampled.own[i], own)
        return Outcomes(latency, root, np.ones(n), own)
    for call, outcomes in zip(calls, logical, strict=True):
        sampled = copies(call, outcomes, rng)
        need = min(call.quorum or call.count, call.count)
        # done at the need-th success, or when every copy has answered short of it
        times = np.where(sampled.root == OK, sampled.latency, np.inf)
        nth = np.sort(times, axis=0)[need - 1]
        reached = np.isfinite(nth)
        latency = np.maximum(latency, np.where(reached, nth, sampled.latency.max(axis=0)))
        first = np.argmax(sampled.root != OK, axis=0)
        newly = (root == OK) & ~reached
        root = np.where(newly, sampled.root[first, np.arange(n)], root).astype(np.int8)
        own = np.where(newly, sampled.own[first, np.arange(n)], own)
    return Outcomes(latency, root, np.ones(n), own)


def groups(calls: list[Call]) -> list[list[int]]:
    """The indices of a service's calls grouped into steps, as the engine groups them:
    adjacent parallel entries go out together."""
    steps: list[list[int]] = []
    for index, call in enumerate(calls):
        if call.parallel and steps and calls[steps[-1][0]].parallel:
            steps[-1].append(index)
        else:
            steps.append([index])
    return steps
