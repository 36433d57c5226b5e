"""The core stack's wiring, asserted by value on what each provider would receive (preview=False)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from harness import (
    CLUSTER,
    CREDENTIAL,
    ENTITLEMENT,
    IDENTITY,
    ORG,
    RELEASE,
    RESOURCE_GROUP,
    ROLE_ASSIGNMENT,
    SECRET,
    generated,
    run_program,
)
from tools.offline.engine import ProgramRun, Resource, walk

K8S_PROVIDER = "pulumi:providers:kubernetes"

AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
WI_CLIENT_ID = "azure.workload.identity/client-id"
WI_USE = "azure.workload.identity/use"
# Everything through which Argo CD could authenticate other than workload identity: any of them wins
# (docs/facts.md#argo-cd-repository-secrets).
CREDENTIAL_FIELDS = {
    "username", "password", "bearerToken", "sshPrivateKey", "tlsClientCertData", "tlsClientCertKey",
    "githubAppPrivateKey", "githubAppID", "githubAppInstallationID", "gcpServiceAccountKey",
    "azureServicePrincipalClientSecret", "azureServicePrincipalClientId", "azureServicePrincipalTenantId",
}

# Every name that must agree with the federated credential, away from its default.
RENAMED = {
    "argocdNamespace": "gitops-system",
    "repoServerServiceAccount": "gitops-repo-reader",
    "argocdReleaseName": "gitops",
    "nodeCount": 3,
    "nodeVmSize": "Standard_D8ds_v5",
    "systemPoolName": "sysnodes",
    "kubernetesVersion": "1.36.2",
}


@pytest.fixture(scope="module")
def renamed() -> ProgramRun:
    return run_program("dev", overrides=RENAMED)




def repo_server_values(run: ProgramRun) -> dict[str, Any]:
    return run.one(RELEASE).inputs["values"]["repoServer"]


def repository_secrets(run: ProgramRun) -> list[Resource]:
    return [s for s in run.of_type(SECRET) if s.input("metadata.labels")["argocd.argoproj.io/secret-type"] == "repository"]


def kubeconfig(run: ProgramRun) -> dict[str, Any]:
    return yaml.safe_load(run.one(K8S_PROVIDER).inputs["kubeconfig"])


# --- Workload identity: issuer, subject, audience ----------------------------------------------------


def test_credential_issuer_is_the_new_clusters_oidc_issuer_output(dev: ProgramRun) -> None:
    issuer = dev.one(CLUSTER).outputs["oidcIssuerProfile"]["issuerURL"]
    assert dev.one(CREDENTIAL).inputs["issuer"] == issuer
    assert dev.label(issuer) == "OIDC issuer URL of cluster-aks"


def test_credential_waits_for_the_cluster_that_issues_its_tokens(dev: ProgramRun) -> None:
    assert dev.depends_on(dev.one(CREDENTIAL), dev.one(CLUSTER))


def test_credential_subject_is_the_repo_server_service_account_by_default(dev: ProgramRun) -> None:
    assert dev.one(CREDENTIAL).inputs["subject"] == "system:serviceaccount:argocd:argocd-repo-server"


def test_credential_subject_is_the_helm_service_account_for_renamed_namespace_account_and_release(
    renamed: ProgramRun,
) -> None:
    release = renamed.one(RELEASE)
    helm_account = release.inputs["values"]["repoServer"]["serviceAccount"]["name"]
    expected = f"system:serviceaccount:{release.inputs['namespace']}:{helm_account}"
    assert renamed.one(CREDENTIAL).inputs["subject"] == expected == "system:serviceaccount:gitops-system:gitops-repo-reader"


def test_helm_release_takes_the_configured_release_name_and_namespace(renamed: ProgramRun) -> None:
    release = renamed.one(RELEASE)
    assert (release.inputs["name"], release.inputs["namespace"]) == ("gitops", "gitops-system")


def test_credential_audience_is_the_token_exchange_audience(dev: ProgramRun) -> None:
    assert dev.one(CREDENTIAL).inputs["audiences"] == ["api://AzureADTokenExchange"]


def test_credential_belongs_to_the_identity(dev: ProgramRun) -> None:
    identity = dev.one(IDENTITY)
    credential = dev.one(CREDENTIAL)
    assert credential.inputs["resourceName"] == identity.outputs["name"]
    assert credential.inputs["resourceGroupName"] == identity.inputs["resourceGroupName"]


# --- Argo CD (Helm): the repo-server runs as the identity -------------------------------------------


def test_repo_server_service_account_is_annotated_with_the_identity_client_id_output(dev: ProgramRun) -> None:
    identity = dev.one(IDENTITY)
    annotation = repo_server_values(dev)["serviceAccount"]["annotations"][WI_CLIENT_ID]
    assert annotation == identity.outputs["clientId"]
    assert annotation != identity.outputs["principalId"]


def test_repo_server_pod_template_carries_the_client_id_so_a_new_identity_restarts_the_pods(dev: ProgramRun) -> None:
    pod_annotations = repo_server_values(dev)["podAnnotations"]
    assert list(pod_annotations.values()) == [dev.one(IDENTITY).outputs["clientId"]]


def test_repo_server_pods_are_labelled_for_the_webhook_with_the_string_true(dev: ProgramRun) -> None:
    assert repo_server_values(dev)["podLabels"] == {WI_USE: "true"}


def test_repo_server_service_account_is_created_with_the_configured_name(renamed: ProgramRun) -> None:
    account = repo_server_values(renamed)["serviceAccount"]
    assert (account["create"], account["name"]) == (True, "gitops-repo-reader")


def test_only_the_repo_server_runs_as_the_identity_without_the_hydrator(dev: ProgramRun) -> None:
    assert set(dev.one(RELEASE).inputs["values"]) == {"repoServer"}


def test_helm_release_pins_an_argo_cd_chart_with_the_workload_identity_fixes(dev: ProgramRun) -> None:
    release = dev.one(RELEASE)
    assert (release.inputs["chart"], release.inputs["version"]) == ("argo-cd", "10.3.3")
    assert release.inputs["repositoryOpts"]["repo"] == "https://argoproj.github.io/argo-helm"


def test_helm_release_waits_for_the_federated_credential(dev: ProgramRun) -> None:
    assert dev.depends_on(dev.one(RELEASE), dev.one(CREDENTIAL))


# --- Azure DevOps entitlement ------------------------------------------------------------------------


def test_entitlement_admits_the_identity_principal_id(dev: ProgramRun) -> None:
    identity = dev.one(IDENTITY)
    origin_id = dev.one(ENTITLEMENT).inputs["originId"]
    assert origin_id == identity.outputs["principalId"]
    assert origin_id != identity.outputs["clientId"]


def test_entitlement_is_an_entra_identity_with_a_basic_licence(dev: ProgramRun) -> None:
    entitlement = dev.one(ENTITLEMENT)
    assert (entitlement.inputs["origin"], entitlement.inputs["accountLicenseType"]) == ("aad", "express")


@pytest.mark.parametrize("cluster_side", [CLUSTER, ROLE_ASSIGNMENT, K8S_PROVIDER])
def test_entitlement_does_not_wait_for_the_cluster(dev: ProgramRun, cluster_side: str) -> None:
    assert not dev.depends_on(dev.one(ENTITLEMENT), dev.one(cluster_side))


def test_azure_devops_provider_has_no_personal_access_token(dev: ProgramRun) -> None:
    provider = dev.one("pulumi:providers:azuredevops")
    assert provider.inputs == {"orgServiceUrl": ORG}


# --- Cluster -----------------------------------------------------------------------------------------


def test_cluster_has_the_oidc_issuer_and_workload_identity_on(dev: ProgramRun) -> None:
    cluster = dev.one(CLUSTER)
    assert cluster.input("oidcIssuerProfile.enabled") is True
    assert cluster.input("securityProfile.workloadIdentity.enabled") is True


def test_cluster_uses_managed_entra_id_with_azure_rbac(dev: ProgramRun) -> None:
    cluster = dev.one(CLUSTER)
    assert cluster.input("aadProfile.managed") is True
    assert cluster.input("aadProfile.enableAzureRBAC") is True


def test_cluster_has_local_accounts_disabled(dev: ProgramRun) -> None:
    assert dev.one(CLUSTER).inputs["disableLocalAccounts"] is True


def test_system_node_pool_and_version_come_from_config(renamed: ProgramRun) -> None:
    cluster = renamed.one(CLUSTER)
    pool = cluster.input("agentPoolProfiles.0")
    assert (pool["name"], pool["mode"], pool["count"], pool["vmSize"]) == ("sysnodes", "System", 3, "Standard_D8ds_v5")
    assert cluster.inputs["kubernetesVersion"] == "1.36.2"


# --- The deployer's access to the cluster ------------------------------------------------------------


def test_deployer_role_assignment_is_for_the_client_config_object_id(dev: ProgramRun) -> None:
    assert dev.one(ROLE_ASSIGNMENT).inputs["principalId"] == generated(dev, "objectId of the deployer")


def test_deployer_role_is_aks_rbac_cluster_admin(dev: ProgramRun) -> None:
    role = dev.one(ROLE_ASSIGNMENT).inputs["roleDefinitionId"]
    subscription = "00000000-0000-0000-0000-00000000a2e5"
    assert role == f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{AKS_RBAC_CLUSTER_ADMIN}"


def test_deployer_role_scope_is_the_resource_group_holding_the_new_cluster(dev: ProgramRun) -> None:
    group = dev.one(RESOURCE_GROUP).outputs["name"]
    assert dev.one(CLUSTER).inputs["resourceGroupName"] == group
    assert dev.one(ROLE_ASSIGNMENT).inputs["scope"] == f"/subscriptions/00000000-0000-0000-0000-00000000a2e5/resourceGroups/{group}"


@pytest.mark.parametrize(("configured", "expected"), [(None, "User"), ("ServicePrincipal", "ServicePrincipal")])
def test_deployer_principal_type_comes_from_config(configured: str | None, expected: str) -> None:
    run = run_program("dev", overrides={"deployerPrincipalType": configured})
    assert run.one(ROLE_ASSIGNMENT).inputs["principalType"] == expected


def test_kubernetes_provider_waits_for_the_deployer_role_assignment(dev: ProgramRun) -> None:
    assert dev.depends_on(dev.one(K8S_PROVIDER), dev.one(ROLE_ASSIGNMENT))


# --- Kubeconfig --------------------------------------------------------------------------------------


def test_kubeconfig_carries_no_static_credential(dev: ProgramRun) -> None:
    static = {"token", "client-key-data", "client-certificate-data", "password", "username", "tokenFile"}
    found = {path.rsplit(".", 1)[-1] for path, _ in walk(kubeconfig(dev))}
    assert found & static == set()


def test_kubeconfig_gets_entra_tokens_from_kubelogin_with_the_azure_cli_login(dev: ProgramRun) -> None:
    (user,) = kubeconfig(dev)["users"]
    exec_ = user["user"]["exec"]
    assert exec_["command"] == "kubelogin"
    assert exec_["args"][:3] == ["get-token", "--login", "azurecli"]
    assert exec_["interactiveMode"] == "Never"


def test_kubeconfig_points_at_the_cluster_it_was_listed_for(dev: ProgramRun) -> None:
    (cluster,) = kubeconfig(dev)["clusters"]
    assert cluster["cluster"]["server"] == f"https://{dev.one(CLUSTER).outputs['name']}.hcp.westeurope.azmk8s.io:443"


def test_kubeconfig_is_a_secret(dev: ProgramRun) -> None:
    assert "kubeconfig" in dev.one(K8S_PROVIDER).secret_paths


# --- Repository secrets ------------------------------------------------------------------------------


def test_one_repository_secret_per_configured_repository(dev: ProgramRun) -> None:
    assert sorted(s.input("stringData.url") for s in repository_secrets(dev)) == sorted(dev_repositories(dev))


def test_every_argocd_secret_is_labelled_as_a_repository(dev: ProgramRun) -> None:
    assert [s.input("metadata.labels")["argocd.argoproj.io/secret-type"] for s in dev.of_type(SECRET)] == ["repository"] * 2


def test_repository_secret_is_git_over_workload_identity_as_the_string_true(dev: ProgramRun) -> None:
    for secret in repository_secrets(dev):
        data = secret.inputs["stringData"]
        assert (data["type"], data["useAzureWorkloadIdentity"]) == ("git", "true")


def test_repository_secret_holds_no_credential_field(dev: ProgramRun) -> None:
    for secret in repository_secrets(dev):
        assert set(secret.inputs["stringData"]) == {"type", "url", "useAzureWorkloadIdentity"}
        assert set(secret.inputs["stringData"]) & CREDENTIAL_FIELDS == set()
        assert "data" not in secret.inputs


def test_repository_secrets_live_in_the_argocd_namespace(renamed: ProgramRun) -> None:
    assert {s.input("metadata.namespace") for s in repository_secrets(renamed)} == {"gitops-system"}


def test_repository_secrets_wait_for_the_helm_release(dev: ProgramRun) -> None:
    release = dev.one(RELEASE)
    assert all(dev.depends_on(secret, release) for secret in repository_secrets(dev))


# --- Stack outputs -----------------------------------------------------------------------------------


def dev_repositories(run: ProgramRun) -> list[str]:
    return json.loads(run.config["argocd-aks-wi:repositories"])


def test_stack_exports_the_cluster_name(dev: ProgramRun) -> None:
    assert dev.stack_outputs["clusterName"] == dev.one(CLUSTER).outputs["name"]


def test_stack_exports_the_oidc_issuer_url(dev: ProgramRun) -> None:
    assert dev.stack_outputs["oidcIssuerUrl"] == dev.one(CLUSTER).outputs["oidcIssuerProfile"]["issuerURL"]


def test_stack_exports_the_identity_client_id(dev: ProgramRun) -> None:
    assert dev.stack_outputs["identityClientId"] == dev.one(IDENTITY).outputs["clientId"]


def test_stack_exports_the_argocd_namespace(renamed: ProgramRun) -> None:
    assert renamed.stack_outputs["argocdNamespace"] == "gitops-system"


def test_stack_exports_the_registered_repository_urls(dev: ProgramRun) -> None:
    assert dev.stack_outputs["repositoryUrls"] == dev_repositories(dev)


def test_next_steps_get_credentials_for_the_new_cluster(dev: ProgramRun) -> None:
    group, cluster = dev.one(RESOURCE_GROUP).outputs["name"], dev.one(CLUSTER).outputs["name"]
    assert dev.stack_outputs["nextSteps"][0].startswith(f"az aks get-credentials --resource-group {group} --name {cluster}")


@pytest.mark.parametrize(
    ("release_name", "server_service"),
    [
        pytest.param("argocd", "argocd-server", id="release-argocd"),
        # The chart's fullname is the release name only when it contains "argocd" (its nameOverride).
        pytest.param("gitops", "gitops-argocd-server", id="release-without-argocd-in-its-name"),
    ],
)
def test_next_steps_open_the_ui_through_the_charts_server_service(release_name: str, server_service: str) -> None:
    run = run_program("dev", overrides={"argocdReleaseName": release_name, "argocdNamespace": "gitops-system"})
    assert f"kubectl -n gitops-system port-forward svc/{server_service} 8080:443" in run.stack_outputs["nextSteps"][1]


def test_next_steps_read_the_initial_admin_password(renamed: ProgramRun) -> None:
    assert any(
        "kubectl -n gitops-system get secret argocd-initial-admin-secret" in step
        for step in renamed.stack_outputs["nextSteps"]
    )


def test_no_stack_output_is_secret(dev: ProgramRun) -> None:
    assert dev.secret_outputs == set()


def test_the_api_server_and_its_ca_are_exported_in_clear_from_the_clusters_kubeconfig(dev: ProgramRun) -> None:
    """esc/kubectl.yaml builds a kubeconfig from these two outputs, so they must be readable (not secrets)."""
    provider_kubeconfig = kubeconfig(dev)["clusters"][0]["cluster"]
    assert dev.stack_outputs["apiServerUrl"] == provider_kubeconfig["server"]
    assert dev.stack_outputs["clusterCaData"] == provider_kubeconfig["certificate-authority-data"]
    assert {"apiServerUrl", "clusterCaData"}.isdisjoint(dev.secret_outputs)
