"""Turns the stack's configuration into one frozen, validated Settings object.

This is the only module that reads `pulumi.Config`. Every key is checked before the program registers a
single resource; all problems are gathered into one ConfigError whose lines each name the key, the value
and what would be accepted.
"""

from __future__ import annotations

import contextlib
import difflib
import hashlib
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import pulumi
import pulumi.runtime.config as runtime_config

PROJECT = "argocd-aks-wi"

# Argo CD v3.1.1 is the first release with all three Azure DevOps workload-identity fixes
# (argo-cd#23100, #23348, #23478; docs/facts.md#argo-cd-versions-and-bugs). argo-helm chart 8.3.1 is the first chart that ships it
# (argo-helm charts/argo-cd/Chart.yaml history: 8.3.0 ships v3.1.0, 8.3.1 ships v3.1.1).
MIN_CHART_VERSION = (8, 3, 1)
ARGOCD_NAMESPACE_FOR_EXTENSION = "argocd"
MAX_FEDERATED_CREDENTIALS = 20
MIN_NODES_FOR_EXTENSION_HA = 4
# The oldest Kubernetes minor AKS still creates clusters with on the standard support plan, and on long-term
# support (Premium tier). Below them Azure refuses the cluster (docs/facts.md#aks-cluster-and-kubernetes-versions).
MIN_KUBERNETES_MINOR = 35
MIN_LTS_KUBERNETES_MINOR = 32

# Keys of the 0.0.x extension, replaced in 1.0.0-preview (docs/facts.md#aks-argo-cd-extension); a user who copies an old sample
# gets the new key's name instead of a silently ignored setting.
LEGACY_EXTENSION_KEYS = {
    "workloadIdentity.enable": "azure.workloadIdentity.enabled",
    "workloadIdentity.clientId": "azure.workloadIdentity.clientId",
    "deployWithHighAvailability": "redis-ha.enabled",
    "namespaceInstall": "(none: 1.0.0-preview always installs into the argocd namespace)",
}
# Settings the program owns in extension mode; the user may not override them through extensionSettings.
OWNED_EXTENSION_KEYS = ("azure.workloadIdentity.enabled", "azure.workloadIdentity.clientId", "redis-ha.enabled")

PAT_FREE_OPTIONS = (
    "this program never uses a PAT or password: Argo CD authenticates with Entra Workload ID, and the "
    "Azure DevOps provider uses the Azure CLI login (az login), OIDC (ARM_USE_OIDC=true in CI) or a managed "
    "identity (ARM_USE_MSI=true); remove the value"
)
# Config keys (in any namespace) and environment variables through which a PAT or password could reach
# the Azure DevOps provider or Argo CD.
_CREDENTIAL_WORDS = re.compile(r"(pat|personalaccesstoken|password|passwd|token|secret|clientsecret)$", re.I)
# Secret-bearing variables the azuredevops provider reads (docs/facts.md#azuredevops-provider).
CREDENTIAL_ENV_VARS = (
    "AZDO_PERSONAL_ACCESS_TOKEN",
    "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET_PATH", "ARM_CLIENT_SECRET_FILE_PATH",
    "ARM_CLIENT_CERTIFICATE", "ARM_CLIENT_CERTIFICATE_PATH", "ARM_CLIENT_CERTIFICATE_PASSWORD",
)
# The user part of a URL (https://<PAT>@..., https://user:<PAT>@...) can carry a token: never echo it.
_URL_USER_PART = re.compile(r"(?<=://)[^/@\s]+@")
# Extension settings that would hand Argo CD a password or token (sent in plain text as configurationSettings).
_CREDENTIAL_SETTING = re.compile(r"(password|passwd|token|personalaccesstoken|clientsecret)$", re.I)

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_ORG_URL = re.compile(r"^https://dev\.azure\.com/([A-Za-z0-9][A-Za-z0-9-]{0,48}[A-Za-z0-9]|[A-Za-z0-9])$")
_REPO_URL = re.compile(r"^https://dev\.azure\.com/([^/@?#]+)/([^/?#]+)/_git/([^/?#]+)$")
_PROJECT_FORBIDDEN = re.compile(r"[\\/:*?\"<>|;#$*{},+=\[\]%@&'`~!^]")
_SEMVER = re.compile(r"^([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,4})$")
# Control, zero-width/bidi format, surrogate and line-separator characters. Azure DevOps refuses control characters
# and surrogates in names (naming-restrictions docs); none belongs in any value here, and invisible ones make two
# different names look alike.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_PRINTABLE = "printable text (no control, zero-width, bidi or line-separator characters)"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


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
    node_count: int
    node_vm_size: str
    system_pool_name: str
    admin_group_object_ids: tuple[str, ...]
    kubelogin_mode: str
    deployer_principal_type: str
    grant_deployer_cluster_admin: bool
    long_term_support: bool = False


