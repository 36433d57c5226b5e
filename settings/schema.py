"""The project's config schema (Pulumi.yaml): every key the program reads, and the one place its default lives."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml

PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"


@functools.cache
def _parsed(project_file: Path) -> dict[str, Any]:
    # Parsed once per process: the pure-Python YAML parser takes about 0.1 s for this file, and the program,
    # the offline engine and the tests all ask for the schema again and again.
    return yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}


def _project(project_file: Path = PROJECT_FILE) -> dict[str, Any]:
    return copy.deepcopy(_parsed(project_file))  # callers get their own copy: defaults include lists


def declared_config(project_file: Path = PROJECT_FILE) -> dict[str, dict[str, Any]]:
    """Each declared key with its declaration (type, default, description), in the file's order."""
    return dict(_project(project_file).get("config") or {})


PROJECT: str = _project()["name"]
"""The project's name, which is also the namespace of its config keys (`argocd-aks-wi:nodeCount`)."""
