"""Shared fixtures: every test runs the real program on the offline mock engine (tools/offline/engine.py)
with its own stack files (tests/stacks/); tests/harness.py holds what the test modules share.

pytest-xdist's controller loads this module too, and runs no test. So the program's modules are imported in the
fixtures, where only the workers get to them: imported here, the SDKs would load (and, on a fresh clone, compile)
in the controller before it started the workers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

TESTS = Path(__file__).resolve().parent
for folder in (TESTS.parent, TESTS):  # the project (settings, components, tools) and harness.py
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

if TYPE_CHECKING:
    from tools.offline.engine import ProgramRun


@pytest.fixture(autouse=True)
def _no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own PAT in the environment must not change what the tests see."""
    from settings import CREDENTIAL_ENV_VARS

    for variable in (*CREDENTIAL_ENV_VARS, "PULUMI_CONFIG"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    """The tests' dev stack, tests/stacks/dev.yaml (one run shared by read-only tests)."""
    from harness import run_program

    return run_program("dev")


def pytest_unconfigure() -> None:
    """The tests are over: close what the runs left open and spare the collector's last passes (engine.end_runs).
    A process that ran no program (the xdist controller) has nothing to close."""
    engine = sys.modules.get("tools.offline.engine")
    if engine is not None:
        engine.end_runs()
