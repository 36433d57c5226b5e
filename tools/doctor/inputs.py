"""What the doctor knows about the stack: its outputs, from the Pulumi CLI or from a JSON file."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.doctor.report import CannotRunError

# Outputs without which no link can be checked. The rest have a sensible absence (no hydrator, no bootstrap).
REQUIRED = (
    "clusterName", "clusterResourceGroup", "identityClientId", "identityName", "identityResourceGroup",
    "tenantId", "argocdNamespace", "azureDevOpsOrgUrl",
)


@dataclass(frozen=True)
class StackOutputs:
    """The stack outputs the doctor relies on (exported by __main__.py)."""

    stack: str | None
    cluster_name: str
    cluster_resource_group: str
    identity_client_id: str
    identity_name: str
    identity_resource_group: str
    tenant_id: str
    argocd_namespace: str
    organization_url: str
    oidc_issuer_url: str | None = None
    identity_principal_id: str | None = None
    install_method: str = "helm"
    repo_server_service_account: str | None = None
    commit_server_service_account: str | None = None
    """None unless the Source Hydrator is on."""
    read_repositories: tuple[str, ...] = ()
    write_repositories: tuple[str, ...] = ()
    """Hydration targets the commit-server pushes to."""
    bootstrap_application: str | None = None

    @property
    def organization(self) -> str:
        return self.organization_url.rstrip("/").rsplit("/", 1)[-1]

    def pulumi(self, command: str) -> str:
        """A Pulumi command for this stack, for fixes (`pulumi up -s dev`)."""
        return f"pulumi {command} -s {self.stack}" if self.stack else f"pulumi {command}"

    def config_set(self, key: str, value: str) -> str:
        stack = f" -s {self.stack}" if self.stack else ""
        return f"pulumi config set {key} {value}{stack} && {self.pulumi('up')}"


def from_mapping(outputs: dict[str, Any], stack: str | None) -> StackOutputs:
    missing = [key for key in REQUIRED if not outputs.get(key)]
    if missing:
        raise CannotRunError(
            f"the stack outputs lack {', '.join(missing)}: run `pulumi up` with this version of the program "
            "(it exports them), or pass them in a file with --outputs"
        )

    def text(key: str) -> str | None:
        value = outputs.get(key)
        return str(value) if value else None

    def urls(key: str) -> tuple[str, ...]:
        value = outputs.get(key) or []
        if not isinstance(value, list) or not all(isinstance(url, str) for url in value):
            raise CannotRunError(f"stack output {key} must be a list of repository URLs")
        return tuple(value)

    read = urls("readRepositories")
    if not read:
        # Stacks built before readRepositories existed export repositoryUrls, which may hold template prefixes.
        read = tuple(url for url in urls("repositoryUrls") if "/_git/" in url and not url.endswith("/"))
    return StackOutputs(
        stack=stack,
        cluster_name=str(outputs["clusterName"]),
        cluster_resource_group=str(outputs["clusterResourceGroup"]),
        identity_client_id=str(outputs["identityClientId"]),
        identity_name=str(outputs["identityName"]),
        identity_resource_group=str(outputs["identityResourceGroup"]),
        tenant_id=str(outputs["tenantId"]),
        argocd_namespace=str(outputs["argocdNamespace"]),
        organization_url=str(outputs["azureDevOpsOrgUrl"]),
        oidc_issuer_url=text("oidcIssuerUrl"),
        identity_principal_id=text("identityPrincipalId"),
        install_method=text("argocdInstallMethod") or "helm",
        repo_server_service_account=text("repoServerServiceAccount"),
        commit_server_service_account=text("commitServerServiceAccount"),
        read_repositories=read,
        write_repositories=urls("writeRepositories"),
        bootstrap_application=text("bootstrapApplication"),
    )


def read_outputs_file(path: Path, stack: str | None) -> StackOutputs:
    try:
        outputs = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CannotRunError(f"cannot read {path}: {error.strerror}") from None
    except ValueError:
        raise CannotRunError(f"{path} is not JSON: write it with `pulumi stack output --json > {path.name}`") from None
    if not isinstance(outputs, dict):
        raise CannotRunError(f"{path} must hold one JSON object, as `pulumi stack output --json` prints")
    return from_mapping(outputs, stack)


def read_stack_outputs(stack: str | None, cwd: Path) -> StackOutputs:
    """`pulumi stack output --json` of the stack (the selected one when stack is None)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise CannotRunError("the Pulumi CLI is not on the PATH: install it, or pass the outputs with --outputs FILE.json")
    command = [pulumi, "stack", "output", "--json"] + (["-s", stack] if stack else [])
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CannotRunError(f"`pulumi stack output` did not run: {error}") from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise CannotRunError(f"cannot read the outputs of stack {stack or '(selected)'}: {last}")
    try:
        outputs = json.loads(done.stdout or "{}")
    except ValueError:
        raise CannotRunError("`pulumi stack output --json` did not print JSON") from None
    return from_mapping(outputs, stack)
