"""tools/bench/fresh_clone checks its arguments before it clones or installs anything. A benchmark's own test, outside
the default run: `python -m pytest tools/bench/tests` (tools/bench/run runs it first)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = ROOT / "tools" / "bench" / "fresh_clone"


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), *argv], capture_output=True, text=True, timeout=30, check=False)


def test_help_prints_the_usage_and_the_targets() -> None:
    done = run("--help")
    assert done.returncode == 0, done.stderr
    assert "tools/bench/fresh_clone [--source DIR]" in done.stdout
    assert "plan <= 15 s, test <= 40 s, ci <= 120 s" in done.stdout
    assert "#" not in done.stdout and "set -euo" not in done.stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["--bogus"], "unknown argument: --bogus (--help lists them)"),
    (["--repeat", "0"], "--repeat takes a whole number of at least 1, not '0'"),
    (["--repeat", "two"], "--repeat takes a whole number of at least 1, not 'two'"),
    (["--repeat"], "--repeat needs a value (--help lists them)"),
    (["--settle", "--only"], "--only needs a value (--help lists them)"),
    (["--only", "test", "--only", "lint"], "--only takes plan, test or ci, not 'lint'"),
    (["--only", ""], "--only takes plan, test or ci, not ''"),
])
def test_a_bad_argument_exits_2_before_any_clone(argv: list[str], message: str) -> None:
    done = run(*argv)
    assert (done.returncode, done.stderr.strip(), done.stdout) == (2, message, "")
