"""AksCluster on its own: built directly with the test's arguments."""

from __future__ import annotations

import yaml

from components.cluster import AksCluster, AksClusterArgs
from components.vocabulary import KubeloginMode, PrincipalType
from harness import CLUSTER, GET_CLUSTER, ROLE_ASSIGNMENT
from tools.offline.engine import ProgramRun, run_components

GROUP_ID = "/subscriptions/0000/resourceGroups/rg-test"


def cluster(**extra: object) -> ProgramRun:
    args = AksClusterArgs(
        location="swedencentral",
        resource_group_name="rg-test",
        resource_group_id=GROUP_ID,
        name_prefix="argocd-wi-test",
        kubelogin_mode=KubeloginMode.WORKLOAD_IDENTITY,
        node_count=3,
        node_vm_size="Standard_D2ds_v5",
        system_pool_name="sys",
        long_term_support=False,
        grant_deployer_cluster_admin=True,
        deployer_principal_type=PrincipalType.SERVICE_PRINCIPAL,
        protect=False,
    )
    args.update(extra)  # type: ignore[typeddict-item]

    def build() -> None:
        AksCluster("cluster", args)

    return run_components(build)


def test_a_new_cluster_has_the_issuer_workload_identity_entra_rbac_and_no_local_accounts() -> None:
    aks = cluster().one(CLUSTER).inputs
    assert aks["oidcIssuerProfile"] == {"enabled": True}
    assert aks["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert aks["aadProfile"]["managed"] and aks["aadProfile"]["enableAzureRBAC"]
    assert aks["disableLocalAccounts"] is True
    assert (aks["location"], aks["resourceGroupName"], aks["dnsPrefix"]) == ("swedencentral", "rg-test", "argocd-wi-test")


def test_the_system_pool_is_exactly_what_the_caller_asked_for() -> None:
    pool = cluster().one(CLUSTER).inputs["agentPoolProfiles"][0]
    assert (pool["name"], pool["count"], pool["vmSize"], pool["mode"]) == ("sys", 3, "Standard_D2ds_v5", "System")


def test_the_deployer_gets_cluster_admin_on_the_resource_group_as_the_principal_type_given() -> None:
    grant = cluster().one(ROLE_ASSIGNMENT).inputs
    assert grant["scope"] == GROUP_ID and grant["principalType"] == "ServicePrincipal"
    assert grant["roleDefinitionId"].endswith("/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b")


def test_no_grant_when_the_deployer_already_administers_the_cluster() -> None:
    assert cluster(grant_deployer_cluster_admin=False).of_type(ROLE_ASSIGNMENT) == []


def test_the_kubeconfig_runs_kubelogin_in_the_mode_given_and_holds_no_credential() -> None:
    run = cluster()
    provider = run.one("pulumi:providers:kubernetes")
    config = yaml.safe_load(provider.inputs["kubeconfig"])
    user = config["users"][0]["user"]
    assert set(user) == {"exec"}
    assert user["exec"]["args"] == ["get-token", "--login", "workloadidentity", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]
    assert "kubeconfig" in provider.secret_paths


def test_long_term_support_sets_the_premium_tier_and_plan() -> None:
    aks = cluster(long_term_support=True, kubernetes_version="1.33").one(CLUSTER).inputs
    assert (aks["sku"], aks["supportPlan"], aks["kubernetesVersion"]) == (
        {"name": "Base", "tier": "Premium"}, "AKSLongTermSupport", "1.33",
    )


ADOPTED_ID = "/subscriptions/0000/resourceGroups/rg-shared/providers/Microsoft.ContainerService/managedClusters/aks-shared"


def test_an_adopted_cluster_is_taken_as_the_caller_looked_it_up_never_created_and_the_grant_is_scoped_to_it() -> None:
    issuer = "https://westeurope.oic.prod-aks.azure.com/tenant/aks-shared/"
    run = cluster(existing_cluster={
        "id": ADOPTED_ID, "resource_group_name": "rg-shared", "name": "aks-shared", "oidc_issuer_url": issuer,
    })
    assert run.of_type(CLUSTER) == []
    assert [token for token, _ in run.invokes if token == GET_CLUSTER] == [], "the caller looked it up already"
    assert run.one(ROLE_ASSIGNMENT).inputs["scope"] == ADOPTED_ID
