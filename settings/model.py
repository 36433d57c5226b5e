"""The validated settings: frozen values the program is built from. Nothing here reads config."""

from __future__ import annotations

from dataclasses import dataclass

from components.vocabulary import AccessModel, KubeloginMode, PrincipalType
from settings.schema import PROJECT as PROJECT  # re-exported: the namespace every message names keys in


class ConfigError(ValueError):
    """The stack's configuration is invalid; the message lists every offending key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"invalid configuration, nothing was created:\n{listed}")


@dataclass(frozen=True)
class ServiceAccount:
    """A Kubernetes service account that the identity's federated credentials trust."""

    namespace: str
    name: str
    key: str
    """Stable short name of the account's role (repo-server, commit-server, extra-<hash>), used in Azure names."""

    @property
    def subject(self) -> str:
        """The token subject the Kubernetes API server issues for this account."""
        return f"system:serviceaccount:{self.namespace}:{self.name}"


@dataclass(frozen=True)
class Repository:
    """One private Azure DevOps Git repository, in the one URL form Argo CD matches on."""

    url: str
    organization: str
    project: str
    name: str

    @property
    def project_prefix(self) -> str:
        """The credential-template URL that covers every Git repository of this repository's project."""
        return self.url[: self.url.rindex("/_git/") + len("/_git/")]


@dataclass(frozen=True)
class ExistingCluster:
    """An AKS cluster to adopt: looked up, never changed or deleted."""

    resource_group: str
    name: str


@dataclass(frozen=True)
class ClusterSettings:
    location: str
    existing: ExistingCluster | None
    kubernetes_version: str | None
    long_term_support: bool
    node_count: int
    node_vm_size: str
    system_pool_name: str
    admin_group_object_ids: tuple[str, ...]
    kubelogin_mode: KubeloginMode
    deployer_principal_type: PrincipalType
    grant_deployer_cluster_admin: bool


@dataclass(frozen=True)
class AzureDevOpsSettings:
    organization_url: str
    organization: str
    project: str
    repositories: tuple[Repository, ...]
    access_model: AccessModel
    credential_templates: bool

    @property
    def projects(self) -> tuple[str, ...]:
        """Every project holding a configured repository, in first-seen order."""
        return tuple(dict.fromkeys(repo.project for repo in self.repositories))


@dataclass(frozen=True)
class HelmInstall:
    """Argo CD from the argo-cd chart."""

    release_name: str
    chart_version: str
    commit_server: ServiceAccount | None
    """The Source Hydrator's commit-server, when the hydrator is on (Helm only)."""
    hydration_targets: tuple[Repository, ...]
    """Repositories the hydrator pushes to (empty when it is off)."""
    hydrator_creates_branches: bool


@dataclass(frozen=True)
class ExtensionInstall:
    """Argo CD as the AKS Microsoft.ArgoCD extension."""

    release_train: str
    version: str | None
    high_availability: bool
    extra: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class BootstrapSettings:
    repository: Repository
    path: str
    target_revision: str
    timeout_seconds: int


@dataclass(frozen=True)
class ArgoCdSettings:
    install: HelmInstall | ExtensionInstall
    """How Argo CD is installed: the variant carries what only it needs."""
    namespace: str
    repo_server: ServiceAccount
    bootstrap: BootstrapSettings | None

    @property
    def install_method(self) -> str:
        """The argocdInstallMethod value this install came from (what the stack exports)."""
        return "helm" if isinstance(self.install, HelmInstall) else "extension"

    @property
    def commit_server(self) -> ServiceAccount | None:
        return self.install.commit_server if isinstance(self.install, HelmInstall) else None

    @property
    def hydration_targets(self) -> tuple[Repository, ...]:
        return self.install.hydration_targets if isinstance(self.install, HelmInstall) else ()


@dataclass(frozen=True)
class Settings:
    stack: str
    protect: bool
    cluster: ClusterSettings
    azure_devops: AzureDevOpsSettings
    argocd: ArgoCdSettings
    additional_issuers: tuple[str, ...]
    additional_service_accounts: tuple[ServiceAccount, ...]

    @property
    def trusted_service_accounts(self) -> tuple[ServiceAccount, ...]:
        """Every service account a federated credential is made for; Argo CD is configured from the same."""
        commit_server = self.argocd.commit_server
        own = (self.argocd.repo_server,) + ((commit_server,) if commit_server else ())
        return own + self.additional_service_accounts

    @property
    def federated_credential_count(self) -> int:
        return len(self.trusted_service_accounts) * (1 + len(self.additional_issuers))
