"""Helm charts from Azure Container Registry and Entra sign-in to Argo CD, both through workload identity,
each wiring asserted by value on the mock engine (preview=False), and every refusal named before any resource."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from harness import (
    APP,
    APP_CREDENTIAL,
    APPLICATION,
    CLUSTER,
    EXTENSION,
    IDENTITY,
    REGISTRY,
    RELEASE,
    ROLE_ASSIGNMENT,
    SECRET,
    SERVICE_PRINCIPAL,
    refusal,
    run_program,
)
from tools.offline.engine import ProgramRun, walk

SUBSCRIPTION = "00000000-0000-0000-0000-00000000a2e5"
TENANT = "00000000-0000-0000-0000-0000000e1a1d"
ADMINS, READERS = "3f2504e0-4f89-41d3-9a0c-0305e82c3301", "3f2504e0-4f89-41d3-9a0c-0305e82c3302"
CHARTS = {
    "containerRegistries": ["contosocharts", "rg-shared/contososhared"],
    "abacRegistries": ["contososhared"],
    "helmChartRepositories": ["contosocharts.azurecr.io/charts", "contososhared.azurecr.io/platform/charts"],
}
# A later pulumi up: the chart has been pushed to the registry the stack created on its first one.
CHART_BOOTSTRAP = {
    **CHARTS, "bootstrapChart": "contosocharts.azurecr.io/charts/guestbook", "bootstrapTargetRevision": "1.2.0",
    "bootstrapChartPushed": True,
}
SIGN_IN = {"singleSignOn": True, "ssoGroupRoles": [f"{ADMINS}=admin", f"{READERS}=readonly"]}
# Built-in roles (Microsoft's built-in roles list): AcrPull, and Container Registry Repository Reader for ABAC mode.
# Fields through which an Argo CD repository Secret could carry a credential (docs/facts.md#argo-cd-repository-secrets).
CREDENTIAL_FIELDS = {
    "username", "password", "sshPrivateKey", "tlsClientCertData", "tlsClientCertKey", "bearerToken",
    "githubAppPrivateKey", "gcpServiceAccountKey", "azureServicePrincipalClientSecret",
}


@pytest.fixture(scope="module")
def charts() -> ProgramRun:
    return run_program("dev", overrides=CHART_BOOTSTRAP)


@pytest.fixture(scope="module")
def sign_in() -> ProgramRun:
    return run_program("dev", overrides={**SIGN_IN, "argocdNamespace": "gitops", "serverServiceAccount": "argo-ui"})


def values(run: ProgramRun) -> dict[str, Any]:
    return run.one(RELEASE).inputs["values"]


# --- Helm charts from ACR ---------------------------------------------------------------------------------------


def test_a_created_registry_gets_acr_pull_scoped_to_itself_for_the_identity(charts: ProgramRun) -> None:
    group = charts.one("azure-native:resources:ResourceGroup").outputs["name"]
    assert charts.one(REGISTRY).inputs["resourceGroupName"] == group
    grant = charts.one(ROLE_ASSIGNMENT, "registries-contosocharts-pull")
    assert grant.inputs["scope"] == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.ContainerRegistry/registries/contosocharts"
    )
    assert grant.inputs["roleDefinitionId"] == (
        f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"
    )
    assert grant.inputs["principalId"] == charts.one(IDENTITY).outputs["principalId"]
    assert grant.inputs["principalType"] == "ServicePrincipal" and "condition" not in grant.inputs


def test_an_abac_registry_gets_the_repository_reader_role_limited_to_its_chart_paths(charts: ProgramRun) -> None:
    grant = charts.one(ROLE_ASSIGNMENT, "registries-contososhared-pull")
    assert grant.inputs["scope"] == (
        f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/contososhared"
    )
    assert grant.inputs["roleDefinitionId"].endswith("/roleDefinitions/b93aa761-3e63-49ed-ac28-beffa264f7ac")
    assert grant.inputs["conditionVersion"] == "2.0"
    assert "StringStartsWithIgnoreCase 'platform/charts/'" in grant.inputs["condition"]
    assert "repositories/content/read" in grant.inputs["condition"]


def test_an_existing_registry_is_looked_up_never_created(charts: ProgramRun) -> None:
    assert [r.inputs["registryName"] for r in charts.of_type(REGISTRY)] == ["contosocharts"]
    assert ("azure-native:containerregistry:getRegistry", {"registryName": "contososhared", "resourceGroupName": "rg-shared"}) in [
        (token, {k: v for k, v in args.items() if k in ("registryName", "resourceGroupName")}) for token, args in charts.invokes
    ]


def test_a_created_registry_has_no_admin_user(charts: ProgramRun) -> None:
    assert charts.one(REGISTRY).inputs["adminUserEnabled"] is False


def test_each_chart_path_is_one_credential_free_helm_oci_repository(charts: ProgramRun) -> None:
    helm = [s for s in charts.of_type(SECRET) if s.inputs["stringData"]["type"] == "helm"]
    assert {s.inputs["stringData"]["url"] for s in helm} == set(CHARTS["helmChartRepositories"])
    for secret in helm:
        assert secret.inputs["stringData"] == {
            "type": "helm", "url": secret.inputs["stringData"]["url"], "name": secret.inputs["metadata"]["name"],
            "enableOCI": "true", "useAzureWorkloadIdentity": "true",
        }
        assert secret.inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
        assert not secret.inputs["stringData"]["url"].startswith("oci://")


@pytest.mark.parametrize("overrides", [CHART_BOOTSTRAP, SIGN_IN, {**CHARTS, **SIGN_IN}])
def test_no_secret_holds_a_credential_field(overrides: dict[str, Any]) -> None:
    run = run_program("dev", overrides=overrides)
    for secret in run.of_type(SECRET):
        assert not set(secret.inputs["stringData"]) & CREDENTIAL_FIELDS, secret.name


def test_the_repo_server_asks_entra_for_an_acr_token(charts: ProgramRun) -> None:
    assert values(charts)["repoServer"]["env"] == [
        {"name": "AZURE_ARM_TOKEN_RESOURCE", "value": "https://containerregistry.azure.net"}
    ]


def test_the_bootstrap_application_syncs_the_chart_once_the_identity_may_pull(charts: ProgramRun) -> None:
    application = charts.one(APPLICATION)
    assert application.inputs["spec"]["source"] == {
        "repoURL": "contosocharts.azurecr.io/charts", "chart": "guestbook", "targetRevision": "1.2.0",
    }
    wait = json.loads(application.inputs["metadata"]["annotations"]["pulumi.com/waitFor"])
    assert "jsonpath={.status.sync.comparedTo.source.chart}=guestbook" in wait
    assert "jsonpath={.status.sync.comparedTo.source.targetRevision}=1.2.0" in wait
    grants = charts.of_type(ROLE_ASSIGNMENT)
    pulls = [g for g in grants if g.name.startswith("registries-")]
    assert sorted(application.inputs["metadata"]["annotations"]["argocd-aks-wi/registry-pull-grants"].split(",")) == sorted(
        f"{g.name}-id" for g in pulls  # the mock engine's ID of each grant
    )
    assert all(charts.depends_on(application, grant) for grant in pulls)


def test_a_stack_without_charts_or_sign_in_gets_none_of_their_resources(dev: ProgramRun) -> None:
    new_types = {REGISTRY, APP, SERVICE_PRINCIPAL, APP_CREDENTIAL}
    assert [r.name for r in dev.resources if r.type in new_types or r.type.startswith("azuread:")] == []
    assert "env" not in values(dev)["repoServer"] and "server" not in values(dev)
    assert not [s for s in dev.of_type(SECRET) if s.inputs["stringData"]["type"] == "helm"]


def test_a_first_up_cannot_wait_for_a_chart_in_a_registry_it_is_about_to_create() -> None:
    message = refusal({"bootstrapApplication": True, **CHART_BOOTSTRAP, "bootstrapChartPushed": False})
    assert "argocd-aks-wi:bootstrapChart = 'contosocharts.azurecr.io/charts/guestbook'" in message
    assert "contosocharts is created by this stack" in message and "argocd-aks-wi:bootstrapChartPushed" in message


def test_a_chart_in_an_existing_registry_needs_no_word_that_it_was_pushed() -> None:
    run = run_program("dev", overrides={
        "bootstrapApplication": True, **CHARTS, "bootstrapChart": "contososhared.azurecr.io/platform/charts/guestbook",
        "bootstrapTargetRevision": "1.2.0",
    })
    assert run.one(APPLICATION).input("spec.source") == {
        "repoURL": "contososhared.azurecr.io/platform/charts", "chart": "guestbook", "targetRevision": "1.2.0",
    }


@pytest.mark.parametrize(("overrides", "key", "reason"), [
    ({**CHARTS, "helmChartRepositories": ["oci://contosocharts.azurecr.io/charts"]}, "helmChartRepositories", "argo-cd#24432"),
    ({**CHARTS, "helmChartRepositories": ["other.azurecr.io/charts", "contososhared.azurecr.io/x"]},
     "helmChartRepositories", "containerRegistries"),
    ({**CHARTS, "abacRegistries": ["contosocharts", "contososhared"]}, "abacRegistries", "existing registries only"),
    ({**CHARTS, "helmChartRepositories": ["contosocharts.azurecr.io/charts"]}, "containerRegistries", "contososhared"),
    ({**CHARTS, "containerRegistries": ["ab", "rg-shared/contososhared"]}, "containerRegistries", "5-50"),
    ({**CHARTS, "argocdInstallMethod": "extension"}, "helmChartRepositories", "AZURE_ARM_TOKEN_RESOURCE"),
    ({**CHART_BOOTSTRAP, "bootstrapTargetRevision": "HEAD"}, "bootstrapTargetRevision", "chart version"),
    ({**CHART_BOOTSTRAP, "bootstrapChart": "contosocharts.azurecr.io/other/guestbook"}, "bootstrapChart", "helmChartRepositories"),
])
def test_a_chart_misconfiguration_is_named_before_any_resource(overrides: dict[str, Any], key: str, reason: str) -> None:
    message = refusal({"bootstrapApplication": True, **overrides})
    assert f"argocd-aks-wi:{key}" in message and reason in message


# --- Entra single sign-on ----------------------------------------------------------------------------------------


def test_the_app_credential_trusts_the_clusters_issuer_output(sign_in: ProgramRun) -> None:
    credential = sign_in.one(APP_CREDENTIAL)
    assert credential.inputs["issuer"] == sign_in.one(CLUSTER).outputs["oidcIssuerProfile"]["issuerURL"]
    assert credential.inputs["audiences"] == ["api://AzureADTokenExchange"]
    assert credential.inputs["applicationId"] == f"/applications/{sign_in.one(APP).outputs['objectId']}"


def test_the_credential_subject_is_the_server_service_account_the_chart_renders(sign_in: ProgramRun) -> None:
    rendered = values(sign_in)["server"]["serviceAccount"]
    assert rendered["name"] == "argo-ui" and rendered["create"] is True
    assert sign_in.one(APP_CREDENTIAL).inputs["subject"] == f"system:serviceaccount:gitops:{rendered['name']}"


def test_each_client_id_goes_into_its_own_service_accounts_annotation(sign_in: ProgramRun) -> None:
    app_client_id = sign_in.one(APP).outputs["clientId"]
    identity_client_id = sign_in.one(IDENTITY).outputs["clientId"]
    assert app_client_id != identity_client_id
    server, repo_server = values(sign_in)["server"], values(sign_in)["repoServer"]
    assert server["serviceAccount"]["annotations"] == {"azure.workload.identity/client-id": app_client_id}
    assert server["podLabels"] == {"azure.workload.identity/use": "true"}
    assert repo_server["serviceAccount"]["annotations"] == {"azure.workload.identity/client-id": identity_client_id}
    assert sign_in.stack_outputs["singleSignOnClientId"] == app_client_id


def test_oidc_config_uses_workload_identity_and_no_client_secret(sign_in: ProgramRun) -> None:
    config = yaml.safe_load(values(sign_in)["configs"]["cm"]["oidc.config"])
    assert config["clientID"] == sign_in.one(APP).outputs["clientId"]
    assert config["issuer"] == f"https://login.microsoftonline.com/{TENANT}/v2.0"
    assert config["azure"] == {"useWorkloadIdentity": True}
    assert "clientSecret" not in config
    assert values(sign_in)["configs"]["cm"]["url"] == "https://localhost:8080"


def test_entra_groups_are_mapped_to_argo_cd_roles(sign_in: ProgramRun) -> None:
    assert values(sign_in)["configs"]["rbac"]["policy.csv"] == f"g, {ADMINS}, role:admin\ng, {READERS}, role:readonly\n"


def test_the_app_registration_has_redirect_uris_group_claims_and_a_service_principal(sign_in: ProgramRun) -> None:
    app = sign_in.one(APP)
    assert app.inputs["web"]["redirectUris"] == ["https://localhost:8080/auth/callback"]
    assert app.inputs["publicClient"]["redirectUris"] == ["http://localhost:8085/auth/callback"]
    assert app.inputs["groupMembershipClaims"] == ["SecurityGroup"]
    assert app.inputs["optionalClaims"]["idTokens"] == [{"name": "groups", "essential": True}]
    assert app.inputs["signInAudience"] == "AzureADMyOrg"
    assert sign_in.one(SERVICE_PRINCIPAL).inputs["clientId"] == app.outputs["clientId"]


def test_the_server_starts_only_once_the_app_trusts_it(sign_in: ProgramRun) -> None:
    assert sign_in.depends_on(sign_in.one(RELEASE), sign_in.one(APP_CREDENTIAL))


def test_no_client_secret_or_password_anywhere(sign_in: ProgramRun) -> None:
    assert not [r.name for r in sign_in.resources if "password" in r.type.lower() or ("secret" in r.type.lower() and r.type != SECRET)]
    leaks = [
        (r.name, path) for r in sign_in.resources for path, value in walk(r.inputs)
        if value not in (None, "", []) and any(word in path.lower() for word in ("clientsecret", "password"))
    ]
    assert leaks == []
    assert "password" not in sign_in.one(APP).inputs


def test_sign_in_turns_the_local_admin_off_and_the_password_step_goes(sign_in: ProgramRun, dev: ProgramRun) -> None:
    assert values(sign_in)["configs"]["cm"]["admin.enabled"] == "false"
    assert not any("argocd-initial-admin-secret" in step for step in sign_in.stack_outputs["nextSteps"])
    assert any("--sso" in step for step in sign_in.stack_outputs["nextSteps"])
    assert any("argocd-initial-admin-secret" in step for step in dev.stack_outputs["nextSteps"])


def test_the_local_admin_may_stay_on() -> None:
    run = run_program("dev", overrides={**SIGN_IN, "ssoDisablesLocalAdmin": False})
    assert "admin.enabled" not in values(run)["configs"]["cm"]
    assert any("argocd-initial-admin-secret" in step for step in run.stack_outputs["nextSteps"])


def test_the_extension_gets_its_documented_sign_in_settings() -> None:
    run = run_program("dev", overrides={**SIGN_IN, "argocdInstallMethod": "extension", "argocdUrl": "https://argocd.example.com"})
    settings = run.one(EXTENSION).inputs["configurationSettings"]
    assert settings["azure.workloadIdentity.entraSSOClientId"] == run.one(APP).outputs["clientId"]
    assert settings["azure.workloadIdentity.clientId"] == run.one(IDENTITY).outputs["clientId"]
    assert yaml.safe_load(settings["configs.cm.oidc\\.config"])["azure"] == {"useWorkloadIdentity": True}
    assert settings["configs.rbac.policy\\.csv"].startswith(f"g, {ADMINS}, role:admin")
    assert settings["configs.cm.admin\\.enabled"] == "false" and settings["global.domain"] == "argocd.example.com"
    assert run.one(APP_CREDENTIAL).inputs["subject"] == "system:serviceaccount:argocd:argocd-server"


@pytest.mark.parametrize(("overrides", "key", "reason"), [
    ({"singleSignOn": True}, "ssoGroupRoles", "at least one"),
    ({**SIGN_IN, "ssoGroupRoles": ["admins=admin"]}, "ssoGroupRoles", "group object ID"),
    ({**SIGN_IN, "ssoGroupRoles": [f"{ADMINS}=admin", f"{ADMINS.upper()}=readonly"]}, "ssoGroupRoles", "each group once"),
    ({**SIGN_IN, "argocdUrl": "http://argocd.example.com"}, "argocdUrl", "https://"),
    ({**SIGN_IN, "argocdUrl": "https://argo..example.com"}, "argocdUrl", "https://<host>[:<port>]"),
    ({**SIGN_IN, "argocdUrl": "https://argo-.example.com"}, "argocdUrl", "https://<host>[:<port>]"),
    ({**SIGN_IN, "argocdUrl": "https://argocd.example.com:99999"}, "argocdUrl", "https://<host>[:<port>]"),
    ({**SIGN_IN, "argocdUrl": "https://argocd.example.com:0"}, "argocdUrl", "https://<host>[:<port>]"),
    ({**SIGN_IN, "argocdUrl": f"https://{'a' * 64}.example.com"}, "argocdUrl", "https://<host>[:<port>]"),
    ({**SIGN_IN, "serverServiceAccount": "argocd-repo-server"}, "serverServiceAccount", "repoServerServiceAccount"),
    ({**SIGN_IN, "argocdInstallMethod": "extension", "serverServiceAccount": "argo-ui"}, "serverServiceAccount", "extension"),
    ({**SIGN_IN, "argocdInstallMethod": "extension", "extensionSettings": ["configs.cm.admin\\.enabled=true"]},
     "extensionSettings", "the program sets it"),
    ({**SIGN_IN, "extensionSettings": ["azure.workloadIdentity.entraSSOClientId=x"], "argocdInstallMethod": "extension"},
     "extensionSettings", "the program sets it"),
])
def test_a_sign_in_misconfiguration_is_named_before_any_resource(overrides: dict[str, Any], key: str, reason: str) -> None:
    message = refusal(overrides)
    assert f"argocd-aks-wi:{key}" in message and reason in message


# --- The ready stack ---------------------------------------------------------------------------------------------


def test_the_charts_and_sign_in_stack_plans_both_wired_by_outputs() -> None:
    run = run_program("charts-sso")
    assert run.one(APP_CREDENTIAL).inputs["issuer"] == run.one(CLUSTER).outputs["oidcIssuerProfile"]["issuerURL"]
    assert values(run)["server"]["serviceAccount"]["annotations"]["azure.workload.identity/client-id"] == (
        run.one(APP).outputs["clientId"]
    )
    assert run.one(APPLICATION).inputs["spec"]["source"]["chart"] == "guestbook"
    assert len([s for s in run.of_type(SECRET) if s.inputs["stringData"]["type"] == "helm"]) == 2
