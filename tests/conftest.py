"""Shared fixtures: every test runs the real program on the offline mock engine (tools/offline/engine.py)
with its own stack files (tests/stacks/); tests/harness.py holds what the test modules share."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
for folder in (TESTS.parent, TESTS):  # the project (settings, components, tools) and harness.py
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from harness import run_program  # noqa: E402
from settings import CREDENTIAL_ENV_VARS  # noqa: E402
from tools.offline.engine import ProgramRun, end_runs  # noqa: E402


@pytest.fixture(autouse=True)
def _no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own PAT in the environment must not change what the tests see."""
    for variable in (*CREDENTIAL_ENV_VARS, "PULUMI_CONFIG"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    """The tests' dev stack, tests/stacks/dev.yaml (one run shared by read-only tests)."""
    return run_program("dev")


def pytest_unconfigure() -> None:
    """The tests are over: close what the runs left open and spare the collector's last passes (engine.end_runs)."""
    end_runs()
