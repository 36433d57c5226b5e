"""Azure facts through the Azure CLI the person already logged in with.

The CLI rather than the azure-mgmt SDKs: `az login` is a prerequisite anyway, the doctor needs three read
calls, and azure-mgmt-containerservice plus azure-mgmt-msi would add tens of megabytes for them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from tools.doctor.report import CannotRunError

AZURE_DEVOPS_RESOURCE = "499b84ac-1321-427f-aa17-267ca6975798"
"""Azure DevOps' application ID in Entra: the resource (scope prefix) of every Azure DevOps token."""

Runner = Callable[[list[str]], str]
"""Runs `az <args>` and returns its standard output; raises AzError when it fails."""


class AzError(Exception):
    """An az command failed; the message is the CLI's own last error line."""


def subprocess_runner(args: list[str]) -> str:
    az = shutil.which("az")
    if az is None:
        raise CannotRunError("the Azure CLI (az) is not on the PATH: install it and run `az login`")
    try:
        done = subprocess.run([az, *args], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise AzError(str(error)) from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise AzError(lines[-1] if lines else f"az {args[0]} failed")
    return done.stdout


class AzureCli:
    def __init__(self, runner: Runner = subprocess_runner) -> None:
        self._run = runner
        self._devops_token: str | None = None
        self._devops_token_asked = False

    def _json(self, args: list[str]) -> Any:
        return json.loads(self._run([*args, "--output", "json"]) or "null")

    def ensure_logged_in(self) -> dict[str, Any]:
        try:
            account = self._json(["account", "show"])
        except AzError:
            raise CannotRunError("not logged in to Azure: run `az login` (and `az account set --subscription <id>`)") from None
        return account if isinstance(account, dict) else {}

    def cluster(self, resource_group: str, name: str) -> dict[str, Any]:
        try:
            found = self._json(["aks", "show", "--resource-group", resource_group, "--name", name])
        except AzError as error:
            raise CannotRunError(
                f"cannot read AKS cluster {resource_group}/{name} ({error}): is the subscription of the stack selected? "
                "`az account set --subscription <id>`"
            ) from None
        return found if isinstance(found, dict) else {}

    def federated_credentials(self, identity_name: str, resource_group: str) -> list[dict[str, Any]] | str:
        """The identity's federated credentials, or the CLI's error when they cannot be read."""
        try:
            found = self._json([
                "identity", "federated-credential", "list", "--identity-name", identity_name, "--resource-group", resource_group,
            ])
        except AzError as error:
            return str(error)
        return [item for item in found or [] if isinstance(item, dict)]

    def app_federated_credentials(self, app_id: str) -> list[dict[str, Any]] | str:
        """An app registration's federated credentials (Entra SSO), or the CLI's error (it needs Graph read)."""
        try:
            found = self._json(["ad", "app", "federated-credential", "list", "--id", app_id])
        except AzError as error:
            return str(error)
        return [item for item in found or [] if isinstance(item, dict)]

    def devops_token(self) -> str | None:
        """The logged-in person's own Azure DevOps token (to read what the identity may not), or None.
        Asked once per run and held in memory only."""
        if not self._devops_token_asked:
            self._devops_token_asked = True
            try:
                found = self._json(["account", "get-access-token", "--resource", AZURE_DEVOPS_RESOURCE])
            except AzError:
                found = None
            token = found.get("accessToken") if isinstance(found, dict) else None
            self._devops_token = token if isinstance(token, str) and token else None
        return self._devops_token
