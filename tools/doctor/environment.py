"""What the doctor talks to; tests replace each part with a loopback fake."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

import requests

from tools.doctor.azure_cli import Runner, subprocess_runner


@dataclass
class Environment:
    az: Runner = subprocess_runner
    """Runs the Azure CLI."""
    http: Callable[[], requests.Session] = requests.Session
    """Makes the HTTP session for Entra and Azure DevOps."""
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
