"""Pulumi Deployments settings for one stack of argocd-aks-wi, with no stored secret.

Each deployment gets a short-lived OIDC token from Pulumi Cloud and exchanges it for an Entra token of the
CI identity (operation_context.oidc.azure). The pre-run commands then log the Azure CLI in with the same
token, because the program reaches Azure DevOps through the CLI login and the cluster through
`kubelogin get-token --login azurecli`. Pull requests get a preview, pushes to the branch an update.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_pulumiservice as pulumiservice

KUBELOGIN_VERSION = "v0.2.19"
VCS_PROVIDERS = ("github", "azure_devops")
# Where Pulumi Deployments puts the deployment's raw OIDC token (Pulumi Deployments OIDC docs).
OIDC_TOKEN_FILE = "/mnt/pulumi/pulumi.oidc"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_REPOSITORY = re.compile(r"^[^/\s]+/[^/\s]+$")


class ConfigError(ValueError):
    """A configuration value of this project is missing or malformed."""


@dataclass(frozen=True)
class Target:
    """The stack to deploy, where its source lives and which Entra identity deploys it."""

    organization: str
    project: str
    stack: str
    client_id: str
    tenant_id: str
    subscription_id: str
    vcs_provider: str
    repository: str
    branch_ref: str
    repo_dir: str


def _guid(config: pulumi.Config, key: str) -> str:
    value = config.require(key)
    if not _GUID.match(value):
        raise ConfigError(f"config {key}={value!r} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return value


def read_target(config: pulumi.Config) -> Target:
    vcs_provider = config.get("vcsProvider") or "github"
    if vcs_provider not in VCS_PROVIDERS:
        raise ConfigError(f"config vcsProvider={vcs_provider!r} must be one of {', '.join(VCS_PROVIDERS)}")
    repository = config.require("repository")
    if not _REPOSITORY.match(repository):
        # GitHub: owner/repo; Azure DevOps: project/repo (Pulumi's VCS integration names the organisation).
        raise ConfigError(f"config repository={repository!r} must look like owner/repo (GitHub) or project/repo (Azure DevOps)")
    branch = config.get("branch") or "main"
    return Target(
        organization=config.require("organization"),
        project=config.get("project") or "argocd-aks-wi",
        stack=config.require("stack"),
        client_id=_guid(config, "azureClientId"),
        tenant_id=_guid(config, "azureTenantId"),
        subscription_id=_guid(config, "azureSubscriptionId"),
        vcs_provider=vcs_provider,
        repository=repository,
        # Deployments source settings name the branch as a full ref.
        branch_ref=branch if branch.startswith("refs/") else f"refs/heads/{branch}",
        repo_dir=config.get("repoDir") or ".",
    )


def pre_run_commands(kubelogin_version: str) -> list[str]:
    """Shell commands run before every operation; ARM_* are set by Deployments from the OIDC settings."""
    return [
        # kubelogin must be on PATH for the program's kubeconfig; kubectl itself is not needed.
        f"az aks install-cli --kubelogin-version {kubelogin_version}"
        " --kubelogin-install-location /usr/local/bin/kubelogin --install-location /tmp/kubectl",
        'az login --service-principal --username "$ARM_CLIENT_ID" --tenant "$ARM_TENANT_ID"'
        f' --federated-token "$(cat {OIDC_TOKEN_FILE})" --output none',
        'az account set --subscription "$ARM_SUBSCRIPTION_ID"',
    ]


target = read_target(pulumi.Config())

settings = pulumiservice.DeploymentSettings(
    "deployment-settings",
    organization=target.organization,
    project=target.project,
    stack=target.stack,
    operation_context=pulumiservice.DeploymentSettingsOperationContextArgs(
        oidc=pulumiservice.OperationContextOIDCArgs(
            azure=pulumiservice.AzureOIDCConfigurationArgs(
                client_id=target.client_id,
                tenant_id=target.tenant_id,
                subscription_id=target.subscription_id,
            ),
        ),
        pre_run_commands=pre_run_commands(KUBELOGIN_VERSION),
    ),
    source_context=pulumiservice.DeploymentSettingsSourceContextArgs(
        git=pulumiservice.DeploymentSettingsGitSourceArgs(branch=target.branch_ref, repo_dir=target.repo_dir),
    ),
    # `vcs` replaces the deprecated `github` block and also serves Azure DevOps repositories.
    vcs=pulumiservice.DeploymentSettingsVcsArgs(
        provider=target.vcs_provider,
        repository=target.repository,
        preview_pull_requests=True,
        deploy_commits=True,
    ),
)

pulumi.export("deploymentStack", f"{target.organization}/{target.project}/{target.stack}")
