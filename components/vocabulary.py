"""The words the components share with their callers: closed sets of values, each a string enum.

They are part of the package's schema too, so a TypeScript or YAML caller sees the same choices.
"""

from enum import StrEnum

PACKAGE = "argocd-wi"
"""Name of the component package; every component's type token is `argocd-wi:index:<Component>`."""


def type_token(component: str) -> str:
    return f"{PACKAGE}:index:{component}"


class AccessModel(StrEnum):
    """How the identity may read in Azure DevOps."""

    REPOSITORIES = "repositories"
    """GenericRead on the listed repositories only, through one dedicated group per project."""
    READERS = "readers"
    """Membership of each project's Readers group."""


class KubeloginMode(StrEnum):
    """How kubelogin gets the Entra token for the Kubernetes provider (`kubelogin get-token --login`)."""

    AZURE_CLI = "azurecli"
    WORKLOAD_IDENTITY = "workloadidentity"
    MANAGED_IDENTITY = "msi"


class PrincipalType(StrEnum):
    """Who runs `pulumi up`: a person or a CI identity. Never a group: a group cannot sign in."""

    USER = "User"
    SERVICE_PRINCIPAL = "ServicePrincipal"


class SecretType(StrEnum):
    """What an Argo CD repository Secret registers, as its secret-type label says (docs/facts.md#argo-cd-repository-secrets)."""

    REPOSITORY = "repository"
    """One repository Argo CD reads."""
    CREDENTIAL_TEMPLATE = "repo-creds"
    """Every repository whose URL starts with the Secret's URL (the longest prefix wins)."""
    REPOSITORY_WRITE = "repository-write"
    """One repository the Source Hydrator pushes to (docs/facts.md#source-hydrator)."""


class RepositoryKind(StrEnum):
    """What an Argo CD repository Secret points at (docs/facts.md#acr-helm-charts)."""

    GIT = "git"
    """A Git repository (Azure DevOps)."""
    HELM_OCI = "helm-oci"
    """A path in a container registry holding Helm charts, read over OCI (type helm with enableOCI)."""


class SpokeAccessRole(StrEnum):
    """The built-in Azure role the hub's fleet identity holds on each spoke cluster (docs/facts.md#azure-rbac)."""

    CLUSTER_ADMIN = "cluster-admin"
    """Azure Kubernetes Service RBAC Cluster Admin: everything, cluster-scoped objects included."""
    ADMIN = "admin"
    """Azure Kubernetes Service RBAC Admin: all namespaced objects, roles and bindings; not namespaces, quotas or
    cluster-scoped objects (CRDs, ClusterRoles)."""
    WRITER = "writer"
    """Azure Kubernetes Service RBAC Writer: most namespaced objects; no roles or bindings, no namespaces, no
    cluster-scoped objects."""