@dataclass(frozen=True)
class AzureDevOpsSettings:
    organization_url: str
    organization: str
    project: str
    repositories: tuple[Repository, ...]
    access_model: str
    license_type: str
    credential_templates: bool

    @property
    def projects(self) -> tuple[str, ...]:
        """Every project holding a configured repository, in first-seen order."""
        return tuple(dict.fromkeys(repo.project for repo in self.repositories))


@dataclass(frozen=True)
class ExtensionSettings:
    release_train: str
    version: str | None
    high_availability: bool
    extra: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class BootstrapSettings:
    repository: Repository
    path: str
    timeout_seconds: int
    target_revision: str = "HEAD"


@dataclass(frozen=True)
class ArgoCdSettings:
    install_method: str
    namespace: str
    release_name: str
    chart_version: str
    repo_server: ServiceAccount
    commit_server: ServiceAccount | None
    extension: ExtensionSettings
    bootstrap: BootstrapSettings | None
    hydration_targets: tuple[Repository, ...] = ()
    """Repositories the Source Hydrator pushes to (empty unless it is on)."""
    hydrator_creates_branches: bool = False

    @property
    def wants_extension_ha(self) -> bool:
        """The extension's high-availability mode, which needs MIN_NODES_FOR_EXTENSION_HA nodes."""
        return self.install_method == "extension" and self.extension.high_availability


@dataclass(frozen=True)
class Settings:
    stack: str
    protect: bool
    cluster: ClusterSettings
    azure_devops: AzureDevOpsSettings
    argocd: ArgoCdSettings
    additional_issuers: tuple[str, ...] = ()
    additional_service_accounts: tuple[ServiceAccount, ...] = ()

    @property
    def trusted_service_accounts(self) -> tuple[ServiceAccount, ...]:
        """Every service account a federated credential is made for; Argo CD is configured from the same."""
        own = (self.argocd.repo_server,) + ((self.argocd.commit_server,) if self.argocd.commit_server else ())
        return own + self.additional_service_accounts

    @property
    def federated_credential_count(self) -> int:
        return len(self.trusted_service_accounts) * (1 + len(self.additional_issuers))


# ----------------------------------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------------------------------

class _Reader:
    """Reads raw config strings and records problems instead of raising on the first one."""

    def __init__(self, config: pulumi.Config) -> None:
        self._config = config
        self.problems: list[str] = []

    def fail(self, key: str, value: object, accepted: str) -> None:
        shown = _mask(key, value)
        self.problems.append(f"{PROJECT}:{key} = {shown}: expected {accepted}")

    def raw(self, key: str) -> str | None:
        return self._config.get(key)

    def text(self, key: str, default: str = "", *, required: bool = False) -> str:
        value = self.raw(key)
        if value is None or value.strip() == "":
            if required:
                self.problems.append(f"{PROJECT}:{key} is required (set it with `pulumi config set {key} ...`)")
            return default
        if has_invisible_characters(value.strip()):
            self.fail(key, value, _PRINTABLE)
            return default
        return value.strip()

    def integer(self, key: str, default: int, low: int, high: int) -> int:
        value = self.raw(key)
        if value is None:
            return default
        text = str(value).strip()
        # ASCII digits only: int() would also take "1_000", "١٢" and thousands of digits.
        if not re.fullmatch(r"-?[0-9]{1,9}", text) or not low <= int(text) <= high:
            self.fail(key, value, f"a whole number from {low} to {high}")
            return default
        return int(text)

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw(key)
        if value is None:
            return default
        lowered = str(value).strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        self.fail(key, value, "true or false")
        return default

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.raw(key)
        if value is None or value.strip() in ("", "[]"):
            if required:
                self.problems.append(f"{PROJECT}:{key} is required: a list with at least one entry")
            return ()
        parsed: Any = None  # not a list: refused below
        # RecursionError: deeply nested JSON such as "[[[[..."
        with contextlib.suppress(ValueError, RecursionError):
            parsed = json.loads(value)
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            self.fail(key, value, "a list of strings (YAML sequence under the key)")
            return ()
        invisible = [item for item in parsed if has_invisible_characters(item.strip())]
        for item in invisible:
            self.fail(key, item, _PRINTABLE)
        return () if invisible else tuple(item.strip() for item in parsed)

    def choice(self, key: str, default: str, accepted: tuple[str, ...]) -> str:
        value = self.text(key, default)
        if value not in accepted:
            self.fail(key, value, "one of " + ", ".join(accepted))
            return default
        return value

    def matching(self, key: str, value: str, check: Callable[[str], bool], accepted: str) -> str:
        if not check(value):
            self.fail(key, value, accepted)
        return value


