"""The project's config schema (Pulumi.yaml): every key the program reads, and the one place its default lives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"


def _project(project_file: Path = PROJECT_FILE) -> dict[str, Any]:
    return yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}


def declared_config(project_file: Path = PROJECT_FILE) -> dict[str, dict[str, Any]]:
    """Each declared key with its declaration (type, default, description), in the file's order."""
    return dict(_project(project_file).get("config") or {})


PROJECT: str = _project()["name"]
"""The project's name, which is also the namespace of its config keys (`argocd-aks-wi:nodeCount`)."""
