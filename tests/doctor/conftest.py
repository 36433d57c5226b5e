"""Every doctor test runs the real CLI against the loopback fakes in fakes.py, with a World it may break."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.doctor.fakes import LoopbackServer, World, kubeconfig, loopback_session
from tools.doctor.cli import main
from tools.doctor.environment import Environment


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def lines(self) -> list[str]:
        """The printed lines, each finding's identifier left off."""
        return [re.sub(r"  \[[a-z0-9-]+\]$", "", line.strip()) for line in self.out.splitlines()]

    def findings(self) -> list[tuple[str, str]]:
        """Every finding's identifier and its status (ok, broken, skipped, unknown), in the order printed."""
        return [
            (match[2], STATUS_OF[match[1]])
            for match in re.finditer(r"^\s+(\S) .*  \[([a-z0-9-]+)\]$", self.out, re.M)
        ]

    def found(self, finding: str) -> Found:
        """One finding by its identifier: its status, and the fix it prints (a command or config key, not prose)."""
        lines = [line.strip() for line in self.out.splitlines()]
        for index, line in enumerate(lines):
            if line.endswith(f"  [{finding}]"):
                fix = next((rest.removeprefix("fix:").strip() for rest in lines[index + 1:index + 3] if rest.startswith("fix:")), "")
                return Found(STATUS_OF[line[0]], line[2:].removesuffix(f"  [{finding}]"), fix)
        raise AssertionError(f"no finding {finding!r} in:\n{self.out}")


# The symbols the doctor prints before each finding (tools/doctor/report.py SYMBOLS), by status.
STATUS_OF = {"✓": "ok", "✗": "broken", "–": "skipped", "?": "unknown"}


@dataclass(frozen=True)
class Found:
    status: str
    summary: str
    fix: str


@pytest.fixture(scope="session")
def server() -> Iterator[LoopbackServer]:
    running = LoopbackServer()
    yield running
    running.stop()


@pytest.fixture
def world(server: LoopbackServer) -> World:
    server.world = World()
    return server.world


@pytest.fixture
def doctor(server: LoopbackServer, tmp_path: Path) -> Callable[..., Run]:
    def run(*args: str, outputs: bool = True, api_server: str | None = None) -> Run:
        world = server.world
        config = tmp_path / "kubeconfig"
        config.write_text(kubeconfig(server.base, api_server))
        outputs_file = tmp_path / "outputs.json"
        outputs_file.write_text(json.dumps(world.outputs))
        stdout, stderr = io.StringIO(), io.StringIO()
        environment = Environment(az=world.az, http=lambda: loopback_session(server.base), stdout=stdout, stderr=stderr)
        argv = ["dev", "--kubeconfig", str(config)] + (["--outputs", str(outputs_file)] if outputs else []) + list(args)
        code = main(argv, environment)
        return Run(code, stdout.getvalue(), stderr.getvalue())

    return run
