"""Every doctor test runs the real CLI against the loopback fakes in fakes.py, with a World it may break."""

from __future__ import annotations

import io
import json
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
        return [line.strip() for line in self.out.splitlines()]

    def finding(self, summary: str) -> list[str]:
        """The finding's line and its cause and fix lines, as printed."""
        lines = self.lines()
        for index, line in enumerate(lines):
            if line[2:] == summary:
                following = [rest for rest in lines[index + 1:index + 3] if rest.startswith(("cause:", "fix:"))]
                return [line, *following]
        raise AssertionError(f"no finding {summary!r} in:\n{self.out}")


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
