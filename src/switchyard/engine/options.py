"""Named activity-options classes (DESIGN.md, "Named activity options").

Every action declares one class; the class gives the activity its timeouts,
heartbeat and retry policy. A step's own `timeout` and `retry` fields always
win over the class (spec, "Errors, retries, timeouts").

This module is imported by the interpreter workflow inside the Temporal
sandbox: it is pure (no I/O, no clock, no randomness, no environment) and
every output is a deterministic function of its arguments. Error-type lists
are sorted so that the commands a workflow emits never depend on set
iteration order (which varies with PYTHONHASHSEED between worker processes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from temporalio.common import RetryPolicy

from switchyard import errors

if TYPE_CHECKING:
    from switchyard.definition.model import Retry

__all__ = [
    "LONG_RUNNING",
    "OPTIONS",
    "READ",
    "WRITE_IDEMPOTENT",
    "WRITE_ONCE",
    "ActivitySettings",
    "OptionsClass",
    "activity_settings",
]

READ = "read"
WRITE_IDEMPOTENT = "write_idempotent"
WRITE_ONCE = "write_once"
LONG_RUNNING = "long_running"


@dataclass(frozen=True)
class OptionsClass:
    """Timeouts and retry policy shared by every action of one kind.

    Attributes:
        name: The class name actions declare (`read`, `write_once`, ...).
        description: What kind of action belongs here, and why these numbers.
        start_to_close: Limit of one attempt.
        schedule_to_close: Limit of all attempts together (backoff included);
            None leaves only `max_attempts` and the run timeout as bounds.
        heartbeat_timeout: The attempt fails when it has not heartbeated for
            this long; None for actions that do not heartbeat.
        max_attempts: Total attempts including the first (1 = no retry).
        initial_interval: Wait before the first retry.
        backoff: Multiplier applied to the wait after each retry.
        max_interval: Upper bound of the wait between attempts.
        non_retryable: Error types never retried in this class (on top of
            `errors.NEVER_RETRIED`).
    """

    name: str
    description: str
    start_to_close: timedelta
    schedule_to_close: timedelta | None
    heartbeat_timeout: timedelta | None
    max_attempts: int
    initial_interval: timedelta
    backoff: float
    max_interval: timedelta
    non_retryable: tuple[str, ...] = ()


# Why these numbers:
# - Transient failures of SaaS APIs (5xx, 429, resets, DNS blips) usually clear
#   within a minute; five attempts with 1s..30s backoff span about 1 minute of
#   waiting (1+2+4+8 s) while not hammering a struggling API.
# - 30 s per attempt is above the p99.9 of a healthy API call and well under
#   the 60 s at which load balancers usually cut idle connections, so a hung
#   call fails as `Timeout` and is retried instead of stalling the step.
# - schedule_to_close bounds the whole retry schedule so that a read against a
#   dead endpoint fails the step in minutes, not at the run timeout.
# - HttpClientError (4xx) is a property of the request, not of the moment:
#   retrying it cannot help, so no class retries it.
OPTIONS: dict[str, OptionsClass] = {
    o.name: o
    for o in (
        OptionsClass(
            name=READ,
            description=(
                "Reads with no side effect (GET, list, describe). Safe to repeat, "
                "so transient errors are retried 5 times with 1s..30s backoff; "
                "30s per attempt, 5m for the whole schedule."
            ),
            start_to_close=timedelta(seconds=30),
            schedule_to_close=timedelta(minutes=5),
            heartbeat_timeout=None,
            max_attempts=5,
            initial_interval=timedelta(seconds=1),
            backoff=2.0,
            max_interval=timedelta(seconds=30),
            non_retryable=(errors.HTTP_CLIENT_ERROR,),
        ),
        OptionsClass(
            name=WRITE_IDEMPOTENT,
            description=(
                "Writes whose repetition has the same effect as one call (PUT, "
                "DELETE, upserts, 'set state to X'). Retried 5 times with 2s..60s "
                "backoff; 60s per attempt because writes are slower than reads "
                "(and a repeat after a slow success is harmless); 10m overall."
            ),
            start_to_close=timedelta(seconds=60),
            schedule_to_close=timedelta(minutes=10),
            heartbeat_timeout=None,
            max_attempts=5,
            initial_interval=timedelta(seconds=2),
            backoff=2.0,
            max_interval=timedelta(seconds=60),
            non_retryable=(errors.HTTP_CLIENT_ERROR,),
        ),
        OptionsClass(
            name=WRITE_ONCE,
            description=(
                "Writes that must happen at most once (POST that creates, page "
                "someone, send a message). A timed-out attempt may have succeeded "
                "remotely, so it is never retried automatically: one attempt of "
                "60s. A step opts in to retries with its own `retry`."
            ),
            start_to_close=timedelta(seconds=60),
            schedule_to_close=None,
            heartbeat_timeout=None,
            max_attempts=1,
            initial_interval=timedelta(seconds=1),
            backoff=2.0,
            max_interval=timedelta(seconds=60),
            non_retryable=(errors.HTTP_CLIENT_ERROR,),
        ),
        OptionsClass(
            name=LONG_RUNNING,
            description=(
                "Jobs that take minutes (builds, exports, waiting on a remote "
                "task). One attempt may last 1h but must heartbeat at least every "
                "60s, so a dead worker is detected in a minute rather than an hour. "
                "Retried 3 times with 10s..5m backoff; no overall bound beyond the "
                "run timeout."
            ),
            start_to_close=timedelta(hours=1),
            schedule_to_close=None,
            heartbeat_timeout=timedelta(seconds=60),
            max_attempts=3,
            initial_interval=timedelta(seconds=10),
            backoff=2.0,
            max_interval=timedelta(minutes=5),
            non_retryable=(errors.HTTP_CLIENT_ERROR,),
        ),
    )
}


@dataclass(frozen=True)
class ActivitySettings:
    """What `workflow.execute_activity` needs for one action step.

    Attributes:
        start_to_close: `start_to_close_timeout` (one attempt).
        heartbeat_timeout: `heartbeat_timeout`, or None.
        retry_policy: The retry policy, NEVER_RETRIED types always included.
        schedule_to_close: `schedule_to_close_timeout`, or None. Set only when
            the step overrides neither `timeout` nor `retry` (an override must
            not be cut short by the class's overall bound).
    """

    start_to_close: timedelta
    heartbeat_timeout: timedelta | None
    retry_policy: RetryPolicy
    schedule_to_close: timedelta | None = None


def activity_settings(
    class_name: str, *, step_timeout: float | None, step_retry: Retry | None
) -> ActivitySettings:
    """Combine an options class with a step's own `timeout` and `retry`.

    Args:
        class_name: A key of `OPTIONS`.
        step_timeout: The step's `timeout` in seconds (per attempt); None or 0
            means "use the class".
        step_retry: The step's `retry`; its absent fields come from the class.
            `non_retryable`, when given, replaces the class's list.

    Returns:
        The settings; `errors.NEVER_RETRIED` is always non-retryable.

    Raises:
        ValueError: `class_name` is not a known class.
    """
    try:
        cls = OPTIONS[class_name]
    except KeyError:
        raise ValueError(
            f"unknown activity options class {class_name!r}; known: {', '.join(sorted(OPTIONS))}"
        ) from None

    start_to_close = timedelta(seconds=step_timeout) if step_timeout else cls.start_to_close
    max_attempts = cls.max_attempts
    initial = cls.initial_interval
    backoff = cls.backoff
    max_interval = cls.max_interval
    non_retryable: set[str] = set(cls.non_retryable)
    if step_retry is not None:
        if step_retry.max_attempts is not None:
            max_attempts = step_retry.max_attempts
        if step_retry.initial_interval is not None:
            initial = timedelta(seconds=step_retry.initial_interval)
        if step_retry.backoff is not None:
            backoff = step_retry.backoff
        if step_retry.max_interval is not None:
            max_interval = timedelta(seconds=step_retry.max_interval)
        if "non_retryable" in step_retry.model_fields_set:
            non_retryable = set(step_retry.non_retryable)
    non_retryable |= errors.NEVER_RETRIED
    # Temporal rejects a policy whose maximum interval is below the initial
    # one; a step raising `initial_interval` above the class maximum means
    # "wait at least this long", so the maximum follows it.
    max_interval = max(max_interval, initial)

    overridden = bool(step_timeout) or step_retry is not None
    schedule_to_close = None if overridden else cls.schedule_to_close
    return ActivitySettings(
        start_to_close=start_to_close,
        heartbeat_timeout=cls.heartbeat_timeout,
        retry_policy=RetryPolicy(
            initial_interval=initial,
            backoff_coefficient=backoff,
            maximum_interval=max_interval,
            maximum_attempts=max_attempts,
            non_retryable_error_types=sorted(non_retryable),
        ),
        schedule_to_close=schedule_to_close,
    )