def has_invisible_characters(text: str) -> bool:
    return any(unicodedata.category(character) in _INVISIBLE_CATEGORIES for character in text)


def _compact(key: str) -> str:
    """A key without - and _, so that personal_access_token and personal-access-token match one pattern."""
    return key.replace("-", "").replace("_", "")


def _mask(key: str, value: object) -> str:
    text = str(value)
    if _CREDENTIAL_WORDS.search(_compact(key)):
        return "[secret]"
    text = _URL_USER_PART.sub("[masked]@", text)
    if len(text) > 120:
        text = text[:117] + "..."
    return repr(text)


def _all_config_keys() -> Mapping[str, Any]:
    """Every config key of the stack, from every namespace.

    The Pulumi SDK has no public listing; the language host fills the runtime's config map and the
    PULUMI_CONFIG environment variable, so both are read.
    """
    keys: dict[str, Any] = dict(runtime_config.get_config_env())
    keys.update(runtime_config.CONFIG.get())
    return keys


@lru_cache(maxsize=1)  # Pulumi.yaml does not change during a run; parsing it is most of load_settings' cost
def _declared_keys() -> frozenset[str]:
    import yaml

    project_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Pulumi.yaml")
    with open(project_file, encoding="utf-8") as handle:
        # libyaml when present: the same objects, about ten times faster than the pure-Python loader.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return frozenset((yaml.load(handle, Loader=loader) or {}).get("config", {}))


# ----------------------------------------------------------------------------------------------------
# Validation helpers
# ----------------------------------------------------------------------------------------------------


def is_dns_label(value: str) -> bool:
    return len(value) <= 63 and bool(_DNS_LABEL.match(value))


def is_dns_subdomain(value: str) -> bool:
    return len(value) <= 253 and bool(_DNS_SUBDOMAIN.match(value))


def _chart_version_ok(value: str) -> bool:
    match = _SEMVER.match(value)
    return match is not None and tuple(int(part) for part in match.groups()) >= MIN_CHART_VERSION


def _parse_service_account(text: str) -> ServiceAccount | None:
    namespace, _, name = text.partition("/")
    if is_dns_label(namespace) and is_dns_subdomain(name):
        return ServiceAccount(namespace, name, key=f"extra-{stable_hash(text)}")
    return None


