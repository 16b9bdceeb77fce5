"""The sign-in token buckets (accounts/throttle.py) with a controlled clock; the concurrency
test over HTTP is tests/e2e/test_signin_limit.py."""

from __future__ import annotations

import pytest

from accounts import throttle

T0 = 1_800_000_000.0


def attempts(count: int, *, username="alice", address="192.0.2.1", at=T0) -> int:
    """How many of `count` failed attempts at time `at` were let through."""
    allowed = 0
    for _ in range(count):
        try:
            throttle.acquire(username, address, now=at).failed()
            allowed += 1
        except throttle.TooManyAttempts:
            pass
    return allowed


def test_five_per_user_and_address_then_one_more_every_three_minutes(aws):
    assert attempts(8) == 5
    with pytest.raises(throttle.TooManyAttempts) as refused:
        throttle.acquire("alice", "192.0.2.1", now=T0 + 60)
    assert refused.value.retry_after == 120 and refused.value.headers == {"Retry-After": "120"}
    assert attempts(2, at=T0 + 180) == 1  # one slot back after window/limit


def test_no_double_rate_across_a_window_edge(aws):
    # A fixed 15-minute window would allow 5 just before its edge and 5 more just after.
    edge = (T0 // 900 + 1) * 900
    assert attempts(5, at=edge - 1) == 5
    assert attempts(5, at=edge + 1) == 0


def test_usernames_are_one_account_whatever_their_case(aws):
    assert attempts(3, username="alice") == 3
    assert attempts(3, username="ALICE") == 2


def test_success_resets_the_username_and_gives_the_address_its_slot_back(aws, monkeypatch):
    from common.config import get_config

    monkeypatch.setenv("SIGNIN_MAX_FAILURES_PER_ADDRESS", "2")
    get_config.cache_clear()
    for _ in range(5):  # only successes: the address never fills
        throttle.acquire("alice", "192.0.2.1", now=T0).succeeded()
    assert attempts(2, username="bob") == 2
    assert attempts(1, username="carol") == 0  # credential stuffing: the address is full


def test_an_outage_gives_every_slot_back(aws):
    for _ in range(10):
        throttle.acquire("alice", "192.0.2.1", now=T0).release()
    assert attempts(5) == 5


def test_a_refusal_holds_no_slot(aws, monkeypatch):
    from common.config import get_config

    monkeypatch.setenv("SIGNIN_MAX_FAILURES_PER_ADDRESS", "3")
    monkeypatch.setenv("SIGNIN_MAX_FAILURES_PER_USER", "5")
    get_config.cache_clear()
    assert attempts(5, username="alice") == 3  # the address bucket refuses the last two
    # Those two refusals took nothing from alice's username bucket: 2 of its 5 are left.
    assert attempts(5, username="alice", address="192.0.2.2") == 2


class Clock:
    """time.time and time.sleep for the module: sleeping moves the clock on."""

    def __init__(self, now: float):
        self.now = now
        self.slept = 0.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += seconds


def test_an_attempt_whose_clock_lagged_a_concurrent_ones_waits_for_its_slot(aws, monkeypatch):
    # Four attempts made at T0 + 0.4; a fifth, begun at once but whose clock was read 0.4 s
    # earlier, finds the bucket 0.4 s ahead of it. It is the fifth failure, not a refusal.
    attempts(4, at=T0 + 0.4)
    clock = Clock(T0)
    monkeypatch.setattr(throttle, "time", clock)
    throttle.acquire("alice", "192.0.2.1").failed()
    assert 0.39 < clock.slept < 0.41
    # The bucket is now full: the sixth is refused for three minutes, with no wait.
    clock.slept = 0.0
    with pytest.raises(throttle.TooManyAttempts) as refused:
        throttle.acquire("alice", "192.0.2.1")
    assert refused.value.retry_after == 180 and clock.slept == 0.0
