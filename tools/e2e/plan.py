"""What one end-to-end run deploys: its environment, its throw-away stack's name and config, per variant.

No Azure call here: everything is derived from environment variables, so it is tested offline.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

PROJECT = "argocd-aks-wi"
VARIANTS = ("helm", "extension", "fleet")
PREFIX = "ARGOCD_AKS_WI_E2E_"
REQUIRED = {
    "SUBSCRIPTION_ID": "the Azure subscription the throw-away stack deploys into",
    "ORG_URL": "the Azure DevOps organisation, https://dev.azure.com/<organisation>",
    "PROJECT": "the Azure DevOps project of the two repositories",
    "REPOSITORY": "a private repository whose BOOTSTRAP_PATH holds manifests Argo CD can sync",
    "SECOND_REPOSITORY": "another private repository of the project, added in place to prove nothing is replaced",
}
OPTIONAL = {
    "BOOTSTRAP_PATH": ("the folder of REPOSITORY the bootstrap Application syncs", "."),
    "LOCATION": ("the Azure region", "westeurope"),
    "SPOKE_CLUSTER": ("<resourceGroup>/<name> of an AKS cluster with Azure RBAC the fleet variant adopts", ""),
}


class E2eSetupError(ValueError):
    """The environment does not say where to run: nothing was created."""


@dataclass(frozen=True)
class E2eEnvironment:
    """Where a run deploys, from ARGOCD_AKS_WI_E2E_* variables."""

    subscription_id: str
    organization_url: str
    project: str
    repository: str
    second_repository: str
    bootstrap_path: str
    location: str
    spoke_cluster: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], variant: str) -> E2eEnvironment:
        missing = [f"{PREFIX}{name}" for name in REQUIRED if not environ.get(f"{PREFIX}{name}", "").strip()]
        if variant == "fleet" and not environ.get(f"{PREFIX}SPOKE_CLUSTER", "").strip():
            missing.append(f"{PREFIX}SPOKE_CLUSTER")
        if missing:
            raise E2eSetupError(f"set {', '.join(missing)} to run against a real subscription (scripts/e2e --help says what each is)")
        value = {name: environ.get(f"{PREFIX}{name}", "").strip() for name in [*REQUIRED, *OPTIONAL]}
        for name, (_, default) in OPTIONAL.items():
            value[name] = value[name] or default
        spoke = value["SPOKE_CLUSTER"]
        if spoke and spoke.count("/") != 1:
            raise E2eSetupError(f"{PREFIX}SPOKE_CLUSTER = {spoke!r}: expected <resourceGroup>/<name>")
        return cls(
            subscription_id=value["SUBSCRIPTION_ID"], organization_url=value["ORG_URL"].rstrip("/"),
            project=value["PROJECT"], repository=value["REPOSITORY"], second_repository=value["SECOND_REPOSITORY"],
            bootstrap_path=value["BOOTSTRAP_PATH"], location=value["LOCATION"], spoke_cluster=spoke,
        )


def describe_variables() -> str:
    required = [f"{PREFIX}{name}: {what}" for name, what in REQUIRED.items()]
    optional = [f"{PREFIX}{name}: {what} (default {default!r})" for name, (what, default) in OPTIONAL.items()]
    return "; ".join(required + optional)


def stack_name(variant: str, now: datetime | None = None, suffix: str | None = None) -> str:
    """Unique per run and recognisable as throw-away: e2e-<variant>-<UTC time>-<random>."""
    moment = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M")
    return f"e2e-{variant}-{moment}-{suffix or secrets.token_hex(2)}"


def stack_config(environment: E2eEnvironment, variant: str) -> dict[str, str]:
    """The throw-away stack's config, every value as the CLI hands it to the program (lists and objects as JSON).

    Unprotected, so that the run can destroy it; the bootstrap Application on, so that `pulumi up` itself waits
    until Argo CD has synced from the private repository."""
    if variant not in VARIANTS:
        raise E2eSetupError(f"variant {variant!r}: expected one of {', '.join(VARIANTS)}")
    config = {
        "azure-native:subscriptionId": environment.subscription_id,
        "location": environment.location,
        "protectResources": "false",
        "azureDevOpsOrgUrl": environment.organization_url,
        "azureDevOpsProject": environment.project,
        "repositories": json.dumps([environment.repository]),
        "bootstrapApplication": "true",
        "bootstrapPath": environment.bootstrap_path,
        "argocdInstallMethod": "extension" if variant == "extension" else "helm",
        "nodeCount": "2",
    }
    if variant == "extension":
        # The extension's high-availability mode wants four nodes; two are enough to prove the chain.
        config["extensionHighAvailability"] = "false"
    if variant == "fleet":
        group, name = environment.spoke_cluster.split("/")
        config["spokes"] = json.dumps([
            {"name": "adopted", "existing": {"resourceGroup": group, "clusterName": name}, "bootstrap": True},
        ])
    return {key if ":" in key else f"{PROJECT}:{key}": value for key, value in config.items()}


def with_second_repository(config: Mapping[str, str], environment: E2eEnvironment) -> dict[str, str]:
    """The in-place change: the same config with the second repository added."""
    return {**config, f"{PROJECT}:repositories": json.dumps([environment.repository, environment.second_repository])}
