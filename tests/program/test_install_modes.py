"""New or existing cluster x Helm or the AKS extension, each by value, and the refusals."""

from __future__ import annotations

import pytest

from components.cluster import ExistingClusterError
from harness import (
    CLUSTER,
    CREDENTIAL,
    EXTENSION,
    GET_CLUSTER,
    IDENTITY,
    LIST_USER_CREDENTIALS,
    NAMESPACE,
    RELEASE,
    RESOURCE_GROUP,
    ROLE_ASSIGNMENT,
    SECRET,
    TEST_STACKS,
    generated,
    run_program,
)
from settings import ConfigError
from tools.offline.engine import AzureMocks, ExistingClusterMock, ProgramRun, Resource

SUBSCRIPTION = "00000000-0000-0000-0000-00000000a2e5"
EXISTING_GROUP, EXISTING_NAME = "rg-platform", "aks-shared"
EXISTING_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{EXISTING_GROUP}/providers/Microsoft.ContainerService/"
    f"managedClusters/{EXISTING_NAME}"
)
EXISTING = {"existingClusterResourceGroup": EXISTING_GROUP, "existingClusterName": EXISTING_NAME}
AS_EXTENSION = {"argocdInstallMethod": "extension"}
LEGACY_KEYS = {"workloadIdentity.enable", "workloadIdentity.clientId", "deployWithHighAvailability", "namespaceInstall"}

COMBINATIONS = {
    "new-helm": {},
    # The extension with every default: release train preview, no version pin, no high availability.
    "new-extension": AS_EXTENSION,
    "existing-helm": EXISTING,
    # The extension with every option set.
    "existing-extension": {
        **EXISTING,
        **AS_EXTENSION,
        "extensionReleaseTrain": "stable",
        "extensionVersion": "1.0.0-preview",
        "extensionHighAvailability": True,
        "extensionSettings": ["configs.cm.url=https://argocd.example.com", "global.domain=argocd.example.com"],
    },
}
NEW = ["new-helm", "new-extension"]
ADOPTED = ["existing-helm", "existing-extension"]
HELM = ["new-helm", "existing-helm"]
EXTENSIONS = ["new-extension", "existing-extension"]


# The adopted cluster has the 4 nodes redis-ha needs (the refusal below has 3).
HA_READY_CLUSTER = ExistingClusterMock(node_count=4)


@pytest.fixture(scope="module")
def runs() -> dict[str, ProgramRun]:
    """One run per combination, shared by the read-only tests of this module."""
    return {
        name: run_program("dev", overrides=overrides, mocks=AzureMocks(existing_cluster=HA_READY_CLUSTER))
        for name, overrides in COMBINATIONS.items()
    }


def install_of(run: ProgramRun) -> Resource:
    """The Helm release or the extension: whichever installs Argo CD."""
    (install,) = run.of_type(RELEASE) + run.of_type(EXTENSION)
    return install


def extension_settings(runs: dict[str, ProgramRun], combination: str) -> dict[str, object]:
    return runs[combination].one(EXTENSION).inputs["configurationSettings"]


# --- Cluster: created or adopted ---------------------------------------------------------------------


@pytest.mark.parametrize("combination", NEW)
def test_new_cluster_is_created(runs: dict[str, ProgramRun], combination: str) -> None:
    assert len(runs[combination].of_type(CLUSTER)) == 1


@pytest.mark.parametrize("combination", ADOPTED)
def test_existing_cluster_is_not_a_resource_of_the_stack(runs: dict[str, ProgramRun], combination: str) -> None:
    run = runs[combination]
    assert run.of_type(CLUSTER) == []
    assert [r for r in run.resources if EXISTING_NAME in r.name or r.inputs.get("resourceName") == EXISTING_NAME] == []


@pytest.mark.parametrize("combination", ADOPTED)
def test_existing_cluster_is_looked_up_by_resource_group_and_name(runs: dict[str, ProgramRun], combination: str) -> None:
    assert (GET_CLUSTER, {"resourceGroupName": EXISTING_GROUP, "resourceName": EXISTING_NAME}) in runs[combination].invokes


@pytest.mark.parametrize("combination", NEW)
def test_new_cluster_is_never_looked_up(runs: dict[str, ProgramRun], combination: str) -> None:
    assert [token for token, _ in runs[combination].invokes if token == GET_CLUSTER] == []


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_credential_issuer_is_the_clusters_issuer(runs: dict[str, ProgramRun], combination: str) -> None:
    run = runs[combination]
    if combination in ADOPTED:
        issuer = generated(run, f"OIDC issuer URL of the existing cluster {EXISTING_NAME}")
    else:
        issuer = run.one(CLUSTER).outputs["oidcIssuerProfile"]["issuerURL"]
    assert run.one(CREDENTIAL).inputs["issuer"] == issuer
    assert run.stack_outputs["oidcIssuerUrl"] == issuer


