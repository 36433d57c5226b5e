"""Pulumi Deployments settings for one stack of argocd-aks-wi, with no stored secret, and its lifecycle.

Each deployment gets a short-lived OIDC token from Pulumi Cloud and exchanges it for an Entra token of the
CI identity (operation_context.oidc.azure). The pre-run commands then log the Azure CLI in with the same
token, because the program reaches Azure DevOps through the CLI login; kubelogin reads the token file itself
(workloadidentity), so the cluster does not depend on the CLI's cached assertion. Pull requests get a preview,
pushes to the branch an update.

Opt-in, each off unless configured (docs/ci.md says what each costs):
  driftSchedule     a DriftSchedule (cron), with auto-remediation off by default on production stacks;
  ttlExpiresAt      a TtlSchedule that destroys a short-lived stack at that time (refused on production);
  reviewStackTemplate  this stack becomes the template of one review stack per pull request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_pulumiservice as pulumiservice
import yaml

KUBELOGIN_VERSION = "v0.2.19"
VCS_PROVIDERS = ("github", "azure_devops")
# deployments: Pulumi Deployments' own OIDC exchange (operation_context.oidc.azure);
# esc: the stack imports esc/azure-oidc.yaml, whose subject does not name the stack (needed for review stacks).
AZURE_LOGINS = ("deployments", "esc")
# Where Pulumi Deployments puts the deployment's raw OIDC token (Pulumi Deployments OIDC docs).
OIDC_TOKEN_FILE = "/mnt/pulumi/pulumi.oidc"
# The repository this project lives in: the program's folder (repoDir) is taken relative to it.
REPOSITORY_ROOT = Path(__file__).resolve().parents[1]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_REPOSITORY = re.compile(r"^[^/\s]+/[^/\s]+$")
_CRON = re.compile(r"^\S+( \S+){4}$")
_UTC_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


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
    azure_login: str


@dataclass(frozen=True)
class Lifecycle:
    """What Pulumi Cloud does with the stack on its own: drift runs, expiry, review stacks. All opt-in."""

    production: bool
    drift_cron: str
    """Cron expression of the drift detection runs; empty: no DriftSchedule."""
    drift_auto_remediate: bool
    ttl_expires_at: str
    """UTC time (YYYY-MM-DDTHH:MM:SSZ) at which the stack is destroyed; empty: no TtlSchedule."""
    ttl_delete_stack: bool
    review_stack_template: bool


def _guid(config: pulumi.Config, key: str) -> str:
    value = config.require(key)
    if not _GUID.match(value):
        raise ConfigError(f"config {key}={value!r} is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    return value


def _choice(config: pulumi.Config, key: str, default: str, choices: tuple[str, ...]) -> str:
    value = config.get(key) or default
    if value not in choices:
        raise ConfigError(f"config {key}={value!r} must be one of {', '.join(choices)}")
    return value


def read_target(config: pulumi.Config) -> Target:
    vcs_provider = _choice(config, "vcsProvider", "github", VCS_PROVIDERS)
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
        azure_login=_choice(config, "azureLogin", "deployments", AZURE_LOGINS),
    )


def read_lifecycle(config: pulumi.Config, target: Target) -> Lifecycle:
    production = config.get_bool("production")
    production = True if production is None else production
    drift_cron = config.get("driftSchedule") or ""
    if drift_cron and not _CRON.match(drift_cron):
        raise ConfigError(f"config driftSchedule={drift_cron!r} is not a cron expression of five fields (e.g. '0 */6 * * *')")
    auto_remediate = config.get_bool("driftAutoRemediate")
    if auto_remediate and not drift_cron:
        raise ConfigError("config driftAutoRemediate=true needs driftSchedule (a cron expression) to run on")
    ttl_expires_at = config.get("ttlExpiresAt") or ""
    if ttl_expires_at and not _UTC_TIMESTAMP.match(ttl_expires_at):
        raise ConfigError(f"config ttlExpiresAt={ttl_expires_at!r} must be a UTC time like 2027-01-31T18:00:00Z")
    if ttl_expires_at and production:
        raise ConfigError("config ttlExpiresAt destroys the stack at that time; set production: false for a short-lived stack")
    ttl_delete_stack = config.get_bool("ttlDeleteStack") or False
    if ttl_delete_stack and not ttl_expires_at:
        raise ConfigError("config ttlDeleteStack=true needs ttlExpiresAt")
    review_stack_template = config.get_bool("reviewStackTemplate") or False
    if review_stack_template and production:
        raise ConfigError("config reviewStackTemplate=true copies this stack's config into every pull request's stack; "
                          "use a dedicated template stack (by convention `pr`) with production: false")
    if review_stack_template and target.azure_login != "esc":
        # Entra matches a federated credential's subject exactly, and a Deployments token's subject names the
        # stack, which is new for every pull request. The ESC environment's subject names only the environment.
        raise ConfigError("config reviewStackTemplate=true needs azureLogin: esc (each review stack has a new name, "
                          "which no federated credential on the Deployments subject can match)")
    return Lifecycle(
        production=production,
        drift_cron=drift_cron,
        # Remediation runs `pulumi up` unattended: on production only when asked for.
        drift_auto_remediate=(not production) if auto_remediate is None else auto_remediate,
        ttl_expires_at=ttl_expires_at,
        ttl_delete_stack=ttl_delete_stack,
        review_stack_template=review_stack_template,
    )


def check_destroyable(target: Target, lifecycle: Lifecycle, repository_root: Path) -> None:
    """A stack Pulumi Cloud destroys on its own (a TTL, or the review stacks copied from a template) must not protect
    its resources: the engine refuses to delete a protected resource, so every automatic destroy would fail and leave
    the AKS cluster running. Only the stack file's explicit "false" is accepted (protectResources' default, auto,
    protects every stack but dev)."""
    if lifecycle.ttl_expires_at:
        why = "ttlExpiresAt destroys the stack at that time"
    elif lifecycle.review_stack_template:
        why = "reviewStackTemplate copies this stack's config into review stacks, destroyed when their pull request closes"
    else:
        return
    stack_file = repository_root / target.repo_dir / f"Pulumi.{target.stack}.yaml"
    key = f"{target.project}:protectResources"
    stack_config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {} if stack_file.is_file() else {}
    value = stack_config.get(key)
    if str(value).lower() != "false":
        raise ConfigError(
            f"config {why}, but {stack_file.relative_to(repository_root)} "
            f"{'sets ' + key + ' = ' + repr(value) if value is not None else 'does not set ' + key}: set it to \"false\" "
            "there, or the engine refuses to delete the protected cluster and identity and the destroy fails"
        )


def pre_run_commands(kubelogin_version: str, azure_login: str) -> list[str]:
    """Shell commands run before every operation; ARM_* are set by Deployments from the OIDC settings."""
    # kubelogin must be on PATH for the program's kubeconfig; kubectl itself is not needed.
    install = (f"az aks install-cli --kubelogin-version {kubelogin_version}"
               " --kubelogin-install-location /usr/local/bin/kubelogin --install-location /tmp/kubectl")
    if azure_login == "esc":
        # The ESC environment hands every tool its own OIDC variables; nothing reads an Azure CLI login.
        return [install]
    return [
        install,
        # For the azuredevops provider, which falls back to the Azure CLI when ARM_USE_OIDC is not set.
        'az login --service-principal --username "$ARM_CLIENT_ID" --tenant "$ARM_TENANT_ID"'
        f' --federated-token "$(cat {OIDC_TOKEN_FILE})" --output none',
        'az account set --subscription "$ARM_SUBSCRIPTION_ID"',
    ]


def kubelogin_environment(target: Target) -> dict[str, str]:
    """kubelogin's workload-identity login (AAD_LOGIN_METHOD overrides the kubeconfig's --login): it reads the
    deployment's token file itself instead of the Azure CLI's copy of it. None of these is a secret."""
    return {
        "AAD_LOGIN_METHOD": "workloadidentity",
        "AZURE_CLIENT_ID": target.client_id,
        "AZURE_TENANT_ID": target.tenant_id,
        "AZURE_FEDERATED_TOKEN_FILE": OIDC_TOKEN_FILE,
    }


def operation_context(target: Target) -> pulumiservice.DeploymentSettingsOperationContextArgs:
    if target.azure_login == "esc":
        return pulumiservice.DeploymentSettingsOperationContextArgs(
            pre_run_commands=pre_run_commands(KUBELOGIN_VERSION, target.azure_login),
        )
    return pulumiservice.DeploymentSettingsOperationContextArgs(
        oidc=pulumiservice.OperationContextOIDCArgs(
            azure=pulumiservice.AzureOIDCConfigurationArgs(
                client_id=target.client_id,
                tenant_id=target.tenant_id,
                subscription_id=target.subscription_id,
            ),
        ),
        environment_variables=kubelogin_environment(target),
        pre_run_commands=pre_run_commands(KUBELOGIN_VERSION, target.azure_login),
    )


config = pulumi.Config()
target = read_target(config)
lifecycle = read_lifecycle(config, target)
check_destroyable(target, lifecycle, REPOSITORY_ROOT)

settings = pulumiservice.DeploymentSettings(
    "deployment-settings",
    organization=target.organization,
    project=target.project,
    stack=target.stack,
    operation_context=operation_context(target),
    source_context=pulumiservice.DeploymentSettingsSourceContextArgs(
        git=pulumiservice.DeploymentSettingsGitSourceArgs(branch=target.branch_ref, repo_dir=target.repo_dir),
    ),
    # `vcs` replaces the deprecated `github` block (which also has pull_request_template) and serves Azure DevOps.
    vcs=pulumiservice.DeploymentSettingsVcsArgs(
        provider=target.vcs_provider,
        repository=target.repository,
        preview_pull_requests=True,
        # A review-stack template is only copied, never deployed itself.
        deploy_commits=not lifecycle.review_stack_template,
        pull_request_template=lifecycle.review_stack_template,
    ),
)

# Schedules start deployments, which run with the settings above: create them after the settings.
after_settings = pulumi.ResourceOptions(depends_on=[settings])
if lifecycle.drift_cron:
    pulumiservice.DriftSchedule(
        "drift-schedule",
        organization=target.organization,
        project=target.project,
        stack=target.stack,
        schedule_cron=lifecycle.drift_cron,
        auto_remediate=lifecycle.drift_auto_remediate,
        opts=after_settings,
    )
if lifecycle.ttl_expires_at:
    pulumiservice.TtlSchedule(
        "ttl-schedule",
        organization=target.organization,
        project=target.project,
        stack=target.stack,
        timestamp=lifecycle.ttl_expires_at,
        delete_after_destroy=lifecycle.ttl_delete_stack,
        opts=after_settings,
    )

pulumi.export("deploymentStack", f"{target.organization}/{target.project}/{target.stack}")
