"""The limits and vocabularies the settings are checked against, each with where it comes from."""

from __future__ import annotations

import hashlib
import re

# Argo CD v3.1.1 is the first release with all three Azure DevOps workload-identity fixes
# (argo-cd#23100, #23348, #23478; docs/facts.md#argo-cd-versions-and-bugs). argo-helm chart 8.3.1 is the first
# chart that ships it (argo-helm charts/argo-cd/Chart.yaml history: 8.3.0 ships v3.1.0, 8.3.1 ships v3.1.1).
MIN_CHART_VERSION = (8, 3, 1)
# Spokes are reached through `argocd-k8s-auth azure`, which broke in v2.14.3 (argo-cd#22122) and v3.0.0 (#22884,
# fixed by #23004 in v3.0.7/v3.1.0) and is reported broken again from v3.0.11 (#23878, open). Chart 9.1.0 ships
# v3.2.0, the first release after #23878 with a newer kubelogin (0.2.10; v3.0.11-v3.1.x ship 0.2.8)
# (docs/facts.md#argo-cd-cluster-secrets-for-aks-fleet). Only with spokes configured.
MIN_FLEET_CHART_VERSION = (9, 1, 0)
# One managed identity holds at most 20 federated credentials (docs/facts.md#entra-workload-identity).
MAX_FEDERATED_CREDENTIALS = 20
MIN_NODES_FOR_EXTENSION_HA = 4
# The oldest Kubernetes minor AKS still creates clusters with on the standard support plan, and on long-term
# support (Premium tier). Below them Azure refuses the cluster (docs/facts.md#aks-cluster-and-kubernetes-versions).
MIN_KUBERNETES_MINOR = 35
MIN_LTS_KUBERNETES_MINOR = 32

# Keys of the 0.0.x extension, replaced in 1.0.0-preview (docs/facts.md#aks-argo-cd-extension); a user who copies an
# old sample gets the new key's name instead of a silently ignored setting.
LEGACY_EXTENSION_KEYS = {
    "workloadIdentity.enable": "azure.workloadIdentity.enabled",
    "workloadIdentity.clientId": "azure.workloadIdentity.clientId",
    "deployWithHighAvailability": "redis-ha.enabled",
    "namespaceInstall": "(none: 1.0.0-preview always installs into the argocd namespace)",
}
# Settings the program owns in extension mode; the user may not override them through extensionSettings.
OWNED_EXTENSION_KEYS = (
    "azure.workloadIdentity.enabled", "azure.workloadIdentity.clientId", "azure.workloadIdentity.entraSSOClientId",
    "redis-ha.enabled",
)
# Settings the program owns in extension mode when single sign-on is on.
SSO_EXTENSION_KEYS = (
    "configs.cm.oidc\\.config", "configs.rbac.policy\\.csv", "configs.cm.admin\\.enabled", "global.domain", "configs.cm.url",
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
# What `git check-ref-format` refuses in a branch or tag name, of the characters allowed here: a component that
# starts with "." or ends in ".lock", "..", "//", and "/" or "." at the end (docs/facts.md#kubernetes-names).
_BAD_GIT_REF = re.compile(r"(^|/)\.|\.lock(/|$)|\.\.|//|[/.]$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_SEMVER = re.compile(r"^([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,4})$")


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and bool(_DNS_LABEL.match(value))


def is_git_revision(value: str) -> bool:
    """A branch, tag or commit Argo CD can resolve. It is also a pulumi.com/waitFor value, which may not hold "="
    (pulumi-kubernetes refuses it as ambiguous)."""
    return len(value) <= 250 and bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", value)) and not _BAD_GIT_REF.search(value)


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= 253 and bool(_DNS_SUBDOMAIN.match(value))


def chart_version_ok(value: str, floor: tuple[int, int, int] = MIN_CHART_VERSION) -> bool:
    match = _SEMVER.match(value)
    return match is not None and tuple(int(part) for part in match.groups()) >= floor


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
