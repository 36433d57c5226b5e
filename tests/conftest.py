"""Shared fixtures: every test runs the real program on the offline mock engine (tools/offline/engine.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from settings import CREDENTIAL_ENV_VARS  # noqa: E402
from tools.offline.engine import AzureMocks, ProgramRun, run_program  # noqa: E402


@pytest.fixture(autouse=True)
def _no_credentials_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own PAT in the environment must not change what the tests see."""
    for variable in (*CREDENTIAL_ENV_VARS, "PULUMI_CONFIG"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    """The dev stack exactly as committed (one run shared by read-only tests)."""
    return run_program("dev")


__all__ = ["AzureMocks", "ProgramRun", "run_program"]
