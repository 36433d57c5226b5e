"""Pulumi.yaml refuses a CLI too old for what the program relies on, instead of letting it run without it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from semver import Version

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def admits(version_range: str, version: str) -> bool:
    """blang/semver's range grammar, which the CLI uses: `||` between alternatives, spaces between conditions."""
    return any(
        all(Version.parse(version).match(condition) for condition in alternative.split())
        for alternative in version_range.split("||")
    )


def required_range() -> str:
    return str(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["requiredPulumiVersion"])


def test_a_cli_whose_error_hooks_miss_ordinary_create_failures_is_refused() -> None:
    """Error hooks see a plain failed create (Azure DevOps' VS403283, which the entitlement retries) only from CLI
    3.244.0 (pulumi/pulumi#23347): an older CLI would skip the retry without a word."""
    assert not admits(required_range(), "3.243.9")
    assert not admits(required_range(), "3.219.0")
    assert admits(required_range(), "3.244.0")


def test_the_cli_the_workflows_install_is_admitted() -> None:
    pins = {pin for path in WORKFLOWS for pin in re.findall(r"pulumi-version: ([0-9.]+)", path.read_text())}
    assert pins and all(admits(required_range(), pin) for pin in pins)
