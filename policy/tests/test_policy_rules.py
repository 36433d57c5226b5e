"""Each policy of the pack, called the way the Pulumi engine calls it: properties in wire (camelCase) form,
deserialised and wrapped in the proxy that raises on values unknown during a preview.

The pack's __main__.py is never imported here: constructing a PolicyPack starts a gRPC server and blocks.
"""

from __future__ import annotations

import base64
import contextvars
import copy
import importlib.util
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pulumi
import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs
from pulumi_policy.deserialize import SPECIAL_SECRET_SIG, SPECIAL_SIG_KEY, deserialize_properties
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy


def _load_rules() -> ModuleType:
    # Loaded under a unique name: the pack's directory is not a package, and "rules" is too common a name
    # to put on sys.path next to other test suites.
    path = Path(__file__).resolve().parents[1] / "rules.py"
    # The pack imports its shared facts as `facts`, from its own folder on sys.path when the CLI runs it.
    sys.modules.setdefault("facts", importlib.import_module("policy.facts"))
    spec = importlib.util.spec_from_file_location("argocd_wi_policy_rules", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rules = _load_rules()
POLICIES = {policy.name: policy for policy in rules.ALL_POLICIES}

SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"
EXTENSION = "azure-native:kubernetesconfiguration:Extension"
ADO_PROVIDER = "pulumi:providers:azuredevops"
CLUSTER = "azure-native:containerservice:ManagedCluster"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
ENTITLEMENT = "azuredevops:index/servicePrincipalEntitlement:ServicePrincipalEntitlement"

REPO_CREDENTIALS = "argocd-repository-credentials-are-workload-identity"
NO_PAT = "azuredevops-provider-has-no-pat"
CLUSTER_WI = "aks-workload-identity-enabled"
AUDIENCE = "federated-credential-audience"
LICENCE = "azuredevops-entitlement-can-read-repos"
CHART_FLOOR = "argocd-chart-has-workload-identity-fixes"
EXTENSION_NOT_LEGACY = "argocd-extension-not-legacy"

ADO_TEMPLATE_URL = "https://dev.azure.com/contoso/"
ADO_REPO_URL = "https://dev.azure.com/contoso/platform/_git/gitops"

_OPTIONS = PolicyResourceOptions(
    protect=False,
    ignore_changes=[],
    delete_before_replace=None,
    aliases=[],
    custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
    additional_secret_outputs=[],
)


def violations(policy_name: str, resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Run one policy over one resource exactly as the analyzer does and return the reported messages."""
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type=resource_type,
        props=unknown_checking_proxy(deserialize_properties(dict(props))),
        urn=f"urn:pulumi:dev::argocd-aks-wi::{resource_type}::res",
        name="res",
        opts=_OPTIONS,
        provider=None,
    )
    POLICIES[policy_name].validate(args, lambda message, urn=None: found.append(message))
    return found


def as_secret(value: Any) -> dict[str, Any]:
    """The wire form of a Pulumi secret, as the engine sends it to analyzers."""
    return {SPECIAL_SIG_KEY: SPECIAL_SECRET_SIG, "value": value}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def repo_secret(secret_type: str = "repo-creds", **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "ado", "labels": {"argocd.argoproj.io/secret-type": secret_type}},
        "stringData": fields,
    }


# --- Argo CD repository and credential-template secrets ------------------------------------------------


@pytest.mark.parametrize("secret_type", ["repository", "repo-creds", "repository-write", "repo-write-creds"])
def test_azure_devops_secret_with_workload_identity_passes(secret_type: str) -> None:
    props = repo_secret(secret_type, url=ADO_TEMPLATE_URL, useAzureWorkloadIdentity="true")
    assert violations(REPO_CREDENTIALS, SECRET, props) == []


@pytest.mark.parametrize("key", sorted(rules.STATIC_CREDENTIAL_KEYS))
def test_static_credential_in_string_data_fails(key: str) -> None:
    props = repo_secret(url=ADO_TEMPLATE_URL, useAzureWorkloadIdentity="true", **{key: "s3cr3t"})
    [message] = violations(REPO_CREDENTIALS, SECRET, props)
    assert key in message


def test_acr_chart_path_with_workload_identity_passes() -> None:
    props = repo_secret(
        "repository", type="helm", url="contoso.azurecr.io/charts", name="charts", enableOCI="true", useAzureWorkloadIdentity="true"
    )
    assert violations(REPO_CREDENTIALS, SECRET, props) == []


def test_plain_oci_repository_with_workload_identity_fails_citing_the_upstream_issue() -> None:
    props = repo_secret("repository", type="oci", url="oci://contoso.azurecr.io/charts", useAzureWorkloadIdentity="true")
    [message] = violations(REPO_CREDENTIALS, SECRET, props)
    assert "argo-cd#24432" in message


def test_acr_url_without_workload_identity_fails() -> None:
    props = repo_secret("repository", type="helm", url="contoso.azurecr.io/charts", enableOCI="true")
    [message] = violations(REPO_CREDENTIALS, SECRET, props)
    assert "useAzureWorkloadIdentity" in message


@pytest.mark.parametrize("resource_type", sorted(rules.ENTRA_CLIENT_SECRETS))
def test_an_entra_client_secret_fails(resource_type: str) -> None:
    [message] = violations("entra-app-has-no-client-secret", resource_type, {"applicationId": "/applications/x"})
    assert "workload identity" in message


def test_static_credential_in_data_fails() -> None:
    props = repo_secret(url=ADO_TEMPLATE_URL, useAzureWorkloadIdentity="true")
    props["data"] = {"bearerToken": b64("token")}
    [message] = violations(REPO_CREDENTIALS, SECRET, props)
    assert "bearerToken" in message


def test_password_inside_a_pulumi_secret_is_still_found() -> None:
    props = repo_secret()
    # The Kubernetes SDK marks all of stringData secret once one value is secret.
    props["stringData"] = as_secret({"url": ADO_TEMPLATE_URL, "useAzureWorkloadIdentity": "true", "password": "x"})
    [message] = violations(REPO_CREDENTIALS, SECRET, props)
    assert "password" in message


def test_password_whose_value_is_unknown_in_preview_is_still_found() -> None:
    props = repo_secret(url=ADO_TEMPLATE_URL, useAzureWorkloadIdentity="true", password=UNKNOWN_STRING_VALUE)
    [message] = violations(REPO_CREDENTIALS, SECRET, props)
    assert "password" in message


def test_unknown_url_in_preview_defers_the_check() -> None:
    props = repo_secret(url=UNKNOWN_STRING_VALUE, useAzureWorkloadIdentity="true")
    # The engine turns this into "can't run policy during preview" and runs it again at `pulumi up`.
    with pytest.raises(UnknownValueError):
        violations(REPO_CREDENTIALS, SECRET, props)


def test_azure_devops_secret_without_workload_identity_fails() -> None:
    [message] = violations(REPO_CREDENTIALS, SECRET, repo_secret(url=ADO_TEMPLATE_URL))
    assert "useAzureWorkloadIdentity" in message


def test_workload_identity_flag_must_be_the_string_true() -> None:
    props = repo_secret(url=ADO_TEMPLATE_URL, useAzureWorkloadIdentity=True)
    [message] = violations(REPO_CREDENTIALS, SECRET, props)
    assert "a string" in message


def test_fields_in_base64_data_are_decoded() -> None:
    props = repo_secret()
    props["data"] = {"url": b64(ADO_REPO_URL), "useAzureWorkloadIdentity": b64("true")}
    assert violations(REPO_CREDENTIALS, SECRET, props) == []


def test_string_data_wins_over_data_for_the_same_key() -> None:
    props = repo_secret(url=ADO_REPO_URL, useAzureWorkloadIdentity="false")
    props["data"] = {"useAzureWorkloadIdentity": b64("true")}
    assert len(violations(REPO_CREDENTIALS, SECRET, props)) == 1


@pytest.mark.parametrize(
    "url",
    ["https://contoso@dev.azure.com/contoso/platform/_git/gitops", "https://contoso.visualstudio.com/platform"],
)
def test_other_azure_devops_url_forms_need_workload_identity(url: str) -> None:
    assert len(violations(REPO_CREDENTIALS, SECRET, repo_secret(url=url))) == 1


def test_azure_devops_url_must_be_https() -> None:
    props = repo_secret(url="ssh://git@ssh.dev.azure.com/v3/contoso/platform/gitops", useAzureWorkloadIdentity="true")
    [message] = violations(REPO_CREDENTIALS, SECRET, props)
    assert "https" in message


def test_repository_outside_azure_devops_needs_no_workload_identity() -> None:
    props = repo_secret("repository", url="https://github.com/argoproj/argocd-example-apps")
    assert violations(REPO_CREDENTIALS, SECRET, props) == []


def test_secret_without_argocd_repository_label_is_ignored() -> None:
    props = repo_secret("cluster", url=ADO_REPO_URL, password="not argo's business")
    assert violations(REPO_CREDENTIALS, SECRET, props) == []


def argo_cd_release(version: str | None = "10.3.3", **configs: Any) -> dict[str, Any]:
    props: dict[str, Any] = {"chart": "argo-cd", "values": {"configs": configs}}
    if version is not None:
        props["version"] = version
    return props


def test_chart_values_with_workload_identity_pass() -> None:
    template = {"url": ADO_TEMPLATE_URL, "useAzureWorkloadIdentity": "true"}
    repository = {"type": "git", "url": ADO_REPO_URL, "useAzureWorkloadIdentity": "true"}
    props = argo_cd_release(credentialTemplates={"ado": template}, repositories={"gitops": repository})
    assert violations(REPO_CREDENTIALS, RELEASE, props) == []


def test_azure_devops_repository_needs_its_own_flag_even_beside_a_template() -> None:
    template = {"url": ADO_TEMPLATE_URL, "useAzureWorkloadIdentity": "true"}
    props = argo_cd_release(credentialTemplates={"ado": template}, repositories={"gitops": {"url": ADO_REPO_URL}})
    [message] = violations(REPO_CREDENTIALS, RELEASE, props)
    assert "configs.repositories.gitops" in message


def test_password_in_chart_repositories_fails() -> None:
    entry = {"url": ADO_REPO_URL, "useAzureWorkloadIdentity": "true", "password": "x"}
    [message] = violations(REPO_CREDENTIALS, RELEASE, argo_cd_release(repositories={"gitops": entry}))
    assert "configs.repositories.gitops" in message


def test_chart_credential_template_without_workload_identity_fails() -> None:
    props = argo_cd_release(credentialTemplates={"ado": {"url": ADO_TEMPLATE_URL}})
    [message] = violations(REPO_CREDENTIALS, RELEASE, props)
    assert "configs.credentialTemplates.ado" in message


def argocd_extension(**props: Any) -> dict[str, Any]:
    return {"extensionType": "Microsoft.ArgoCD", "releaseTrain": "preview", **props}


def test_extension_repository_settings_with_workload_identity_pass() -> None:
    settings = {
        "azure.workloadIdentity.enabled": "true",
        "configs.credentialTemplates.ado.url": ADO_TEMPLATE_URL,
        "configs.credentialTemplates.ado.useAzureWorkloadIdentity": "true",
    }
    assert violations(REPO_CREDENTIALS, EXTENSION, argocd_extension(configurationSettings=settings)) == []


def test_password_in_extension_protected_settings_fails() -> None:
    protected = as_secret({"configs.repositories.gitops.url": ADO_REPO_URL, "configs.repositories.gitops.password": "x"})
    found = violations(REPO_CREDENTIALS, EXTENSION, argocd_extension(configurationProtectedSettings=protected))
    assert any("password" in message for message in found)


def test_extension_credential_template_without_workload_identity_fails() -> None:
    settings = {"configs.credentialTemplates.ado.url": ADO_TEMPLATE_URL}
    [message] = violations(REPO_CREDENTIALS, EXTENSION, argocd_extension(configurationSettings=settings))
    assert "useAzureWorkloadIdentity" in message


# --- Azure DevOps provider and entitlement ---------------------------------------------------------------


def test_provider_using_the_azure_cli_passes() -> None:
    props = {"orgServiceUrl": "https://dev.azure.com/contoso", "useCli": "true"}
    assert violations(NO_PAT, ADO_PROVIDER, props) == []


@pytest.mark.parametrize("key", ["personalAccessToken", "clientSecret", "clientSecretPath"])
def test_provider_with_a_stored_credential_fails(key: str) -> None:
    props = {"orgServiceUrl": "https://dev.azure.com/contoso", key: as_secret(UNKNOWN_STRING_VALUE)}
    [message] = violations(NO_PAT, ADO_PROVIDER, props)
    assert key in message


@pytest.mark.parametrize("licence", ["express", "basic", "advanced"])
def test_entitlement_that_can_read_code_passes(licence: str) -> None:
    props = {"origin": "aad", "originId": "oid", "accountLicenseType": licence}
    assert violations(LICENCE, ENTITLEMENT, props) == []


def test_entitlement_without_licence_takes_the_express_default() -> None:
    assert violations(LICENCE, ENTITLEMENT, {"origin": "aad", "originId": "oid"}) == []


@pytest.mark.parametrize("licence", ["stakeholder", "Stakeholder", "none"])
def test_entitlement_that_cannot_read_code_fails(licence: str) -> None:
    props = {"origin": "aad", "originId": "oid", "accountLicenseType": licence}
    assert len(violations(LICENCE, ENTITLEMENT, props)) == 1


# --- AKS cluster and federated credential ----------------------------------------------------------------


def cluster(oidc: Any = True, workload_identity: Any = True) -> dict[str, Any]:
    return {
        "oidcIssuerProfile": {"enabled": oidc},
        "securityProfile": {"workloadIdentity": {"enabled": workload_identity}},
    }


def test_cluster_with_issuer_and_workload_identity_passes() -> None:
    assert violations(CLUSTER_WI, CLUSTER, cluster()) == []


def test_cluster_without_oidc_issuer_fails() -> None:
    [message] = violations(CLUSTER_WI, CLUSTER, cluster(oidc=False))
    assert "oidcIssuerProfile" in message


def test_cluster_without_workload_identity_fails() -> None:
    [message] = violations(CLUSTER_WI, CLUSTER, cluster(workload_identity=False))
    assert "workloadIdentity" in message


def test_cluster_without_any_profile_fails_twice() -> None:
    assert len(violations(CLUSTER_WI, CLUSTER, {"resourceGroupName": "rg"})) == 2


def test_federated_credential_with_token_exchange_audience_passes() -> None:
    props = {"subject": "system:serviceaccount:argocd:argocd-repo-server", "audiences": ["api://AzureADTokenExchange"]}
    assert violations(AUDIENCE, FEDERATED_CREDENTIAL, props) == []


@pytest.mark.parametrize("audiences", [["contoso"], ["api://AzureADTokenExchange", "contoso"], [], "api://AzureADTokenExchange"])
def test_federated_credential_with_other_audiences_fails(audiences: Any) -> None:
    assert len(violations(AUDIENCE, FEDERATED_CREDENTIAL, {"audiences": audiences})) == 1


def test_federated_credential_without_audiences_fails() -> None:
    assert len(violations(AUDIENCE, FEDERATED_CREDENTIAL, {"issuer": "https://issuer"})) == 1


# --- Argo CD versions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [rules.MIN_SAFE_ARGO_CD_CHART, "9.10.0", "10.3.3", "v10.1.3"])
def test_chart_at_or_above_the_floor_passes(version: str) -> None:
    assert violations(CHART_FLOOR, RELEASE, argo_cd_release(version)) == []


@pytest.mark.parametrize("version", ["8.1.3", "8.2.2", "8.3.0", "8.3.1-rc.1"])
def test_chart_below_the_floor_fails(version: str) -> None:
    [message] = violations(CHART_FLOOR, RELEASE, argo_cd_release(version))
    assert "older than" in message


@pytest.mark.parametrize("version", [None, "", "^9.3.0", ">=9.3.1", "latest"])
def test_chart_without_an_exact_version_fails(version: str | None) -> None:
    [message] = violations(CHART_FLOOR, RELEASE, argo_cd_release(version))
    assert "pin an exact" in message


@pytest.mark.parametrize("chart", ["argo/argo-cd", "oci://ghcr.io/argoproj/argo-helm/argo-cd"])
def test_chart_named_by_repository_or_oci_path_is_checked(chart: str) -> None:
    assert len(violations(CHART_FLOOR, RELEASE, {"chart": chart, "version": "8.1.3"})) == 1


def test_other_charts_are_ignored() -> None:
    assert violations(CHART_FLOOR, RELEASE, {"chart": "argo-workflows", "version": "0.1.0"}) == []


@pytest.mark.parametrize("version", [None, "1.0.0-preview", "1.2.3"])
def test_extension_unpinned_or_from_1_0_passes(version: str | None) -> None:
    props = argocd_extension() if version is None else argocd_extension(version=version)
    assert violations(EXTENSION_NOT_LEGACY, EXTENSION, props) == []


@pytest.mark.parametrize("version", ["0.0.9-preview", "v0.0.7"])
def test_extension_pinned_to_0_0_fails(version: str) -> None:
    [message] = violations(EXTENSION_NOT_LEGACY, EXTENSION, argocd_extension(version=version))
    assert "legacy version" in message


@pytest.mark.parametrize("key", ["workloadIdentity.enable", "workloadIdentity.clientId", "deployWithHighAvailability", "namespaceInstall"])
def test_extension_with_a_legacy_setting_fails(key: str) -> None:
    props = argocd_extension(version="1.0.0-preview", configurationSettings={key: "true"})
    [message] = violations(EXTENSION_NOT_LEGACY, EXTENSION, props)
    assert key in message


def test_other_extension_types_are_ignored() -> None:
    props = {"extensionType": "microsoft.flux", "version": "0.0.1", "configurationSettings": {"namespaceInstall": "x"}}
    assert violations(EXTENSION_NOT_LEGACY, EXTENSION, props) == []


# --- The pack as a whole ----------------------------------------------------------------------------------


def test_every_policy_is_mandatory_and_uniquely_named() -> None:
    assert len(POLICIES) == len(rules.ALL_POLICIES) == 9
    assert {policy.enforcement_level.value for policy in rules.ALL_POLICIES} == {"mandatory"}


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_policies_ignore_resource_types_they_do_not_govern(name: str) -> None:
    props = {"password": "x", "audiences": ["other"], "accountLicenseType": "stakeholder", "chart": "argo-cd"}
    assert violations(name, "azure-native:resources:ResourceGroup", props) == []


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.registered.append((args.typ, args.inputs))
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def registered_by_the_sdks(build: Callable[[], list[pulumi.Resource]]) -> list[tuple[str, dict[str, Any]]]:
    """Type and inputs of each resource `build` creates, as the SDKs serialise them for the engine.

    Runs in a copy of the context: Pulumi keeps its settings and mocks in context variables, so other
    suites' mocks are left as they were.
    """

    def run() -> list[tuple[str, dict[str, Any]]]:
        recorder = _Recorder()
        pulumi.runtime.set_mocks(recorder, preview=False)

        @pulumi.runtime.test
        def program() -> pulumi.Output[Any]:
            return pulumi.Output.all(*[resource.urn for resource in build()])

        program()
        return recorder.registered

    return contextvars.copy_context().run(run)


def all_violations(registered: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [message for name in POLICIES for typ, props in registered for message in violations(name, typ, props)]


def _compliant_resources() -> list[pulumi.Resource]:
    import pulumi_azuredevops as azuredevops
    import pulumi_kubernetes as kubernetes
    from pulumi_azure_native import containerservice, kubernetesconfiguration, managedidentity

    provider = azuredevops.Provider("ado", org_service_url="https://dev.azure.com/contoso", use_cli=True)
    return [
        provider,
        azuredevops.ServicePrincipalEntitlement(
            "entitlement",
            origin="aad",
            origin_id="principal-id",
            account_license_type="express",
            opts=pulumi.ResourceOptions(provider=provider),
        ),
        containerservice.ManagedCluster(
            "aks",
            resource_group_name="rg",
            oidc_issuer_profile={"enabled": True},
            security_profile={"workload_identity": {"enabled": True}},
        ),
        managedidentity.FederatedIdentityCredential(
            "repo-server",
            resource_group_name="rg",
            resource_name_="argocd",
            issuer="https://issuer",
            subject="system:serviceaccount:argocd:argocd-repo-server",
            audiences=["api://AzureADTokenExchange"],
        ),
        kubernetes.helm.v3.Release(
            "argocd",
            chart="argo-cd",
            version="10.3.3",
            values={"configs": {"credentialTemplates": {"ado": {"url": ADO_TEMPLATE_URL, "useAzureWorkloadIdentity": "true"}}}},
        ),
        kubernetesconfiguration.Extension(
            "argocd-extension",
            resource_group_name="rg",
            cluster_name="aks",
            cluster_rp="Microsoft.ContainerService",
            cluster_resource_name="managedClusters",
            extension_type="Microsoft.ArgoCD",
            version="1.0.0-preview",
            auto_upgrade_minor_version=False,
            configuration_settings={"azure.workloadIdentity.enabled": "true"},
        ),
        kubernetes.core.v1.Secret(
            "repo-creds",
            metadata={"labels": {"argocd.argoproj.io/secret-type": "repo-creds"}},
            string_data={"url": ADO_TEMPLATE_URL, "useAzureWorkloadIdentity": "true"},
        ),
    ]


def test_resources_built_with_the_sdks_pass_every_policy() -> None:
    registered = registered_by_the_sdks(_compliant_resources)
    assert len(registered) == 7
    assert all_violations(registered) == []


def test_pat_and_password_built_with_the_sdks_fail() -> None:
    import pulumi_azuredevops as azuredevops
    import pulumi_kubernetes as kubernetes

    def build() -> list[pulumi.Resource]:
        return [
            azuredevops.Provider("ado", personal_access_token=pulumi.Output.secret("pat")),
            kubernetes.core.v1.Secret(
                "repo-creds",
                metadata={"labels": {"argocd.argoproj.io/secret-type": "repo-creds"}},
                string_data={"url": ADO_TEMPLATE_URL, "password": pulumi.Output.secret("pat")},
            ),
        ]

    found = all_violations(registered_by_the_sdks(build))
    assert any("personalAccessToken" in message for message in found)
    assert any("password" in message for message in found)


# --- Argo CD cluster secrets (fleet) ----------------------------------------------------------------------------

CLUSTER_SECRETS = "argocd-cluster-secrets-are-credential-free"
WORKLOAD_IDENTITY_CONFIG = {
    "execProviderConfig": {
        "command": "argocd-k8s-auth", "args": ["azure"], "apiVersion": "client.authentication.k8s.io/v1beta1",
        "env": {"AAD_LOGIN_METHOD": "workloadidentity", "AZURE_CLIENT_ID": "0000", "AZURE_TENANT_ID": "1111"},
    },
    "tlsClientConfig": {"insecure": False, "caData": b64("CA")},
}


def cluster_secret(config: Mapping[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "spoke", "labels": {"argocd.argoproj.io/secret-type": "cluster"}},
        "stringData": {"name": "spoke", "server": "https://spoke.hcp.westeurope.azmk8s.io:443", "config": json.dumps(config), **fields},
    }


def with_change(path: str, value: Any) -> dict[str, Any]:
    config = copy.deepcopy(WORKLOAD_IDENTITY_CONFIG)
    target: dict[str, Any] = config
    *parents, last = path.split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value
    return config


def test_a_cluster_secret_with_workload_identity_passes() -> None:
    assert violations(CLUSTER_SECRETS, SECRET, cluster_secret(WORKLOAD_IDENTITY_CONFIG)) == []


@pytest.mark.parametrize(("path", "value", "named"), [
    ("bearerToken", "eyJhbGciOi", "bearerToken"),
    ("password", "s3cr3t", "password"),
    ("tlsClientConfig.keyData", b64("KEY"), "keyData"),
    ("tlsClientConfig.certData", b64("CERT"), "certData"),
    ("tlsClientConfig.insecure", True, "insecure"),
    ("execProviderConfig.env.AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "s3cr3t", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"),
    ("execProviderConfig.env.AAD_USER_PRINCIPAL_PASSWORD", "s3cr3t", "AAD_USER_PRINCIPAL_PASSWORD"),
])
def test_a_cluster_secret_with_a_credential_fails(path: str, value: Any, named: str) -> None:
    [message] = violations(CLUSTER_SECRETS, SECRET, cluster_secret(with_change(path, value)))
    assert named in message


def test_a_credential_in_base64_data_is_found_too() -> None:
    props = cluster_secret(WORKLOAD_IDENTITY_CONFIG)
    props["data"] = {"config": b64(json.dumps(with_change("bearerToken", "eyJ")))}
    del props["stringData"]["config"]
    [message] = violations(CLUSTER_SECRETS, SECRET, props)
    assert "bearerToken" in message


def test_a_top_level_bearer_token_field_fails() -> None:
    messages = violations(CLUSTER_SECRETS, SECRET, cluster_secret(WORKLOAD_IDENTITY_CONFIG, bearerToken="eyJ"))
    assert any("bearerToken" in message for message in messages)


def test_a_repository_secret_is_not_judged_as_a_cluster_secret() -> None:
    props = repo_secret("repository", url=ADO_REPO_URL, useAzureWorkloadIdentity="true")
    assert violations(CLUSTER_SECRETS, SECRET, props) == []
