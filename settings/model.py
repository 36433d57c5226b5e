"""The validated settings: frozen values the program is built from. Nothing here reads config."""

from __future__ import annotations

from dataclasses import dataclass

from components.vocabulary import AccessModel, KubeloginMode, PrincipalType, SpokeAccessRole
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
class ContainerRegistry:
    """An Azure Container Registry holding Helm charts: created by this stack, or an existing one referenced by name."""

    name: str
    existing_resource_group: str | None
    """Resource group of an existing registry; None when this stack creates it."""
    abac: bool
    """The registry's role assignment mode is RBAC Registry + ABAC Repository Permissions, where AcrPull is ignored."""

    @property
    def login_server(self) -> str:
        return f"{self.name}.azurecr.io"


@dataclass(frozen=True)
class HelmChartRepository:
    """A path in a registry under which Helm charts are pushed; Argo CD registers it as one Helm OCI repository."""

    registry: ContainerRegistry
    path: str

    @property
    def url(self) -> str:
        """The repository URL Argo CD matches on: no oci:// scheme (docs/facts.md#acr-helm-charts)."""
        return f"{self.registry.login_server}/{self.path}"


@dataclass(frozen=True)
class ChartSettings:
    registries: tuple[ContainerRegistry, ...]
    repositories: tuple[HelmChartRepository, ...]


@dataclass(frozen=True)
class GitPath:
    """Bootstrap from a path in a private Azure DevOps repository."""

    repository: Repository
    path: str


@dataclass(frozen=True)
class HelmChart:
    """Bootstrap from a Helm chart in a registered ACR chart repository."""

    repository: HelmChartRepository
    chart: str


@dataclass(frozen=True)
class BootstrapSettings:
    source: GitPath | HelmChart
    target_revision: str
    """A branch, tag or commit for a Git path; the chart version for a chart."""
    timeout_seconds: int


@dataclass(frozen=True)
class SingleSignOnSettings:
    """Entra sign-in to the Argo CD UI and CLI through an app registration that Argo CD's server uses with workload
    identity: no client secret."""

    url: str
    """Argo CD's external URL, with its root path if it has one; the app registration's redirect URI is
    <url>/auth/callback."""
    group_roles: tuple[tuple[str, str], ...]
    """(Entra group object ID, Argo CD role name) pairs for the RBAC policy."""
    disable_local_admin: bool


@dataclass(frozen=True)
class ArgoCdSettings:
    install: HelmInstall | ExtensionInstall
    """How Argo CD is installed: the variant carries what only it needs."""
    namespace: str
    repo_server: ServiceAccount
    server: ServiceAccount
    """The argocd-server's service account: what the single sign-on app's federated credential trusts."""
    bootstrap: BootstrapSettings | None
    single_sign_on: SingleSignOnSettings | None

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

    @property
    def hydrator_creates_branches(self) -> bool:
        return isinstance(self.install, HelmInstall) and self.install.hydrator_creates_branches


@dataclass(frozen=True)
class AdoptedSpoke:
    """A spoke cluster that already exists: looked up, never changed or deleted."""

    resource_group: str
    cluster_name: str


@dataclass(frozen=True)
class CreatedSpoke:
    """A spoke cluster this stack creates, with the hub's secure defaults, in the stack's resource group."""

    location: str


@dataclass(frozen=True)
class Spoke:
    """One AKS cluster the hub's Argo CD deploys to."""

    name: str
    """Argo CD's name for the cluster (DNS-1123 label); also names its Pulumi resources and cluster Secret."""
    source: AdoptedSpoke | CreatedSpoke
    labels: tuple[tuple[str, str], ...]
    """Labels on the cluster Secret, which the ApplicationSet cluster generator selects on."""
    bootstrap: bool
    """pulumi up waits until a bootstrap Application has synced on this spoke."""


@dataclass(frozen=True)
class FleetSettings:
    """The spokes and the identity the hub's application-controller and server reach them as."""

    spokes: tuple[Spoke, ...]
    access_role: SpokeAccessRole
    controller: ServiceAccount
    server: ServiceAccount

    @property
    def trusted_service_accounts(self) -> tuple[ServiceAccount, ...]:
        """The service accounts the fleet identity's federated credentials trust; the chart is configured from them."""
        return (self.controller, self.server)


@dataclass(frozen=True)
class Settings:
    stack: str
    protect: bool
    cluster: ClusterSettings
    azure_devops: AzureDevOpsSettings
    argocd: ArgoCdSettings
    charts: ChartSettings
    additional_issuers: tuple[str, ...]
    additional_service_accounts: tuple[ServiceAccount, ...]
    fleet: FleetSettings | None = None
    """Spoke clusters and the fleet identity; None when no spoke is configured (nothing of it is created)."""

    @property
    def trusted_service_accounts(self) -> tuple[ServiceAccount, ...]:
        """Every service account a federated credential is made for; Argo CD is configured from the same."""
        commit_server = self.argocd.commit_server
        own = (self.argocd.repo_server,) + ((commit_server,) if commit_server else ())
        return own + self.additional_service_accounts

    @property
    def federated_credential_count(self) -> int:
        return len(self.trusted_service_accounts) * (1 + len(self.additional_issuers))