@pytest.mark.parametrize("combination", ADOPTED)
def test_deployer_role_scope_is_the_existing_cluster_id(runs: dict[str, ProgramRun], combination: str) -> None:
    assert runs[combination].one(ROLE_ASSIGNMENT).inputs["scope"] == EXISTING_ID


@pytest.mark.parametrize("combination", ADOPTED)
def test_kubeconfig_is_listed_for_the_existing_cluster(runs: dict[str, ProgramRun], combination: str) -> None:
    expected = (LIST_USER_CREDENTIALS, {"resourceGroupName": EXISTING_GROUP, "resourceName": EXISTING_NAME})
    assert expected in runs[combination].invokes


@pytest.mark.parametrize("combination", ADOPTED)
def test_outputs_and_next_steps_name_the_existing_cluster(runs: dict[str, ProgramRun], combination: str) -> None:
    outputs = runs[combination].stack_outputs
    assert outputs["clusterName"] == EXISTING_NAME
    assert outputs["nextSteps"][0].startswith(
        f"az aks get-credentials --resource-group {EXISTING_GROUP} --name {EXISTING_NAME}"
    )


@pytest.mark.parametrize("install", ["helm", "extension"])
@pytest.mark.parametrize(
    ("oidc_issuer", "workload_identity"),
    [(False, True), (True, False), (False, False)],
    ids=["oidc-issuer-off", "workload-identity-off", "both-off"],
)
def test_existing_cluster_without_workload_identity_is_refused_naming_the_az_flags(
    oidc_issuer: bool, workload_identity: bool, install: str
) -> None:
    registered: list[Resource] = []
    mocks = AzureMocks(existing_cluster=ExistingClusterMock(oidc_issuer=oidc_issuer, workload_identity=workload_identity))
    with pytest.raises(ExistingClusterError) as refused:
        run_program("dev", overrides={**EXISTING, "argocdInstallMethod": install}, mocks=mocks, registered=registered)
    message = str(refused.value)
    assert f"az aks update --resource-group {EXISTING_GROUP} --name {EXISTING_NAME}" in message
    assert ("--enable-oidc-issuer" in message) is not oidc_issuer
    assert ("--enable-workload-identity" in message) is not workload_identity
    assert registered == []


def test_extension_high_availability_on_an_existing_cluster_with_3_nodes_is_refused() -> None:
    registered: list[Resource] = []
    mocks = AzureMocks(existing_cluster=ExistingClusterMock(node_count=3))
    with pytest.raises(ConfigError) as refused:
        run_program("dev", overrides=COMBINATIONS["existing-extension"], mocks=mocks, registered=registered)
    assert "argocd-aks-wi:extensionHighAvailability" in str(refused.value)
    assert "at least 4" in str(refused.value) and str(refused.value).endswith("[docs/facts.md#aks-argo-cd-extension]")
    assert registered == []


# --- Argo CD: Helm or the extension ------------------------------------------------------------------


@pytest.mark.parametrize("combination", HELM)
def test_helm_mode_installs_the_chart_and_no_extension(runs: dict[str, ProgramRun], combination: str) -> None:
    run = runs[combination]
    assert (len(run.of_type(RELEASE)), len(run.of_type(EXTENSION))) == (1, 0)


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_mode_installs_the_extension_and_no_chart_or_namespace(
    runs: dict[str, ProgramRun], combination: str
) -> None:
    run = runs[combination]
    assert (len(run.of_type(EXTENSION)), len(run.of_type(RELEASE)), len(run.of_type(NAMESPACE))) == (1, 0, 0)


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_argocd_install_waits_for_the_federated_credential(runs: dict[str, ProgramRun], combination: str) -> None:
    run = runs[combination]
    assert run.depends_on(install_of(run), run.one(CREDENTIAL))


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_repository_secrets_wait_for_the_argocd_install(runs: dict[str, ProgramRun], combination: str) -> None:
    run = runs[combination]
    secrets = run.of_type(SECRET)
    assert len(secrets) == 2
    assert all(run.depends_on(secret, install_of(run)) for secret in secrets)


@pytest.mark.parametrize("combination", COMBINATIONS)
def test_repository_secrets_use_workload_identity_in_every_mode(runs: dict[str, ProgramRun], combination: str) -> None:
    for secret in runs[combination].of_type(SECRET):
        assert secret.inputs["stringData"]["useAzureWorkloadIdentity"] == "true"
        assert secret.input("metadata.namespace") == "argocd"


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_is_microsoft_argocd(runs: dict[str, ProgramRun], combination: str) -> None:
    assert runs[combination].one(EXTENSION).inputs["extensionType"] == "Microsoft.ArgoCD"


