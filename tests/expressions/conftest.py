"""Shared fixtures for the expression engine tests."""

from __future__ import annotations

import pytest

from switchyard.expressions import Scope


@pytest.fixture
def scope() -> Scope:
    return Scope(
        inputs={"service": "api", "limit": 7, "dry_run": False},
        steps={
            "get_pods": {
                "status": "succeeded",
                "attempts": 1,
                "error": None,
                "started_at": "2024-01-02T10:00:00Z",
                "finished_at": "2024-01-02T10:00:01Z",
                "output": {
                    "status": 200,
                    "body": {
                        "items": [
                            {"name": "api-1", "status": "Running"},
                            {"name": "api-2", "status": "CrashLoopBackOff"},
                            {"name": "api-3", "status": "Pending"},
                        ]
                    },
                },
            },
            "check": {
                "status": "failed",
                "attempts": 3,
                "error": {"type": "HttpServerError", "message": "502", "details": None},
                "started_at": "2024-01-02T10:00:02Z",
                "finished_at": "2024-01-02T10:00:09Z",
                "output": None,
            },
        },
        vars={"threshold": 0.5, "team": "sre"},
        trigger={
            "type": "monitor",
            "event": {
                "id": "evt-1",
                "title": "High latency",
                "severity": "critical",
                "tags": ["team:sre", "env:prod"],
                "attributes": {"region": "eu-west-1", "p99_ms": 1234.5},
            },
        },
        run={
            "id": "run-1",
            "workflow": "restart",
            "version": 3,
            "started_at": "2024-01-02T10:00:00Z",
        },
        now_ms=1_704_189_600_000,  # 2024-01-02T10:00:00Z
        seed=42,
    )
