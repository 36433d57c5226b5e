"""The toolchain keeps its promises: uv runs the program from requirements.txt, the type checker can fail,
and Renovate finds every pin it is meant to move, with the argo-cd chart's workload-identity floor enforced
on whatever it writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RENOVATE = ROOT / ".github" / "renovate.json"
SKIPPED_DIRS = {".git", ".venv", "venv", ".uv", "out", "__pycache__", ".ruff_cache", ".hypothesis"}


def project_files() -> list[str]:
    """Repository-relative paths of the project's files (no virtualenvs, caches or build output)."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS and not name.endswith(".egg-info")]
        found += [str((Path(folder) / name).relative_to(ROOT)) for name in files]
    return sorted(found)


def renovate_pins() -> dict[str, list[tuple[str, str]]]:
    """What each regex manager of the Renovate config extracts: depName -> [(file, currentValue)]."""
    config = json.loads(RENOVATE.read_text())
    pins: dict[str, list[tuple[str, str]]] = {}
    for manager in config["customManagers"]:
        # Renovate's patterns are JavaScript regexes between slashes; named groups are spelt (?<name>...).
        file_patterns = [re.compile(pattern.strip("/")) for pattern in manager["managerFilePatterns"]]
        match_strings = [re.compile(text.replace("(?<", "(?P<")) for text in manager["matchStrings"]]
        for path in project_files():
            if any(pattern.search(path) for pattern in file_patterns):
                text = (ROOT / path).read_text()
                for match_string in match_strings:
                    for match in match_string.finditer(text):
                        pins.setdefault(manager["depNameTemplate"], []).append((path, match["currentValue"]))
    return pins


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.lstrip("v").split("."))


@pytest.fixture(scope="module")
def pins() -> dict[str, list[tuple[str, str]]]:
    return renovate_pins()


# --- uv runs the program ----------------------------------------------------------------------------------


def test_pulumi_runs_the_program_with_uv_in_the_scripts_virtualenv() -> None:
    options = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]["options"]
    assert options == {"toolchain": "uv", "virtualenv": ".venv"}


def test_uv_reads_the_program_dependencies_from_requirements_txt() -> None:
    # `pulumi install` runs `uv sync`, which needs a [project]; requirements.txt stays the one list of pins.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["dynamic"] == ["dependencies"]
    assert "dependencies" not in pyproject["project"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
    assert {"file": "requirements.txt"} in pyproject["tool"]["uv"]["cache-keys"]


# --- the type checker can fail ----------------------------------------------------------------------------

WRONG_PROVIDER_CALLS = {
    "an int where the provider wants a str": 'resources.ResourceGroup("rg", location=42)\n',
    "a misspelt keyword": 'resources.ResourceGroup("rg", locaton="westeurope")\n',
}


def pyrefly(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """pyrefly as scripts/test runs it (this project's settings), on a program of its own."""
    program = tmp_path / "program.py"
    program.write_text("import pulumi_azure_native.resources as resources\n\n" + body)
    # The project's settings matter: without a configuration pyrefly uses a lenient preset that lets both
    # wrong calls below pass.
    config = ROOT / "pyproject.toml"
    return subprocess.run(
        [sys.executable, "-m", "pyrefly", "check", "--config", str(config), "--python-interpreter-path", sys.executable,
         str(program)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
    )


def test_type_checker_passes_a_correct_provider_call(tmp_path: Path) -> None:
    result = pyrefly(tmp_path, 'resources.ResourceGroup("rg", location="westeurope")\n')
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("body", WRONG_PROVIDER_CALLS.values(), ids=WRONG_PROVIDER_CALLS.keys())
def test_type_checker_fails_on_a_wrong_argument_to_a_provider_resource(tmp_path: Path, body: str) -> None:
    result = pyrefly(tmp_path, body)
    assert result.returncode != 0
    assert "ResourceGroup.__init__" in result.stdout + result.stderr


# --- Renovate finds every pin -----------------------------------------------------------------------------


def test_renovate_moves_the_chart_default_and_every_stack_files_chart(pins: dict[str, list[tuple[str, str]]]) -> None:
    stacks_with_a_chart = {
        path for path in project_files()
        if re.fullmatch(r"Pulumi\.[^/]+\.yaml", path) and "argocdChartVersion:" in (ROOT / path).read_text()
    }
    assert {path for path, _ in pins["argo-cd"]} == {"Pulumi.yaml", *stacks_with_a_chart}


def test_every_chart_renovate_can_write_is_checked_against_the_workload_identity_floor(
    pins: dict[str, list[tuple[str, str]]],
) -> None:
    sys.path.insert(0, str(ROOT / "policy"))
    try:
        from rules import MIN_SAFE_ARGO_CD_CHART
    finally:
        sys.path.remove(str(ROOT / "policy"))
    for path, chart in pins["argo-cd"]:
        assert version(chart) >= version(MIN_SAFE_ARGO_CD_CHART), f"{path}: argo-cd chart {chart}"


@pytest.mark.parametrize(
    ("dependency", "files"),
    [
        ("Azure/kubelogin", {
            ".github/workflows/pulumi.yml", ".github/workflows/e2e.yml", "azure-pipelines.yml", "deployments/__main__.py",
        }),
        ("uv", {"scripts/env.sh", ".github/workflows/pulumi.yml", ".github/workflows/e2e.yml", "azure-pipelines.yml"}),
        ("pulumi/pulumi", {".github/workflows/pulumi.yml", ".github/workflows/e2e.yml", "azure-pipelines.yml"}),
    ],
)
def test_renovate_finds_each_tool_pin_and_they_agree(
    pins: dict[str, list[tuple[str, str]]], dependency: str, files: set[str],
) -> None:
    assert {path for path, _ in pins[dependency]} == files
    assert len({value for _, value in pins[dependency]}) == 1, pins[dependency]


def test_the_pulumi_cli_is_at_least_the_sdk_it_runs(pins: dict[str, list[tuple[str, str]]]) -> None:
    [sdk] = re.findall(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    [(_, cli)] = {(None, value) for _, value in pins["pulumi/pulumi"]}
    assert version(cli) >= version(sdk)