def stable_hash(text: str) -> str:
    """Eight hex characters that identify `text` across runs (for names that must not depend on order)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _is_issuer_url(value: str) -> bool:
    return bool(re.match(r"^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~%/-]*)?$", value)) and len(value) <= 500


_REPO_URL_FORM = "https://dev.azure.com/<organisation>/<project>/_git/<repository> (HTTPS; SSH has no workload identity)"


def split_repository_url(url: str) -> tuple[str, str, str] | None:
    """(organisation, project, repository) of an https://dev.azure.com/<org>/<project>/_git/<repo> URL,
    project and repository percent-decoded; None for any other form."""
    match = _REPO_URL.match(url)
    if not match:
        return None
    org, project, name = match.groups()
    return org, unquote(project), unquote(name)


def _parse_repository(url: str, organization: str) -> Repository | str:
    """A Repository, or the reason the URL is refused."""
    if not url.startswith("https://"):
        return _REPO_URL_FORM
    if "@" in url:
        return "no user@ part: Argo CD matches credentials by URL and a user@ form never matches (docs/facts.md#argo-cd-repository-secrets)"
    if url.endswith(".git") or url.endswith("/"):
        return "no trailing .git or /"
    parts = split_repository_url(url)
    if parts is None:
        return _REPO_URL_FORM
    org, decoded_project, decoded_name = parts
    if org.lower() != organization.lower():
        return f"a repository of the configured organisation {organization!r}"
    if org != organization:
        return f"the organisation written exactly as in azureDevOpsOrgUrl ({organization!r}): one URL form everywhere"
    if (
        decoded_project.strip() != decoded_project
        or not decoded_project
        or _PROJECT_FORBIDDEN.search(decoded_project.replace(" ", ""))
        or has_invisible_characters(decoded_project)
    ):
        return "a valid project name in the URL"
    # Percent-encoding must not smuggle in what the plain URL may not hold (%0A, %2F, %00).
    if decoded_name.strip() != decoded_name or not decoded_name or "/" in decoded_name or has_invisible_characters(decoded_name):
        return "a valid repository name in the URL"
    return Repository(url=url, organization=org, project=decoded_project, name=decoded_name)


# ----------------------------------------------------------------------------------------------------
# The one entry point
# ----------------------------------------------------------------------------------------------------


def load_settings(config: pulumi.Config | None = None, stack: str | None = None) -> Settings:
    """Read and validate the whole configuration; raise one ConfigError naming every bad key."""
    reader = _Reader(config or pulumi.Config(PROJECT))
    stack = stack or pulumi.get_stack()

    _refuse_credentials(reader)
    _refuse_unknown_keys(reader)

    cluster = _cluster_settings(reader)
    azure_devops = _azure_devops_settings(reader)
    argocd = _argocd_settings(reader, azure_devops)
    additional_issuers = tuple(
        reader.matching("additionalIssuers", issuer, _is_issuer_url, "HTTPS OIDC issuer URLs")
        for issuer in reader.strings("additionalIssuers")
    )
    additional_accounts = []
    for text in reader.strings("additionalServiceAccounts"):
        account = _parse_service_account(text)
        if account is None:
            reader.fail("additionalServiceAccounts", text, '"namespace/name" (DNS-1123 names)')
        else:
            additional_accounts.append(account)

    protect_text = reader.choice("protectResources", "auto", ("auto", "true", "false"))
    settings = Settings(
        stack=stack,
        protect=(stack != "dev") if protect_text == "auto" else protect_text == "true",
        cluster=cluster,
        azure_devops=azure_devops,
        argocd=argocd,
        additional_issuers=additional_issuers,
        additional_service_accounts=tuple(additional_accounts),
    )
    _check_cross_field_rules(reader, settings)
    if reader.problems:
        raise ConfigError(reader.problems)
    return settings


def _refuse_credentials(reader: _Reader) -> None:
    for full_key in sorted(_all_config_keys()):
        namespace, _, key = full_key.partition(":")
        compact = _compact(key)
        if namespace in (PROJECT, "azuredevops", "kubernetes") and _CREDENTIAL_WORDS.search(compact):
            reader.problems.append(f"{full_key} is set: {PAT_FREE_OPTIONS}")
    for variable in CREDENTIAL_ENV_VARS:
        if os.environ.get(variable):
            reader.problems.append(
                f"environment variable {variable} is set: the Azure DevOps provider would use it; {PAT_FREE_OPTIONS}"
            )


def _refuse_unknown_keys(reader: _Reader) -> None:
    declared = _declared_keys()
    for full_key in sorted(_all_config_keys()):
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT or key in declared or _CREDENTIAL_WORDS.search(key.lower()):
            continue
        close = difflib.get_close_matches(key, sorted(declared), n=1)
        hint = f"did you mean {close[0]}?" if close else "see Pulumi.yaml for every key"
        reader.problems.append(f"{full_key} is not a key this program reads: {hint}")


def _cluster_settings(reader: _Reader) -> ClusterSettings:
    location = reader.matching(
        "location", reader.text("location", "westeurope"), lambda v: bool(re.match(r"^[a-z][a-z0-9]{1,39}$", v)),
        "an Azure region name in lower case without spaces, e.g. westeurope",
    )
    existing_group = reader.text("existingClusterResourceGroup")
    existing_name = reader.text("existingClusterName")
    existing = None
    if bool(existing_group) != bool(existing_name):
        reader.problems.append(
            f"{PROJECT}:existingClusterResourceGroup and {PROJECT}:existingClusterName go together: "
            "set both to adopt a cluster, or neither to create one"
        )
    elif existing_group:
        reader.matching(
            "existingClusterResourceGroup", existing_group,
            lambda v: bool(re.match(r"^[-\w._()]{1,90}$", v)) and not v.endswith("."),
            "an Azure resource group name (1-90 letters, digits, -_.())",
        )
        reader.matching(
            "existingClusterName", existing_name, lambda v: bool(re.match(r"^[A-Za-z0-9][-_A-Za-z0-9]{0,62}$", v)),
            "an AKS cluster name (1-63 letters, digits, - and _)",
        )
        existing = ExistingCluster(existing_group, existing_name)

    long_term_support = reader.boolean("longTermSupport", False)
    version = _kubernetes_version(reader, long_term_support)
    admin_groups = reader.strings("clusterAdminGroupObjectIds")
    for group in admin_groups:
        reader.matching("clusterAdminGroupObjectIds", group, lambda v: bool(_GUID.match(v)), "Entra group object IDs (GUIDs)")
    return ClusterSettings(
        location=location,
        existing=existing,
        kubernetes_version=version or None,
        node_count=reader.integer("nodeCount", 2, 1, 1000),
        node_vm_size=reader.matching(
            "nodeVmSize", reader.text("nodeVmSize", "Standard_D4ds_v5"),
            lambda v: bool(re.match(r"^Standard_[A-Za-z0-9_]{1,60}$", v)), "an Azure VM size such as Standard_D4ds_v5",
        ),
        system_pool_name=reader.matching(
            "systemPoolName", reader.text("systemPoolName", "system"), lambda v: bool(re.match(r"^[a-z][a-z0-9]{0,11}$", v)),
            "1-12 lower-case letters and digits, starting with a letter",
        ),
        admin_group_object_ids=admin_groups,
        kubelogin_mode=reader.choice("kubeloginMode", "azurecli", ("azurecli", "workloadidentity", "msi")),
        deployer_principal_type=_deployer_principal_type(reader),
        grant_deployer_cluster_admin=reader.boolean("grantDeployerClusterAdmin", True),
        long_term_support=long_term_support,
    )


def _kubernetes_version(reader: _Reader, long_term_support: bool) -> str:
    """Empty (the AKS default, always supported), or a minor AKS still creates clusters with."""
    value = reader.text("kubernetesVersion")
    match = re.fullmatch(r"1\.([0-9]{1,2})(\.[0-9]{1,3})?", value)
    if value and not match:
        reader.fail("kubernetesVersion", value, 'MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. "1.35", or empty for the AKS default')
    elif match:
        floor = MIN_LTS_KUBERNETES_MINOR if long_term_support else MIN_KUBERNETES_MINOR
        if int(match.group(1)) < floor:
            support = (
                "long-term support" if long_term_support
                else "standard support (older minors need longTermSupport: true, the Premium tier)"
            )
            reader.fail(
                "kubernetesVersion", value,
                f"1.{floor} or newer, the oldest minor AKS creates with {support}; empty takes the AKS default. "
                "`az aks get-versions --location <region>` lists what your region offers",
            )
    return value


def _deployer_principal_type(reader: _Reader) -> str:
    value = reader.text("deployerPrincipalType", "User")
    if value == "Group":
        # The deployer's object ID comes from whoever is signed in, which is never a group.
        reader.fail(
            "deployerPrincipalType", value,
            "User or ServicePrincipal: pulumi up runs as a user or a service principal, never as a group "
            "(to give a group cluster admin, list it in clusterAdminGroupObjectIds)",
        )
        return "User"
    return reader.choice("deployerPrincipalType", "User", ("User", "ServicePrincipal"))


def _azure_devops_settings(reader: _Reader) -> AzureDevOpsSettings:
    org_url = reader.text("azureDevOpsOrgUrl", required=True).rstrip("/")
    organization = ""
    if org_url:
        match = _ORG_URL.match(org_url)
        if match:
            organization = match.group(1)
        else:
            reader.fail(
                "azureDevOpsOrgUrl", org_url,
                "https://dev.azure.com/<organisation> (no user@ part, no project; *.visualstudio.com URLs: use the dev.azure.com form)",
            )
    project = reader.matching(
        "azureDevOpsProject", reader.text("azureDevOpsProject", required=True),
        lambda v: not v or (len(v) <= 64 and not _PROJECT_FORBIDDEN.search(v) and not v.startswith(("_", ".")) and not v.endswith(".")),
        "an Azure DevOps project name (at most 64 characters, none of \\/:*?\"<>|;#$*{},+=[]%@&)",
    )

    repositories: list[Repository] = []
    urls = reader.strings("repositories", required=True)
    for url in urls:
        parsed = _parse_repository(url, organization) if organization else None
        if isinstance(parsed, str):
            reader.fail("repositories", url, parsed)
        elif parsed is not None:
            repositories.append(parsed)
    occurrences = Counter(url.lower() for url in urls)  # one pass: a count per URL was quadratic in repositories
    duplicates = sorted(url for url, count in occurrences.items() if count > 1)
    for url in duplicates:
        reader.fail("repositories", url, "each repository once (Argo CD compares URLs case-insensitively)")
    _refuse_second_spellings(reader, repositories)

    access_model = reader.choice("accessModel", "repositories", ("repositories", "readers"))
    if access_model == "readers":
        for repo in repositories:
            if repo.project != project:
                reader.fail(
                    "repositories", repo.url,
                    f"repositories of project {project!r} only with accessModel readers "
                    "(that model grants one project's Readers group); use accessModel repositories for several projects",
                )
    level = reader.text("azureDevOpsAccessLevel", "basic").lower()
    if level != "basic":
        reason = (
            "Stakeholder access cannot read Git repositories, so Argo CD would get 401/403"
            if level == "stakeholder" else "service principals are licensed directly, and Basic is what reading code needs"
        )
        reader.fail("azureDevOpsAccessLevel", level, f"basic ({reason})")
    return AzureDevOpsSettings(
        organization_url=org_url,
        organization=organization,
        project=project,
        repositories=tuple(repositories),
        access_model=access_model,
        license_type="express",  # the API's name for Basic (docs/facts.md#azure-devops)
        credential_templates=reader.boolean("credentialTemplates", False),
    )


def _refuse_second_spellings(reader: _Reader, repositories: list[Repository]) -> None:
    """Azure DevOps names are case-insensitive: a/_git/x-y and A/_git/x%2Dy are one repository in one project.

    Two spellings would give two read grants on one repository, or two groups of one name in one project,
    and the second fails only at `pulumi up`.
    """
    first_project: dict[str, str] = {}
    first_repository: dict[tuple[str, str], str] = {}
    for repo in repositories:
        project = first_project.setdefault(repo.project.lower(), repo.project)
        if project != repo.project:
            reader.fail("repositories", repo.url, f"the project written as in the other URLs ({project!r})")
        same = (repo.project.lower(), repo.name.lower())
        first = first_repository.setdefault(same, repo.url)
        if first.lower() != repo.url.lower():
            reader.fail("repositories", repo.url, f"each repository once: {first!r} names the same repository")


def _argocd_settings(reader: _Reader, azure_devops: AzureDevOpsSettings) -> ArgoCdSettings:
    install_method = reader.choice("argocdInstallMethod", "helm", ("helm", "extension"))
    namespace = reader.matching(
        "argocdNamespace", reader.text("argocdNamespace", "argocd"), is_dns_label, "a DNS-1123 label (a-z, 0-9, -; at most 63)"
    )
    if install_method == "extension" and namespace != ARGOCD_NAMESPACE_FOR_EXTENSION:
        reader.fail("argocdNamespace", namespace, f"{ARGOCD_NAMESPACE_FOR_EXTENSION!r}: the AKS extension always installs there")

    def account(key: str, default: str, role: str) -> ServiceAccount:
        name = reader.matching(key, reader.text(key, default), is_dns_subdomain, "a DNS-1123 subdomain (a-z, 0-9, -, .)")
        return ServiceAccount(namespace, name, key=role)

    hydrator = reader.boolean("sourceHydrator", False)
    # Checked with the hydrator off too: a mistyped name is refused now, not on the day the hydrator is switched on.
    commit_server = account("commitServerServiceAccount", "argocd-commit-server", "commit-server")
    if hydrator and install_method == "extension":
        reader.fail(
            "sourceHydrator", "true",
            "false with argocdInstallMethod extension: the extension's image has no argocd-commit-server "
            "(Azure/AKS#5850), so nothing could push the hydrated manifests",
        )
    hydration_targets = _hydration_targets(reader, azure_devops, hydrator)
    chart_version = reader.matching(
        "argocdChartVersion", reader.text("argocdChartVersion", "10.3.3"), _chart_version_ok,
        "an argo-cd chart version 8.3.1 or newer (X.Y.Z): older charts ship Argo CD releases whose Azure DevOps "
        "workload identity is broken (argo-cd#23100, #23348, #23478)",
    )
    return ArgoCdSettings(
        install_method=install_method,
        namespace=namespace,
        release_name=reader.matching(
            "argocdReleaseName", reader.text("argocdReleaseName", "argocd"), lambda v: is_dns_label(v) and len(v) <= 53,
            "a Helm release name (DNS-1123 label, at most 53 characters)",
        ),
        chart_version=chart_version,
        repo_server=account("repoServerServiceAccount", "argocd-repo-server", "repo-server"),
        commit_server=commit_server if hydrator else None,
        extension=_extension_settings(reader),
        bootstrap=_bootstrap_settings(reader, azure_devops),
        hydration_targets=hydration_targets,
        hydrator_creates_branches=reader.boolean("hydratorCreatesBranches", False),
    )


def _hydration_targets(reader: _Reader, azure_devops: AzureDevOpsSettings, hydrator: bool) -> tuple[Repository, ...]:
    """The repositories the Source Hydrator pushes to: each one of the configured repositories."""
    urls = reader.strings("hydrationRepositories")
    if not hydrator:
        if urls:
            reader.fail("hydrationRepositories", list(urls), "empty unless sourceHydrator is true")
        return ()
    if not urls:
        reader.problems.append(
            f"{PROJECT}:hydrationRepositories is required with sourceHydrator true: the repositories the hydrator "
            "pushes to (the identity gets push on exactly these)"
        )
    if urls and azure_devops.access_model == "readers":
        reader.fail(
            "accessModel", "readers",
            "repositories with sourceHydrator: push is granted to the dedicated group that model creates, "
            "never to the project's Readers group",
        )
    targets = []
    for url in urls:
        found = _configured_repository(azure_devops, url)
        if found is None:
            reader.fail("hydrationRepositories", url, "one of the configured repositories (Argo CD reads what it hydrates)")
        else:
            targets.append(found)
    return tuple(dict.fromkeys(targets))


def _configured_repository(azure_devops: AzureDevOpsSettings, url: str) -> Repository | None:
    """The configured repository `url` names (Argo CD and Azure DevOps compare URLs case-insensitively)."""
    return next((repo for repo in azure_devops.repositories if repo.url.lower() == url.lower()), None)


def _extension_settings(reader: _Reader) -> ExtensionSettings:
    version = reader.matching(
        "extensionVersion", reader.text("extensionVersion"),
        lambda v: not v or (bool(re.match(r"^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}(-[0-9A-Za-z.]+)?$", v)) and not v.startswith("0.0.")),
        "empty, or a 1.0.0-preview or newer version (0.0.x uses the legacy settings)",
    )
    extra: dict[str, str] = {}
    for entry in reader.strings("extensionSettings"):
        key, separator, value = entry.partition("=")
        key = key.strip()
        if not separator or not key:
            reader.fail("extensionSettings", entry, '"key=value" entries')
        elif key in LEGACY_EXTENSION_KEYS:
            reader.fail("extensionSettings", entry, f"1.0.0-preview keys: {key} is legacy, use {LEGACY_EXTENSION_KEYS[key]}")
        elif _CREDENTIAL_SETTING.search(_compact(key.rsplit(".", 1)[-1])):
            reader.problems.append(f"{PROJECT}:extensionSettings sets {key}: {PAT_FREE_OPTIONS}")
        elif key in OWNED_EXTENSION_KEYS:
            reader.fail("extensionSettings", entry, f"no {key}: the program sets it (extensionHighAvailability, the identity's client ID)")
        else:
            extra[key] = value.strip()
    return ExtensionSettings(
        release_train=reader.matching(
            "extensionReleaseTrain", reader.text("extensionReleaseTrain", "preview"),
            lambda v: bool(re.match(r"^[A-Za-z][A-Za-z0-9-]{0,31}$", v)), "a release train name such as preview or stable",
        ),
        version=version or None,
        high_availability=reader.boolean("extensionHighAvailability", False),
        extra=tuple(sorted(extra.items())),
    )


def _bootstrap_settings(reader: _Reader, azure_devops: AzureDevOpsSettings) -> BootstrapSettings | None:
    enabled = reader.boolean("bootstrapApplication", False)
    timeout = reader.integer("bootstrapTimeoutSeconds", 600, 60, 3600)
    path = reader.matching(
        "bootstrapPath", reader.text("bootstrapPath", "."),
        lambda v: not v.startswith("/") and ".." not in v.split("/") and len(v) <= 400 and bool(re.match(r"^[\w./ -]+$", v)),
        "a relative path inside the repository, e.g. apps/bootstrap",
    )
    revision = reader.matching(
        "bootstrapTargetRevision", reader.text("bootstrapTargetRevision", "HEAD"),
        # Also a pulumi.com/waitFor value, which may not hold "=" (pulumi-kubernetes refuses it as ambiguous).
        lambda v: len(v) <= 250 and bool(re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._/-]*", v)) and ".." not in v,
        "a branch, tag or commit such as HEAD, main or v1.2.0",
    )
    wanted = reader.text("bootstrapRepository")
    if not enabled or not azure_devops.repositories:
        return None
    repository = _configured_repository(azure_devops, wanted) if wanted else azure_devops.repositories[0]
    if repository is None:
        reader.fail("bootstrapRepository", wanted, "one of the configured repositories (or empty for the first)")
        return None
    return BootstrapSettings(repository, path, timeout, revision)


def check_existing_cluster_capacity(settings: Settings, node_count: int) -> None:
    """The extension's HA mode on an adopted cluster: its node count is only known after the lookup."""
    if settings.argocd.wants_extension_ha and node_count < MIN_NODES_FOR_EXTENSION_HA:
        raise ConfigError([
            f"{PROJECT}:extensionHighAvailability = 'true': the existing cluster has {node_count} nodes, "
            f"redis-ha needs at least {MIN_NODES_FOR_EXTENSION_HA}; set it false or add nodes"
        ])