@pytest.mark.parametrize(("combination", "train"), [("new-extension", "preview"), ("existing-extension", "stable")])
def test_extension_release_train_defaults_to_preview_and_is_configurable(
    runs: dict[str, ProgramRun], combination: str, train: str
) -> None:
    assert runs[combination].one(EXTENSION).inputs["releaseTrain"] == train


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_turns_workload_identity_on_with_the_string_true(
    runs: dict[str, ProgramRun], combination: str
) -> None:
    assert extension_settings(runs, combination)["azure.workloadIdentity.enabled"] == "true"


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_client_id_is_the_identity_client_id_output(runs: dict[str, ProgramRun], combination: str) -> None:
    run = runs[combination]
    client_id = extension_settings(runs, combination)["azure.workloadIdentity.clientId"]
    assert client_id == run.one(IDENTITY).outputs["clientId"] == run.stack_outputs["identityClientId"]


@pytest.mark.parametrize(("combination", "redis_ha"), [("new-extension", "false"), ("existing-extension", "true")])
def test_extension_high_availability_switches_redis_ha(
    runs: dict[str, ProgramRun], combination: str, redis_ha: str
) -> None:
    assert extension_settings(runs, combination)["redis-ha.enabled"] == redis_ha


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_settings_hold_no_legacy_key(runs: dict[str, ProgramRun], combination: str) -> None:
    assert set(extension_settings(runs, combination)) & LEGACY_KEYS == set()


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_settings_are_plain_strings(runs: dict[str, ProgramRun], combination: str) -> None:
    assert all(isinstance(value, str) for value in extension_settings(runs, combination).values())


def test_extension_passes_further_settings_through(runs: dict[str, ProgramRun]) -> None:
    settings = extension_settings(runs, "existing-extension")
    assert settings["configs.cm.url"] == "https://argocd.example.com"
    assert settings["global.domain"] == "argocd.example.com"


def test_unpinned_extension_follows_its_release_train_with_minor_auto_upgrade(runs: dict[str, ProgramRun]) -> None:
    extension = runs["new-extension"].one(EXTENSION)
    assert extension.inputs["autoUpgradeMinorVersion"] is True
    assert "version" not in extension.inputs


def test_version_pin_turns_minor_auto_upgrade_off(runs: dict[str, ProgramRun]) -> None:
    extension = runs["existing-extension"].one(EXTENSION)
    assert (extension.inputs["version"], extension.inputs["autoUpgradeMinorVersion"]) == ("1.0.0-preview", False)


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_installs_into_the_argocd_namespace(runs: dict[str, ProgramRun], combination: str) -> None:
    assert runs[combination].one(EXTENSION).input("scope.cluster.releaseNamespace") == "argocd"


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_goes_on_the_stacks_cluster(runs: dict[str, ProgramRun], combination: str) -> None:
    run = runs[combination]
    if combination in ADOPTED:
        expected = (EXISTING_NAME, EXISTING_GROUP)
    else:
        expected = (run.one(CLUSTER).outputs["name"], run.one(RESOURCE_GROUP).outputs["name"])
    extension = run.one(EXTENSION)
    assert (extension.inputs["clusterName"], extension.inputs["resourceGroupName"]) == expected
    assert (extension.inputs["clusterRp"], extension.inputs["clusterResourceName"]) == (
        "Microsoft.ContainerService", "managedClusters",
    )


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_credential_trusts_the_configured_repo_server_account(
    runs: dict[str, ProgramRun], combination: str
) -> None:
    assert runs[combination].one(CREDENTIAL).inputs["subject"] == "system:serviceaccount:argocd:argocd-repo-server"


def test_extension_repo_server_account_is_configurable() -> None:
    run = run_program("dev", overrides={**AS_EXTENSION, "repoServerServiceAccount": "argocd-repo-server-wi"})
    assert run.one(CREDENTIAL).inputs["subject"] == "system:serviceaccount:argocd:argocd-repo-server-wi"


@pytest.mark.parametrize("combination", EXTENSIONS)
def test_extension_next_steps_open_the_argocd_server_service(runs: dict[str, ProgramRun], combination: str) -> None:
    assert "port-forward svc/argocd-server 8080:443" in runs[combination].stack_outputs["nextSteps"][1]


@pytest.mark.parametrize(("combination", "method"), [(name, name.split("-")[1]) for name in COMBINATIONS])
def test_stack_exports_the_install_method(runs: dict[str, ProgramRun], combination: str, method: str) -> None:
    assert runs[combination].stack_outputs["argocdInstallMethod"] == method


# --- Ready stack files -------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", TEST_STACKS)
def test_stack_file_runs_offline_and_registers_its_repositories(stack: str) -> None:
    assert run_program(stack).stack_outputs["repositoryUrls"]


def test_an_adopted_cluster_administered_already_gets_no_role_assignment_and_no_wait_for_one() -> None:
    run = run_program("extension-existing", {"grantDeployerClusterAdmin": False})
    assert run.of_type(ROLE_ASSIGNMENT) == []
    assert run.one("pulumi:providers:kubernetes").dependencies == set()
