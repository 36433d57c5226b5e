"""Policies that keep Argo CD's access to Azure DevOps secretless.

Each policy sees every resource of a stack and acts only on its own resource type. Property names are the
camelCase wire names the engine sends (`stringData`, `oidcIssuerProfile`, `accountLicenseType`, ...).

During a preview the engine wraps the properties in a proxy that raises on a value that is not known yet; the
policy is then reported as "can't run during preview" and runs for real at `pulumi up`. To flag a forbidden
key whose value is still unknown, the checks below find keys by iterating a mapping (which reads no value)
and read only the few values they need.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from facts import LEGACY_EXTENSION_SETTINGS, MIN_SAFE_ARGO_CD_CHART, at_least, release_key
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
# Read secrets, and the Source Hydrator's write secrets (docs/facts.md#source-hydrator): a credential in any of them
# would win over workload identity.
ARGOCD_REPOSITORY_SECRET_TYPES = frozenset({"repository", "repo-creds", "repository-write", "repo-write-creds"})

# Any of these in a repository secret wins over workload identity, which Argo CD then silently ignores.
STATIC_CREDENTIAL_KEYS = frozenset(
    {
        "username",
        "password",
        "bearerToken",
        "sshPrivateKey",
        "tlsClientCertKey",
        "githubAppPrivateKey",
        "gcpServiceAccountKey",
    }
)

# Provider inputs that would put a long-lived Azure DevOps credential in the stack.
AZURE_DEVOPS_PROVIDER_SECRETS = (
    "personalAccessToken",
    "clientSecret",
    "clientSecretPath",
)

# Stakeholder cannot read repositories; "none" is no access at all.
REFUSED_AZURE_DEVOPS_LICENSES = frozenset({"stakeholder", "none"})


KUBERNETES_SECRET = "kubernetes:core/v1:Secret"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
AKS_EXTENSION = "azure-native:kubernetesconfiguration:Extension"
AZURE_DEVOPS_PROVIDER = "pulumi:providers:azuredevops"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
SERVICE_PRINCIPAL_ENTITLEMENT = "azuredevops:index/servicePrincipalEntitlement:ServicePrincipalEntitlement"
# Client secrets of an Entra app registration: Argo CD's sign-in uses workload identity instead (docs/facts.md#entra-sso).
ENTRA_CLIENT_SECRETS = frozenset({
    "azuread:index/applicationPassword:ApplicationPassword",
    "azuread:index/servicePrincipalPassword:ServicePrincipalPassword",
})

# Flattened extension settings such as "configs.credentialTemplates.ado.useAzureWorkloadIdentity".
_EXTENSION_REPOSITORY_SETTING = re.compile(r"^configs\.(?:repositories|credentialTemplates)\.([^.]+)\.(.+)$")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _is_azure_devops(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    # visualstudio.com is the older form of an Azure DevOps organisation URL.
    return host == "dev.azure.com" or host.endswith((".dev.azure.com", ".visualstudio.com"))


def _repository_problems(keys: Iterable[str], field: Callable[[str], Any]) -> list[str]:
    """What is wrong with one repository or credential-template entry, given its keys and a value reader."""
    problems = []
    static = sorted(set(keys) & STATIC_CREDENTIAL_KEYS)
    if static:
        problems.append(f"holds static credentials {static}; use useAzureWorkloadIdentity instead")
    url = field("url")
    if field("type") == "oci" and field("useAzureWorkloadIdentity") == "true":
        problems.append(
            "is type oci with useAzureWorkloadIdentity, which Argo CD does not support yet (argo-cd#24432); "
            'register an ACR chart path as type helm with enableOCI: "true"'
        )
    if isinstance(url, str) and ".azurecr.io" in url and field("useAzureWorkloadIdentity") != "true" and not static:
        problems.append(f'ACR URL {url!r} needs useAzureWorkloadIdentity: "true" (a string): there is no other PAT-free way in')
    # Argo CD would copy the flag from a matching credential template, but each entry must carry it itself:
    # a policy sees one resource at a time, and an entry that states its own authentication reads unambiguously.
    if isinstance(url, str) and _is_azure_devops(url):
        if urlsplit(url).scheme != "https":
            problems.append(f"Azure DevOps URL {url!r} must be https: workload identity sends an HTTP bearer token")
        flag = field("useAzureWorkloadIdentity")
        if flag != "true":
            problems.append(f'Azure DevOps URL {url!r} needs useAzureWorkloadIdentity: "true" (a string), got {flag!r}')
    return problems


def _decoded(value: Any) -> Any:
    """A Secret's `data` value as text, or unchanged when it is not base64."""
    if not isinstance(value, str):
        return value
    try:
        return base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return value