def _check_cross_field_rules(reader: _Reader, settings: Settings) -> None:
    argocd, cluster = settings.argocd, settings.cluster
    if argocd.wants_extension_ha and cluster.existing is None and cluster.node_count < MIN_NODES_FOR_EXTENSION_HA:
        reader.fail(
            "nodeCount", cluster.node_count,
            f"at least {MIN_NODES_FOR_EXTENSION_HA} with extensionHighAvailability true (redis-ha spreads over 4 nodes), "
            "or set extensionHighAvailability false",
        )
    subjects = Counter(account.subject for account in settings.trusted_service_accounts)
    for subject in sorted(s for s, count in subjects.items() if count > 1):
        reader.problems.append(f"{PROJECT}:additionalServiceAccounts repeats {subject}: each service account once")
    if settings.federated_credential_count > MAX_FEDERATED_CREDENTIALS:
        reader.problems.append(
            f"{PROJECT}:additionalIssuers/additionalServiceAccounts need {settings.federated_credential_count} federated "
            f"credentials ({len(settings.trusted_service_accounts)} service accounts x "
            f"{1 + len(settings.additional_issuers)} issuers), but one managed identity holds at most "
            f"{MAX_FEDERATED_CREDENTIALS}: split the clusters over several stacks, each with its own identity"
        )

