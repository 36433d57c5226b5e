"""The limits and vocabularies the settings are checked against, each with where it comes from."""

from __future__ import annotations

import hashlib
import re

# The rule each refusal enforces, as the section of docs/facts.md that cites it upstream: every message names one.
SCHEMA = "Pulumi.yaml config schema"
AZURE_NAMES = "docs/facts.md#azure-names"
AZURE_RBAC = "docs/facts.md#azure-rbac"
AKS_VERSIONS = "docs/facts.md#aks-cluster-and-kubernetes-versions"
KUBERNETES_NAMES = "docs/facts.md#kubernetes-names"
WORKLOAD_IDENTITY = "docs/facts.md#entra-workload-identity"
DEVOPS = "docs/facts.md#azure-devops"
NO_PAT = "docs/facts.md#azuredevops-provider"
ARGO_SECRETS = "docs/facts.md#argo-cd-repository-secrets"
ARGO_VERSIONS = "docs/facts.md#argo-cd-versions-and-bugs"
ARGO_APPLICATIONS = "docs/facts.md#argo-cd-applications"
EXTENSION = "docs/facts.md#aks-argo-cd-extension"
HYDRATOR = "docs/facts.md#source-hydrator"
ACR = "docs/facts.md#acr-helm-charts"
SSO = "docs/facts.md#entra-sso"
FLEET = "docs/facts.md#argo-cd-cluster-secrets-for-aks-fleet"
PULUMI = "docs/facts.md#pulumi"

# One managed identity holds at most 20 federated credentials (docs/facts.md#entra-workload-identity).
MAX_FEDERATED_CREDENTIALS = 20
MIN_NODES_FOR_EXTENSION_HA = 4
# The oldest Kubernetes minor AKS still creates clusters with on the standard support plan, and on long-term
# support (Premium tier). Below them Azure refuses the cluster (docs/facts.md#aks-cluster-and-kubernetes-versions).
MIN_KUBERNETES_MINOR = 35
MIN_LTS_KUBERNETES_MINOR = 32

# Settings the program owns in extension mode; the user may not override them through extensionSettings.
OWNED_EXTENSION_KEYS = (
    "azure.workloadIdentity.enabled", "azure.workloadIdentity.clientId", "azure.workloadIdentity.entraSSOClientId",
    "redis-ha.enabled",
)
# Settings the program owns in extension mode when single sign-on is on.
SSO_EXTENSION_KEYS = (
    "configs.cm.oidc\\.config", "configs.rbac.policy\\.csv", "configs.cm.admin\\.enabled", "global.domain", "configs.cm.url",
    "configs.params.server\\.rootpath",
)

PAT_FREE_OPTIONS = (
    "this program never uses a PAT or password: Argo CD authenticates with Entra Workload ID, and the "
    "Azure DevOps provider uses the Azure CLI login (az login), OIDC (ARM_USE_OIDC=true in CI) or a managed "
    "identity (ARM_USE_MSI=true); remove the value"
)
# Secret-bearing variables the azuredevops provider reads (docs/facts.md#azuredevops-provider).
CREDENTIAL_ENV_VARS = (
    "AZDO_PERSONAL_ACCESS_TOKEN",
    "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET_PATH", "ARM_CLIENT_SECRET_FILE_PATH",
    "ARM_CLIENT_CERTIFICATE", "ARM_CLIENT_CERTIFICATE_PATH", "ARM_CLIENT_CERTIFICATE_PASSWORD",
)
# Extension settings that would hand Argo CD a password or token (sent in plain text as configurationSettings).
CREDENTIAL_SETTING = re.compile(r"(password|passwd|token|personalaccesstoken|clientsecret)$", re.I)
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Namespaces every Kubernetes cluster already has. The program creates the namespace Argo CD goes into, and
# pulumi-kubernetes refuses to create an object that exists (docs/facts.md#kubernetes-names).
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
# The argo-cd chart names its objects "<prefix>-<component>" and cuts each name at 63 characters (the application
# controller's at 52). A cut name still works until two objects of one kind come out the same: the repo-server's
# and redis's Deployments and Services do from a prefix of 60 characters. With the Source Hydrator the program
# writes the commit-server's name itself, which must then not be cut (docs/facts.md#kubernetes-names).
CHART_PREFIX_MAX = 59
CHART_PREFIX_MAX_WITH_COMMIT_SERVER = 63 - len("-commit-server")
# What `git check-ref-format --branch` refuses in a branch or tag name: control characters, space, ~ ^ : ? * [ \,
# "..", "@{", "//", a component that starts with "." or ends in ".lock", "/" or "." at the end, and a name that
# starts with "/" or "-" or is "@" alone (git-check-ref-format(1); docs/facts.md#kubernetes-names).
_BAD_GIT_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|(^|/)\.|\.lock(/|$)|[/.]$|^[/-]|^@$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and bool(_DNS_LABEL.match(value))


def is_git_revision(value: str) -> bool:
    """A branch, tag or commit git can name, as Argo CD resolves it. It is also a pulumi.com/waitFor value, which may not
    hold "=" (pulumi-kubernetes refuses it as ambiguous, docs/facts.md#pulumi)."""
    return 0 < len(value) <= 250 and "=" not in value and not _BAD_GIT_REF.search(value)


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= 253 and bool(_DNS_SUBDOMAIN.match(value))


def is_azure_region(value: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9]{1,39}$", value))


def is_resource_group_name(value: str) -> bool:
    return bool(re.match(r"^[-\w._()]{1,90}$", value)) and not value.endswith(".")


def is_cluster_name(value: str) -> bool:
    return bool(re.match(r"^[A-Za-z0-9][-_A-Za-z0-9]{0,62}$", value))


def is_issuer_url(value: str) -> bool:
    return bool(re.match(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?$", value)) and len(value) <= 500


def stable_hash(text: str) -> str:
    """Eight hex characters that identify `text` across runs (for names that must not depend on order)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]