def check_repository_secret(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != KUBERNETES_SECRET:
        return
    labels = _mapping(_mapping(args.props.get("metadata")).get("labels"))
    secret_type = labels.get(SECRET_TYPE_LABEL)
    if secret_type not in ARGOCD_REPOSITORY_SECRET_TYPES:
        return
    string_data = _mapping(args.props.get("stringData"))
    data = _mapping(args.props.get("data"))

    def field(name: str) -> Any:
        # Kubernetes lets stringData win over data for the same key.
        if name in string_data:
            return string_data[name]
        return _decoded(data.get(name))

    for problem in _repository_problems([*string_data, *data], field):
        report_violation(f"Argo CD {secret_type} Secret {args.name}: {problem}", None)


# Fields of an Argo CD cluster Secret's `config` that hold a credential (pkg/apis/application/v1alpha1 ClusterConfig
# and TLSClientConfig): a static token, basic auth, a client key or certificate (docs/facts.md#argo-cd-cluster-secrets-for-aks-fleet).
CLUSTER_CREDENTIAL_FIELDS = ("bearerToken", "password", "username")
CLUSTER_TLS_CREDENTIAL_FIELDS = ("keyData", "certData")
# Exec environment that carries a secret for argocd-k8s-auth (the spn and ropc flows of its azure command).
_SECRET_ENV = re.compile(r"(SECRET|PASSWORD|CERTIFICATE)", re.I)


def cluster_secret_problems(config: Any) -> list[str]:
    """What is wrong with a cluster Secret's `config` (parsed JSON): any credential at all."""
    if not isinstance(config, Mapping):
        return ["config is not a JSON object"]
    problems = [f"config holds {field}" for field in CLUSTER_CREDENTIAL_FIELDS if config.get(field)]
    tls = _mapping(config.get("tlsClientConfig"))
    problems += [
        f"config.tlsClientConfig holds {field} (a client certificate or key)"
        for field in CLUSTER_TLS_CREDENTIAL_FIELDS if tls.get(field)
    ]
    if tls.get("insecure") is True:
        problems.append("config.tlsClientConfig.insecure is true: give caData instead")
    env = _mapping(_mapping(config.get("execProviderConfig")).get("env"))
    problems += [f"config.execProviderConfig.env sets {key}" for key in sorted(env) if _SECRET_ENV.search(key)]
    return problems


def check_cluster_secret(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != KUBERNETES_SECRET:
        return
    labels = _mapping(_mapping(args.props.get("metadata")).get("labels"))
    if labels.get(SECRET_TYPE_LABEL) != "cluster":
        return
    string_data = _mapping(args.props.get("stringData"))
    data = _mapping(args.props.get("data"))
    raw = string_data["config"] if "config" in string_data else _decoded(data.get("config"))
    for key in sorted({*string_data, *data} & set(CLUSTER_CREDENTIAL_FIELDS)):
        report_violation(f"Argo CD cluster Secret {args.name}: holds {key}; reach the cluster with workload identity", None)
    if raw is None:
        return
    try:
        config = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        config = None
    for problem in cluster_secret_problems(config):
        report_violation(
            f"Argo CD cluster Secret {args.name}: {problem}; use execProviderConfig with argocd-k8s-auth azure and "
            "AAD_LOGIN_METHOD=workloadidentity",
            None,
        )


def _is_argo_cd_chart(props: Mapping[str, Any]) -> bool:
    chart = props.get("chart")
    # "argo-cd", "argo/argo-cd" or "oci://ghcr.io/argoproj/argo-helm/argo-cd" all name the same chart.
    return isinstance(chart, str) and chart.rstrip("/").rsplit("/", 1)[-1] == "argo-cd"


def check_chart_repositories(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """The chart renders `configs.repositories` and `configs.credentialTemplates` into repository Secrets."""
    if args.resource_type != HELM_RELEASE or not _is_argo_cd_chart(args.props):
        return
    configs = _mapping(_mapping(args.props.get("values")).get("configs"))
    for block in ("repositories", "credentialTemplates"):
        for key, value in _mapping(configs.get(block)).items():
            entry = _mapping(value)
            for problem in _repository_problems(entry, entry.get):
                report_violation(f"Helm release {args.name}, configs.{block}.{key}: {problem}", None)


def _is_argocd_extension(props: Mapping[str, Any]) -> bool:
    extension_type = props.get("extensionType")
    return isinstance(extension_type, str) and extension_type.lower() == "microsoft.argocd"


def _group_repository_settings(
    settings: Mapping[str, Any],
) -> dict[str, dict[str, str]]:
    """Entry name -> {field: full setting key}, for the settings that describe repositories."""
    entries: dict[str, dict[str, str]] = {}
    for key in settings:
        match = _EXTENSION_REPOSITORY_SETTING.match(key)
        if match:
            entries.setdefault(match.group(1), {})[match.group(2)] = key
    return entries


def _setting_reader(settings: Mapping[str, Any], entry: Mapping[str, str]) -> Callable[[str], Any]:
    return lambda field: settings.get(entry[field]) if field in entry else None


def check_extension_repositories(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """The extension's flattened settings render repository Secrets the same way the chart does."""
    if args.resource_type != AKS_EXTENSION or not _is_argocd_extension(args.props):
        return
    for settings_name in ("configurationSettings", "configurationProtectedSettings"):
        settings = _mapping(args.props.get(settings_name))
        for entry_name, entry in _group_repository_settings(settings).items():
            for problem in _repository_problems(entry, _setting_reader(settings, entry)):
                report_violation(
                    f"Argo CD extension {args.name}, {settings_name} {entry_name!r}: {problem}",
                    None,
                )


def check_azure_devops_provider(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != AZURE_DEVOPS_PROVIDER:
        return
    for key in sorted(set(args.props) & set(AZURE_DEVOPS_PROVIDER_SECRETS)):
        report_violation(
            f"Azure DevOps provider {args.name} sets {key}; authenticate with the Azure CLI (use_cli), "
            "OIDC (use_oidc) or a managed identity (use_msi) instead",
            None,
        )


def check_no_entra_client_secret(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type in ENTRA_CLIENT_SECRETS:
        report_violation(
            f"{args.name} is a client secret of an Entra application; Argo CD signs in through workload identity "
            "(a federated credential on the app), with no secret to store or rotate",
            None,
        )


def check_cluster_workload_identity(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != MANAGED_CLUSTER:
        return
    oidc_issuer = _mapping(args.props.get("oidcIssuerProfile"))
    if oidc_issuer.get("enabled") is not True:
        report_violation(f"AKS cluster {args.name} needs oidcIssuerProfile.enabled = true", None)
    workload_identity = _mapping(_mapping(args.props.get("securityProfile")).get("workloadIdentity"))
    if workload_identity.get("enabled") is not True:
        report_violation(
            f"AKS cluster {args.name} needs securityProfile.workloadIdentity.enabled = true",
            None,
        )


def check_federated_credential_audience(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != FEDERATED_CREDENTIAL:
        return
    audiences = args.props.get("audiences")
    if not isinstance(audiences, Iterable) or list(audiences) != [WORKLOAD_IDENTITY_AUDIENCE]:
        report_violation(
            f"Federated credential {args.name} must have audiences [{WORKLOAD_IDENTITY_AUDIENCE!r}], got {audiences!r}",
            None,
        )


def check_entitlement_license(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SERVICE_PRINCIPAL_ENTITLEMENT:
        return
    # Absent means the provider's default, express (Basic), which can read repositories.
    license_type = args.props.get("accountLicenseType")
    if isinstance(license_type, str) and license_type.lower() in REFUSED_AZURE_DEVOPS_LICENSES:
        report_violation(
            f"Entitlement {args.name} has licence {license_type!r}, which cannot read repositories; use express (Basic) or higher",
            None,
        )


def check_argo_cd_chart_version(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != HELM_RELEASE or not _is_argo_cd_chart(args.props):
        return
    version = args.props.get("version")
    if not isinstance(version, str) or release_key(version) is None:
        report_violation(
            f"Helm release {args.name} must pin an exact argo-cd chart version >= {MIN_SAFE_ARGO_CD_CHART}, got {version!r}",
            None,
        )
    elif not at_least(version, MIN_SAFE_ARGO_CD_CHART):
        report_violation(
            f"Helm release {args.name} pins argo-cd chart {version}, older than {MIN_SAFE_ARGO_CD_CHART}: "
            "its Argo CD is affected by the Azure DevOps workload-identity bugs",
            None,
        )


def check_argocd_extension_not_legacy(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != AKS_EXTENSION or not _is_argocd_extension(args.props):
        return
    version = args.props.get("version")
    if isinstance(version, str) and version.strip().lstrip("v").startswith("0.0."):
        report_violation(
            f"Argo CD extension {args.name} pins legacy version {version}; use 1.0.0 or later",
            None,
        )
    settings = _mapping(args.props.get("configurationSettings"))
    for key in sorted(set(settings) & set(LEGACY_EXTENSION_SETTINGS)):
        report_violation(
            f"Argo CD extension {args.name} uses legacy setting {key!r} from the 0.0.x extension",
            None,
        )


def _mandatory(name: str, description: str, *validations: ResourceValidation) -> ResourceValidationPolicy:
    return ResourceValidationPolicy(
        name=name,
        description=description,
        enforcement_level=EnforcementLevel.MANDATORY,
        validate=list(validations),
    )


ALL_POLICIES: list[Policy] = [
    _mandatory(
        "argocd-repository-credentials-are-workload-identity",
        "Argo CD repository and credential-template secrets hold no static credential, "
        "and those for Azure DevOps switch on workload identity.",
        check_repository_secret,
        check_chart_repositories,
        check_extension_repositories,
    ),
    _mandatory(
        "argocd-cluster-secrets-are-credential-free",
        "Argo CD cluster secrets hold no bearer token, password, client key or certificate, and trust the cluster's CA.",
        check_cluster_secret,
    ),
    _mandatory(
        "azuredevops-provider-has-no-pat",
        "The Azure DevOps provider authenticates without a PAT or client secret.",
        check_azure_devops_provider,
    ),
    _mandatory(
        "entra-app-has-no-client-secret",
        "No Entra application or service principal in the stack has a client secret.",
        check_no_entra_client_secret,
    ),
    _mandatory(
        "aks-workload-identity-enabled",
        "Every AKS cluster has the OIDC issuer and workload identity switched on.",
        check_cluster_workload_identity,
    ),
    _mandatory(
        "federated-credential-audience",
        f"Every federated identity credential has the audience {WORKLOAD_IDENTITY_AUDIENCE}.",
        check_federated_credential_audience,
    ),
    _mandatory(
        "azuredevops-entitlement-can-read-repos",
        "Azure DevOps service principal entitlements are not Stakeholder (or none).",
        check_entitlement_license,
    ),
    _mandatory(
        "argocd-chart-has-workload-identity-fixes",
        f"The argo-cd Helm chart is pinned at {MIN_SAFE_ARGO_CD_CHART} or later.",
        check_argo_cd_chart_version,
    ),
    _mandatory(
        "argocd-extension-not-legacy",
        "The AKS Argo CD extension is not a 0.0.x version and uses none of its legacy settings.",
        check_argocd_extension_not_legacy,
    ),
]
