"""Named activity-options classes and the step overrides."""

from __future__ import annotations

from datetime import timedelta

import pytest

from switchyard import errors
from switchyard.definition.model import Retry
from switchyard.engine.options import OPTIONS, activity_settings


def test_required_classes_exist_and_are_sane() -> None:
    assert {"read", "write_idempotent", "write_once", "long_running"} <= set(OPTIONS)
    for name, cls in OPTIONS.items():
        assert cls.name == name and cls.description
        assert cls.max_attempts >= 1 and cls.backoff >= 1
        assert cls.max_interval >= cls.initial_interval
        if cls.schedule_to_close is not None:
            assert cls.schedule_to_close > cls.start_to_close
    assert OPTIONS["write_once"].max_attempts == 1
    assert OPTIONS["long_running"].heartbeat_timeout is not None
    assert OPTIONS["read"].max_attempts > 1


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_class_defaults(name: str) -> None:
    cls = OPTIONS[name]
    s = activity_settings(name, step_timeout=None, step_retry=None)
    assert s.start_to_close == cls.start_to_close
    assert s.heartbeat_timeout == cls.heartbeat_timeout
    assert s.schedule_to_close == cls.schedule_to_close
    p = s.retry_policy
    assert p.maximum_attempts == cls.max_attempts
    assert p.initial_interval == cls.initial_interval
    assert p.backoff_coefficient == cls.backoff
    assert p.maximum_interval == cls.max_interval
    assert set(cls.non_retryable) | errors.NEVER_RETRIED == set(p.non_retryable_error_types)
    # Sorted: the scheduled command must not depend on set iteration order.
    assert list(p.non_retryable_error_types) == sorted(p.non_retryable_error_types)


def test_step_timeout_wins_and_drops_the_overall_bound() -> None:
    s = activity_settings("read", step_timeout=600.0, step_retry=None)
    assert s.start_to_close == timedelta(minutes=10)
    # The class's 5-minute overall bound would cut the step's 10-minute attempt.
    assert s.schedule_to_close is None
    assert s.retry_policy.maximum_attempts == OPTIONS["read"].max_attempts


def test_step_retry_fields_win_and_absent_ones_come_from_the_class() -> None:
    retry = Retry(max_attempts=9, initial_interval=3.0)
    s = activity_settings("write_idempotent", step_timeout=None, step_retry=retry)
    p = s.retry_policy
    assert p.maximum_attempts == 9
    assert p.initial_interval == timedelta(seconds=3)
    assert p.backoff_coefficient == OPTIONS["write_idempotent"].backoff
    assert p.maximum_interval == OPTIONS["write_idempotent"].max_interval
    # Not given: the class's list stays.
    assert errors.HTTP_CLIENT_ERROR in p.non_retryable_error_types
    assert s.start_to_close == OPTIONS["write_idempotent"].start_to_close


def test_step_retry_can_enable_retries_of_write_once() -> None:
    retry = Retry(max_attempts=3, backoff=3.0, max_interval=120.0)
    p = activity_settings("write_once", step_timeout=5.0, step_retry=retry).retry_policy
    assert p.maximum_attempts == 3
    assert p.backoff_coefficient == 3.0
    assert p.maximum_interval == timedelta(minutes=2)


def test_step_non_retryable_replaces_the_class_list_but_never_retried_stay() -> None:
    retry = Retry(non_retryable=["Timeout"])
    p = activity_settings("read", step_timeout=None, step_retry=retry).retry_policy
    assert set(p.non_retryable_error_types) == {"Timeout"} | errors.NEVER_RETRIED
    empty = Retry(non_retryable=[])
    p = activity_settings("read", step_timeout=None, step_retry=empty).retry_policy
    assert set(p.non_retryable_error_types) == set(errors.NEVER_RETRIED)


def test_max_interval_follows_a_larger_initial_interval() -> None:
    retry = Retry(initial_interval=600.0)  # above read's 30s maximum
    p = activity_settings("read", step_timeout=None, step_retry=retry).retry_policy
    assert p.maximum_interval == timedelta(minutes=10)


def test_retry_from_yaml_durations() -> None:
    retry = Retry.model_validate(
        {"max_attempts": 2, "initial_interval": "1s", "max_interval": "1m"}
    )
    p = activity_settings("read", step_timeout=30.0, step_retry=retry).retry_policy
    assert p.initial_interval == timedelta(seconds=1)
    assert p.maximum_interval == timedelta(minutes=1)


def test_unknown_class() -> None:
    with pytest.raises(ValueError, match="unknown activity options class 'nope'"):
        activity_settings("nope", step_timeout=None, step_retry=None)


def test_deterministic() -> None:
    a = activity_settings("read", step_timeout=1.0, step_retry=Retry(max_attempts=2))
    b = activity_settings("read", step_timeout=1.0, step_retry=Retry(max_attempts=2))
    assert a == b
