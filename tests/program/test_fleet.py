"""One Argo CD hub deploys to many AKS spokes with no secret anywhere, asserted by value on the mock engine.

The tests own their spokes (SPOKES below, on top of tests/stacks/dev.yaml): none reads Pulumi.fleet.yaml.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from components.cluster import ExistingClusterError
from components.spoke_access import SPOKE_ROLE_DEFINITIONS
from components.vocabulary import SpokeAccessRole
from harness import (
    APP_CREDENTIAL,
    APPLICATION,
    CLUSTER,
    CREDENTIAL,
    IDENTITY,
    RELEASE,
    SECRET,
    SECRET_TYPE,
    generated,
    refusal,
    run_program,
)
from harness import ROLE_ASSIGNMENT as ROLE
from tools.offline.critical_path import critical_path, lower_bound
from tools.offline.engine import AzureMocks, ExistingClusterMock, ProgramRun, Resource, walk

SPOKE = "argocd-wi:index:SpokeAccess"
SUBSCRIPTION = AzureMocks().subscription_id
TENANT = AzureMocks().tenant_id

ADOPTED = {
    "name": "payments-weu",
    "existing": {"resourceGroup": "rg-payments", "clusterName": "aks-payments"},
    "labels": {"environment": "prod", "team": "payments"},
    "bootstrap": True,
}
CREATED = {"name": "teams-neu", "location": "northeurope", "labels": {"environment": "dev"}}
SPOKES = {"spokes": [ADOPTED, CREATED]}
ADOPTED_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-payments/providers/Microsoft.ContainerService/managedClusters/aks-payments"
)
# Keys that would put a credential into a cluster Secret (Argo CD ClusterConfig, TLSClientConfig, argocd-k8s-auth env).
CREDENTIAL_KEYS = {"bearerToken", "password", "username", "keyData", "certData",
                   "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET", "AAD_SERVICE_PRINCIPAL_CLIENT_CERTIFICATE", "AAD_USER_PRINCIPAL_PASSWORD"}


@pytest.fixture(scope="module")
def fleet() -> ProgramRun:
    return run_program("dev", overrides=SPOKES)


def cluster_secret(run: ProgramRun, spoke: str) -> Resource:
    return run.one(SECRET, f"spoke-{spoke}-cluster-secret")


def secret_config(run: ProgramRun, spoke: str) -> dict[str, Any]:
    return dict(json.loads(cluster_secret(run, spoke).input("stringData.config")))


# --- Without spokes nothing changes ---------------------------------------------------------------------------


def test_without_spokes_no_fleet_resource_and_no_controller_or_server_values(dev: ProgramRun) -> None:
    assert dev.of_type(SPOKE) == [] and not [r for r in dev.resources if "fleet" in r.name]
    assert set(dev.one(RELEASE).inputs["values"]) == {"repoServer"}


# --- 2. Identity: the application-controller and server run as the fleet identity -----------------------------


def test_the_fleet_identity_trusts_exactly_the_controller_and_server_from_the_hub_issuer(fleet: ProgramRun) -> None:
    credentials = [c for c in fleet.of_type(CREDENTIAL) if c.name.startswith("argocd-fleet-")]
    issuer = generated(fleet, "OIDC issuer URL of cluster-aks")
    assert {(c.inputs["issuer"], c.inputs["subject"]) for c in credentials} == {
        (issuer, "system:serviceaccount:argocd:argocd-application-controller"),
        (issuer, "system:serviceaccount:argocd:argocd-server"),
    }


def test_spokes_add_role_assignments_never_federated_credentials(fleet: ProgramRun) -> None:
    """Spokes trust the fleet identity through role assignments: the identity's credentials stay the same however
    many spokes there are (Entra allows 20 per identity; docs/facts.md#entra-workload-identity)."""
    more = run_program("dev", overrides={"spokes": [{"name": f"s{i}", "location": "northeurope"} for i in range(5)]})
    assert len(fleet.of_type(ROLE)) < len(more.of_type(ROLE))
    assert len(more.of_type(CREDENTIAL)) == len(fleet.of_type(CREDENTIAL)) == 3


def test_the_repo_server_keeps_its_own_identity_apart_from_the_fleet_identity(fleet: ProgramRun) -> None:
    assert len(fleet.of_type(IDENTITY)) == 2
    repo_credential = fleet.one(CREDENTIAL, "argocd-wi-cluster-repo-server")
    assert repo_credential.inputs["subject"] == "system:serviceaccount:argocd:argocd-repo-server"


def test_controller_and_server_service_accounts_carry_the_fleet_client_id_and_pods_the_label(fleet: ProgramRun) -> None:
    values = fleet.one(RELEASE).inputs["values"]
    fleet_client = generated(fleet, "clientId of argocd-fleet-identity")
    for component, account in (("controller", "argocd-application-controller"), ("server", "argocd-server")):
        assert values[component]["serviceAccount"] == {
            "create": True, "name": account, "annotations": {"azure.workload.identity/client-id": fleet_client},
        }
        assert values[component]["podLabels"] == {"azure.workload.identity/use": "true"}
    assert values["repoServer"]["serviceAccount"]["annotations"] == {
        "azure.workload.identity/client-id": generated(fleet, "clientId of argocd-wi-identity")
    }


def test_renamed_service_accounts_reach_both_the_credentials_and_the_chart() -> None:
    run = run_program("dev", overrides={**SPOKES, "controllerServiceAccount": "ctl-wi", "serverServiceAccount": "srv-wi"})
    subjects = {c.inputs["subject"] for c in run.of_type(CREDENTIAL) if c.name.startswith("argocd-fleet-")}
    values = run.one(RELEASE).inputs["values"]
    assert subjects == {"system:serviceaccount:argocd:ctl-wi", "system:serviceaccount:argocd:srv-wi"}
    assert (values["controller"]["serviceAccount"]["name"], values["server"]["serviceAccount"]["name"]) == ("ctl-wi", "srv-wi")


# --- 1 and 3. Spokes adopted or created, and the identity's role on each ---------------------------------------


def test_an_adopted_spoke_is_looked_up_and_never_registered(fleet: ProgramRun) -> None:
    assert ("azure-native:containerservice:getManagedCluster", {"resourceGroupName": "rg-payments", "resourceName": "aks-payments"}) in [
        (token, {k: v for k, v in args.items() if k in ("resourceGroupName", "resourceName")}) for token, args in fleet.invokes
    ]
    assert [c.name for c in fleet.of_type(CLUSTER)] == ["cluster-aks", "spoke-teams-neu-aks"]


def test_a_created_spoke_has_the_hubs_secure_defaults_in_its_own_region(fleet: ProgramRun) -> None:
    spoke, hub = fleet.one(CLUSTER, "spoke-teams-neu-aks"), fleet.one(CLUSTER, "cluster-aks")
    assert spoke.inputs["location"] == "northeurope"
    assert spoke.inputs["oidcIssuerProfile"] == {"enabled": True}
    assert spoke.inputs["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert spoke.inputs["aadProfile"]["enableAzureRBAC"] is True and spoke.inputs["aadProfile"]["managed"] is True
    assert spoke.inputs["disableLocalAccounts"] is True
    assert spoke.inputs["resourceGroupName"] == hub.inputs["resourceGroupName"]
    assert spoke.inputs["dnsPrefix"] != hub.inputs["dnsPrefix"]


def test_each_spoke_grants_the_fleet_identity_cluster_admin_on_that_cluster_only(fleet: ProgramRun) -> None:
    principal = generated(fleet, "principalId of argocd-fleet-identity")
    role = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
    created = fleet.one(CLUSTER, "spoke-teams-neu-aks")
    created_id = (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{created.inputs['resourceGroupName']}"
        f"/providers/Microsoft.ContainerService/managedClusters/{created.outputs['name']}"
    )
    scopes = {"spoke-payments-weu-access": ADOPTED_ID, "spoke-teams-neu-access": created_id}
    for name, scope in scopes.items():
        assignment = fleet.one(ROLE, name)
        assert (assignment.inputs["scope"], assignment.inputs["principalId"]) == (scope, principal)
        assert (assignment.inputs["principalType"], assignment.inputs["roleDefinitionId"]) == ("ServicePrincipal", role)


def test_the_created_spokes_role_is_scoped_to_the_cluster_it_waits_for(fleet: ProgramRun) -> None:
    assert fleet.depends_on(fleet.one(ROLE, "spoke-teams-neu-access"), fleet.one(CLUSTER, "spoke-teams-neu-aks"))


@pytest.mark.parametrize("role", list(SpokeAccessRole))
def test_a_narrower_role_is_the_built_in_role_configured(role: SpokeAccessRole) -> None:
    run = run_program("dev", overrides={**SPOKES, "spokeAccessRole": str(role)})
    assert {r.inputs["roleDefinitionId"].rsplit("/", 1)[1] for r in run.of_type(ROLE) if r.name.startswith("spoke-")} == {
        SPOKE_ROLE_DEFINITIONS[role]
    }


def test_role_ids_are_the_built_in_ones() -> None:
    assert SPOKE_ROLE_DEFINITIONS == {
        SpokeAccessRole.CLUSTER_ADMIN: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
        SpokeAccessRole.ADMIN: "3498e952-d568-435e-9b2c-8d77e338d7f7",
        SpokeAccessRole.WRITER: "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb",
    }


def test_each_adopted_cluster_is_looked_up_once() -> None:
    run = run_program("dev", overrides={**SPOKES, "existingClusterResourceGroup": "rg-aks", "existingClusterName": "aks-hub"})
    lookups = sorted(args["resourceName"] for token, args in run.invokes if token == "azure-native:containerservice:getManagedCluster")
    assert lookups == ["aks-hub", "aks-payments"]


def test_an_adopted_spoke_without_azure_rbac_stops_pulumi_up_before_any_resource() -> None:
    registered: list[Resource] = []
    mocks = AzureMocks(existing_cluster=ExistingClusterMock(azure_rbac=False))
    with pytest.raises(ExistingClusterError, match="--enable-azure-rbac"):
        run_program("dev", overrides=SPOKES, mocks=mocks, registered=registered)
    assert registered == []


# --- 4. Registration: one credential-free cluster Secret per spoke ---------------------------------------------


def test_each_spoke_has_one_cluster_secret_with_its_labels(fleet: ProgramRun) -> None:
    secret = cluster_secret(fleet, "payments-weu")
    assert secret.input("metadata.labels") == {
        SECRET_TYPE: "cluster", "app.kubernetes.io/part-of": "argocd", "environment": "prod", "team": "payments",
    }
    assert secret.input("metadata.namespace") == "argocd" and secret.input("metadata.name") == "cluster-payments-weu"
    assert secret.input("metadata.annotations")["argocd-aks-wi/azure-resource-id"] == ADOPTED_ID
    assert len([s for s in fleet.of_type(SECRET) if s.input("metadata.labels").get(SECRET_TYPE) == "cluster"]) == 2


def test_the_secret_names_the_spokes_api_server_and_ca_from_its_kubeconfig(fleet: ProgramRun) -> None:
    secret = cluster_secret(fleet, "payments-weu")
    assert secret.input("stringData.server") == "https://aks-payments.hcp.westeurope.azmk8s.io:443"
    assert secret.input("stringData.name") == "payments-weu"
    assert secret_config(fleet, "payments-weu")["tlsClientConfig"] == {
        "insecure": False, "caData": base64.b64encode(b"offline CA certificate").decode(),
    }


def test_the_secret_runs_argocd_k8s_auth_as_the_fleet_identity(fleet: ProgramRun) -> None:
    exec_config = secret_config(fleet, "teams-neu")["execProviderConfig"]
    assert (exec_config["command"], exec_config["args"]) == ("argocd-k8s-auth", ["azure"])
    assert exec_config["env"] == {
        "AAD_LOGIN_METHOD": "workloadidentity",
        "AAD_ENVIRONMENT_NAME": "AzurePublicCloud",
        "AAD_SERVER_APPLICATION_ID": "6dae42f8-4368-4678-94ff-3960e28e3630",  # AKS's Entra server app
        "AZURE_CLIENT_ID": generated(fleet, "clientId of argocd-fleet-identity"),
        "AZURE_TENANT_ID": TENANT,
    }


def test_no_secret_anywhere_holds_a_credential(fleet: ProgramRun) -> None:
    found = []
    for secret in fleet.of_type(SECRET):
        leaves = list(walk(secret.inputs))
        config = secret.inputs.get("stringData", {}).get("config")
        if config:
            leaves += list(walk(json.loads(config)))
        found += [(secret.name, path) for path, _ in leaves if path.rsplit(".", 1)[-1] in CREDENTIAL_KEYS]
    assert found == []


def test_the_secrets_wait_for_argo_cd_and_live_on_the_hub(fleet: ProgramRun) -> None:
    release, provider = fleet.one(RELEASE), fleet.one("pulumi:providers:kubernetes")
    for spoke in ("payments-weu", "teams-neu"):
        secret = cluster_secret(fleet, spoke)
        assert secret.provider == provider.urn
        assert not fleet.depends_on(secret, fleet.one(ROLE, f"spoke-{spoke}-access")), "role propagation is off the Secret's path"
    assert fleet.depends_on(fleet.one(APPLICATION, "spoke-payments-weu-bootstrap"), release)


def spoke_descendants(run: ProgramRun) -> list[Resource]:
    spokes = {r.urn for r in run.of_type(SPOKE)}
    found, todo = [], list(spokes)
    while todo:
        parent = todo.pop()
        children = [r for r in run.resources if r.parent == parent]
        found += children
        todo += [r.urn for r in children]
    return found


def test_destroying_the_hub_deletes_every_spoke_resource_for_real(fleet: ProgramRun) -> None:
    """The spokes outlive the hub's cluster: a role assignment left on an adopted spoke would name a deleted principal,
    a created spoke cluster would keep running, and a skipped Application never runs its cascade finalizer."""
    descendants = spoke_descendants(fleet)
    names = {r.name for r in descendants if r.custom}
    assert {"spoke-payments-weu-access", "spoke-teams-neu-aks", "spoke-payments-weu-bootstrap"} <= names
    assert [(r.name, r.options["deleted_with"]) for r in descendants if r.options["deleted_with"]] == []
    assert all(spoke.options["deleted_with"] is None for spoke in fleet.of_type(SPOKE))


def test_the_spoke_application_is_deleted_before_the_access_it_needs_to_clean_up(fleet: ProgramRun) -> None:
    application = fleet.one(APPLICATION, "spoke-payments-weu-bootstrap")
    assert application.input("metadata.finalizers") == ["resources-finalizer.argocd.argoproj.io"]
    assert fleet.depends_on(application, fleet.one(ROLE, "spoke-payments-weu-access"))
    assert fleet.depends_on(application, fleet.one(RELEASE))


# --- 5. Proof: pulumi up waits until the spoke has synced -----------------------------------------------------


def test_a_spokes_bootstrap_targets_its_api_server_and_waits_for_synced(fleet: ProgramRun) -> None:
    application = fleet.one(APPLICATION, "spoke-payments-weu-bootstrap")
    hub = fleet.one(APPLICATION, "argocd-bootstrap")
    assert application.input("spec.destination.server") == "https://aks-payments.hcp.westeurope.azmk8s.io:443"
    assert application.input("metadata.name") == "bootstrap-payments-weu"
    assert application.input("spec.source") == hub.input("spec.source")
    assert application.input("metadata.annotations")["pulumi.com/waitFor"] == hub.input("metadata.annotations")["pulumi.com/waitFor"]
    for prerequisite in (cluster_secret(fleet, "payments-weu"), fleet.one(ROLE, "spoke-payments-weu-access")):
        assert fleet.depends_on(application, prerequisite)
    assert not fleet.depends_on(application, hub), "spokes sync beside the hub, not after it"


def test_only_spokes_that_ask_get_a_bootstrap(fleet: ProgramRun) -> None:
    assert sorted(a.name for a in fleet.of_type(APPLICATION)) == ["argocd-bootstrap", "spoke-payments-weu-bootstrap"]


def test_the_spoke_servers_are_exported(fleet: ProgramRun) -> None:
    assert fleet.stack_outputs["spokeServers"]["payments-weu"] == "https://aks-payments.hcp.westeurope.azmk8s.io:443"
    assert fleet.stack_outputs["fleetIdentityClientId"] == generated(fleet, "clientId of argocd-fleet-identity")


# --- 6. Scale: spokes run in parallel; the critical path stays hub cluster -> Argo CD -> first sync ---------


def test_the_critical_path_stays_on_the_hub_with_spokes(fleet: ProgramRun) -> None:
    path = critical_path(fleet)
    assert not [r.name for r in path.resources if r.name.startswith("spoke-")]
    assert path.total_seconds - lower_bound(fleet).total_seconds <= 10


# --- 1. Config errors, each named, before any resource --------------------------------------------------------


@pytest.mark.parametrize(("spoke", "named"), [
    ({"name": "x", "location": "northeurope", "existing": ADOPTED["existing"]}, "spokes['x'].existing/location"),
    ({"name": "x"}, "spokes['x'].existing/location"),
    ({"name": "Bad_Name", "location": "northeurope"}, "spokes['Bad_Name'].name"),
    ({"name": "in-cluster", "location": "northeurope"}, "spokes['in-cluster'].name"),
    ({"name": "x", "location": "North Europe"}, "spokes['x'].location"),
    ({"name": "x", "existing": {"resourceGroup": "rg"}}, "spokes['x'].existing"),
    ({"name": "x", "existing": {"resourceGroup": "rg", "clusterName": "-bad"}}, "spokes['x'].existing.clusterName"),
    ({"name": "x", "location": "northeurope", "labels": {"argocd.argoproj.io/secret-type": "repository"}},
     "spokes['x'].labels.argocd.argoproj.io/secret-type"),
    ({"name": "x", "location": "northeurope", "labels": {"env": 3}}, "spokes['x'].labels.env"),
    ({"name": "x", "location": "northeurope", "region": "weu"}, "spokes['x'].fields"),
    ({"name": "x", "location": "northeurope", "bootstrap": "yes"}, "spokes['x'].bootstrap"),
])
def test_a_bad_spoke_is_refused_by_name(spoke: dict[str, Any], named: str) -> None:
    assert f"argocd-aks-wi:{named}" in refusal({"spokes": [spoke]})


def test_spokes_that_are_not_a_list_of_objects_are_refused() -> None:
    assert "argocd-aks-wi:spokes = " in refusal({"spokes": ["payments-weu"]})


def test_two_spokes_of_one_name_or_one_cluster_are_refused() -> None:
    message = refusal({"spokes": [ADOPTED, {**ADOPTED, "name": "other"}, {**CREATED, "name": "payments-weu"}]})
    assert "spokes names 'payments-weu' more than once" in message
    assert "spokes adopts rg-payments/aks-payments more than once" in message


def test_adopting_the_hub_as_a_spoke_is_refused() -> None:
    hub = {"existingClusterResourceGroup": "rg-payments", "existingClusterName": "aks-payments"}
    assert "adopts the hub cluster" in refusal({**hub, "spokes": [ADOPTED]})


def test_a_chart_below_the_fleet_floor_is_refused_only_with_spokes() -> None:
    assert "argocd-aks-wi:argocdChartVersion = '9.0.6': expected 9.1.0 or newer with spokes" in refusal(
        {**SPOKES, "argocdChartVersion": "9.0.6"}
    )
    assert run_program("dev", overrides={"argocdChartVersion": "9.0.6"}).of_type(SPOKE) == []


def test_spokes_with_the_extension_install_are_refused_by_name() -> None:
    message = refusal({**SPOKES, "argocdInstallMethod": "extension"})
    assert "argocd-aks-wi:argocdInstallMethod = 'extension': expected helm with spokes" in message


def test_a_spoke_bootstrap_without_the_hubs_bootstrap_is_refused() -> None:
    assert "spokes['payments-weu'].bootstrap" in refusal({**SPOKES, "bootstrapApplication": False})


def test_an_unknown_access_role_is_refused_with_the_choices() -> None:
    assert "argocd-aks-wi:spokeAccessRole = 'owner': expected one of cluster-admin, admin, writer" in refusal(
        {**SPOKES, "spokeAccessRole": "owner"}
    )


def test_the_controllers_service_account_may_not_share_another_components_name() -> None:
    message = refusal({**SPOKES, "controllerServiceAccount": "argocd-server"})
    assert "argocd-aks-wi:controllerServiceAccount = 'argocd-server': expected a name other than serverServiceAccount's" in message


# --- 2. With Entra SSO on the same argocd-server ---------------------------------------------------------------

SIGN_IN = {"singleSignOn": True, "ssoGroupRoles": ["11111111-2222-3333-4444-555555555555=admin"]}


def test_with_sso_the_server_runs_as_the_fleet_identity_and_signs_in_as_the_app() -> None:
    run = run_program("dev", overrides={**SPOKES, **SIGN_IN})
    values = run.one(RELEASE).inputs["values"]
    fleet_client = generated(run, "clientId of argocd-fleet-identity")
    assert values["server"]["serviceAccount"]["annotations"] == {"azure.workload.identity/client-id": fleet_client}
    assert values["server"]["podLabels"] == {"azure.workload.identity/use": "true"}
    oidc = values["configs"]["cm"]["oidc.config"]
    assert fleet_client not in oidc and run.stack_outputs["singleSignOnClientId"] in oidc
    server_subject = "system:serviceaccount:argocd:argocd-server"
    app_credentials = run.of_type(APP_CREDENTIAL)
    fleet_credentials = [c for c in run.of_type(CREDENTIAL) if c.name.startswith("argocd-fleet-")]
    assert [c.inputs["subject"] for c in app_credentials] == [server_subject]
    assert server_subject in {c.inputs["subject"] for c in fleet_credentials}
