"""Every bad value stops the run with one ConfigError that names the
namespaced key and what is accepted, before a single resource is registered."""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness import APPLICATION, GIT_PERMISSIONS, ORG, RELEASE, run_program
from settings import ConfigError
from tools.offline.engine import Resource

REPO = f"{ORG}/gitops/_git/cluster-config"
KEY = "argocd-aks-wi:"
EXTENSION = {"argocdInstallMethod": "extension"}


def refused(overrides: dict[str, Any]) -> tuple[str, list[Resource]]:
    """Run the dev stack with `overrides`; return the ConfigError's message and what was registered."""
    registered: list[Resource] = []
    with pytest.raises(ConfigError) as raised:
        run_program("dev", overrides=overrides, registered=registered)
    return str(raised.value), registered


# (overrides, the namespaced key the message must name, what the message must say is accepted or why)
BAD_VALUES = [
    # --- Azure DevOps organisation, project and repositories ---------------------------------------
    pytest.param({"azureDevOpsOrgUrl": None}, "azureDevOpsOrgUrl", "is required", id="org-url-missing"),
    pytest.param(
        {"azureDevOpsOrgUrl": "https://me@dev.azure.com/contoso-platform"}, "azureDevOpsOrgUrl", "no user@ part",
        id="org-url-with-user-part",
    ),
    pytest.param(
        {"azureDevOpsOrgUrl": "https://contoso-platform.visualstudio.com"}, "azureDevOpsOrgUrl", "visualstudio.com",
        id="org-url-visualstudio-com",
    ),
    pytest.param(
        {"azureDevOpsOrgUrl": f"{ORG}/gitops"}, "azureDevOpsOrgUrl", "no project", id="org-url-with-project",
    ),
    pytest.param(
        {"azureDevOpsOrgUrl": "http://dev.azure.com/contoso-platform"}, "azureDevOpsOrgUrl",
        "https://dev.azure.com/<organisation>", id="org-url-plain-http",
    ),
    pytest.param({"azureDevOpsProject": None}, "azureDevOpsProject", "is required", id="project-missing"),
    pytest.param({"azureDevOpsProject": "git/ops"}, "azureDevOpsProject", "Azure DevOps project name",
                 id="project-with-slash"),
    pytest.param({"azureDevOpsProject": "_gitops"}, "azureDevOpsProject", "Azure DevOps project name",
                 id="project-starting-with-underscore"),
    pytest.param({"azureDevOpsProject": "gitops."}, "azureDevOpsProject", "Azure DevOps project name",
                 id="project-ending-with-dot"),
    pytest.param({"azureDevOpsProject": "p" * 65}, "azureDevOpsProject", "at most 64 characters",
                 id="project-longer-than-64"),
    pytest.param({"repositories": None}, "repositories", "at least one entry", id="repositories-missing"),
    pytest.param(
        {"repositories": ["https://dev.azure.com/fabrikam/gitops/_git/cluster-config"]}, "repositories",
        "configured organisation 'contoso-platform'", id="repository-of-another-organisation",
    ),
    pytest.param(
        {"repositories": ["https://contoso-platform@dev.azure.com/contoso-platform/gitops/_git/cluster-config"]},
        "repositories", "no user@ part", id="repository-with-user-part",
    ),
    pytest.param({"repositories": [f"{REPO}.git"]}, "repositories", "no trailing .git", id="repository-ending-in-git"),
    pytest.param(
        {"repositories": ["git@ssh.dev.azure.com:v3/contoso-platform/gitops/cluster-config"]}, "repositories",
        "SSH has no workload identity", id="repository-ssh-scp-form",
    ),
    pytest.param(
        {"repositories": ["ssh://ssh.dev.azure.com/v3/contoso-platform/gitops/cluster-config"]}, "repositories",
        "SSH has no workload identity", id="repository-ssh-url",
    ),
    pytest.param(
        {"repositories": ["https://dev.azure.com/Contoso-Platform/gitops/_git/cluster-config"]}, "repositories",
        "the organisation written exactly as in azureDevOpsOrgUrl", id="repository-organisation-spelt-differently",
    ),
    pytest.param(
        {"repositories": [REPO, REPO.replace("cluster-config", "Cluster-Config")]}, "repositories", "each repository once",
        id="repository-listed-twice-ignoring-case",
    ),
    *[
        pytest.param({"repositories": [f"{ORG}/{project}/_git/cluster-config"]}, "repositories",
                     "a valid project name in the URL", id=f"repository-project-{label}")
        for project, label in (("_gitops", "leading-underscore"), (".gitops", "leading-dot"), ("gitops.", "trailing-dot"),
                               ("g" * 65, "65-characters"))
    ],
    *[
        pytest.param({"repositories": [f"{ORG}/{project}/_git/cluster-config"]}, "repositories",
                     "a % only as an escape with two hex digits", id=f"repository-bad-escape-{label}")
        for project, label in (("100%", "percent-alone"), ("100%zz", "not-hex"), ("a%2", "one-digit"))
    ],
    pytest.param({"accessModel": "everything"}, "accessModel", "one of repositories, readers", id="access-model-unknown"),
    pytest.param(
        {"azureDevOpsAccessLevel": "basic"}, "azureDevOpsAccessLevel",
        "is retired: the identity's entitlement is always Basic", id="access-level-retired",
    ),
    # --- Kubernetes names ----------------------------------------------------------------------------
    pytest.param({"argocdNamespace": "Argo_CD"}, "argocdNamespace", "DNS-1123 label", id="namespace-not-dns-1123"),
    pytest.param({"argocdNamespace": "a" * 64}, "argocdNamespace", "at most 63", id="namespace-longer-than-63"),
    pytest.param(
        {"repoServerServiceAccount": "Repo_Server"}, "repoServerServiceAccount", "DNS-1123 subdomain",
        id="repo-server-service-account-not-dns-1123",
    ),
    pytest.param(
        {"sourceHydrator": True, "commitServerServiceAccount": "commit server"}, "commitServerServiceAccount",
        "DNS-1123 subdomain", id="commit-server-service-account-not-dns-1123",
    ),
    pytest.param({"argocdReleaseName": "Argo.CD"}, "argocdReleaseName", "Helm release name", id="release-name-invalid"),
    *[
        pytest.param({"argocdNamespace": namespace}, "argocdNamespace", "every cluster already has this one",
                     id=f"namespace-{namespace}")
        for namespace in ("default", "kube-system", "kube-public", "kube-node-lease")
    ],
    pytest.param({"argocdReleaseName": "1argocd"}, "argocdReleaseName", "starts with a letter", id="release-name-leading-digit"),
    pytest.param(  # the chart's prefix would be "<53 a>-argocd", 60 characters
        {"argocdReleaseName": "a" * 53}, "argocdReleaseName",
        f"'{'a' * 53}-argocd' plus the component and cuts them at 63 characters; that prefix may have at most 59 "
        "characters, or its repo-server and redis Deployments get the same name",
        id="release-name-whose-chart-names-collide",
    ),
    pytest.param({"argocdReleaseName": "a" * 54}, "argocdReleaseName", "at most 53 characters", id="release-name-over-53"),
    pytest.param(
        {"argocdReleaseName": "a" * 44 + "argocd", "sourceHydrator": True, "hydrationRepositories": [REPO]},
        "argocdReleaseName", "at most 49 characters with sourceHydrator", id="release-name-cutting-the-commit-server",
    ),
    *[
        pytest.param({"bootstrapTargetRevision": revision}, "bootstrapTargetRevision", "git check-ref-format",
                     id=f"revision-{label}")
        for revision, label in (("release/v1.lock", "lock-suffix"), ("feature/.hidden", "dot-start"), ("main/", "slash-end"),
                                ("main.", "dot-end"), ("release//1", "double-slash"), ("a..b", "double-dot"),
                                ("v1~1", "tilde"), ("main@{1}", "reflog"), ("-main", "leading-dash"), ("my branch", "space"))
    ],
    # --- Cluster -------------------------------------------------------------------------------------
    pytest.param({"nodeCount": 0}, "nodeCount", "from 1 to 1000", id="node-count-0"),
    pytest.param({"nodeCount": 1001}, "nodeCount", "from 1 to 1000", id="node-count-1001"),
    pytest.param({"nodeCount": "two"}, "nodeCount", "whole number", id="node-count-not-a-number"),
    pytest.param({"nodeVmSize": "D4ds_v5"}, "nodeVmSize", "Standard_D4ds_v5", id="vm-size-without-standard-prefix"),
    pytest.param({"systemPoolName": "1system"}, "systemPoolName", "starting with a letter", id="pool-name-invalid"),
    pytest.param({"kubernetesVersion": "latest"}, "kubernetesVersion", "MAJOR.MINOR", id="kubernetes-version-latest"),
    pytest.param({"location": "West Europe"}, "location", "lower case without spaces", id="location-display-name"),
    pytest.param(
        {"clusterAdminGroupObjectIds": ["platform-admins"]}, "clusterAdminGroupObjectIds", "GUIDs",
        id="admin-group-not-a-guid",
    ),
    pytest.param(
        {"existingClusterResourceGroup": "rg-platform", "existingClusterName": "-aks shared"}, "existingClusterName",
        "an AKS cluster name", id="existing-cluster-name-invalid",
    ),
    pytest.param({"kubeloginMode": "devicecode"}, "kubeloginMode", "one of azurecli, workloadidentity, msi",
                 id="kubelogin-mode-interactive"),
    pytest.param({"deployerPrincipalType": "Robot"}, "deployerPrincipalType", "one of User, ServicePrincipal",
                 id="deployer-principal-type-unknown"),
    pytest.param(
        {"existingClusterName": "aks-shared"}, "existingClusterResourceGroup and argocd-aks-wi:existingClusterName",
        "set both", id="existing-cluster-name-without-resource-group",
    ),
    pytest.param(
        {"existingClusterResourceGroup": "rg-platform"}, "existingClusterResourceGroup", "set both",
        id="existing-cluster-resource-group-without-name",
    ),
    # --- Argo CD chart -------------------------------------------------------------------------------
    pytest.param(
        {"argocdChartVersion": "8.1.3"}, "argocdChartVersion", "8.3.1 or newer", id="chart-8.1.3-ships-broken-argocd",
    ),
    pytest.param(
        {"argocdChartVersion": "8.3.0"}, "argocdChartVersion", "8.3.1 or newer", id="chart-8.3.0-ships-argocd-3.1.0",
    ),
    pytest.param({"argocdChartVersion": "latest"}, "argocdChartVersion", "(semver", id="chart-version-not-semver"),
    pytest.param(
        {"argocdChartVersion": "8.3.1-rc.1"}, "argocdChartVersion", "8.3.1 or newer", id="chart-pre-release-of-the-floor",
    ),
    # --- PATs and passwords --------------------------------------------------------------------------
    pytest.param(
        {"personalAccessToken": "0123456789abcdef"}, "personalAccessToken", "never uses a PAT",
        id="pat-in-project-config",
    ),
    pytest.param(
        {"argocdAdminPassword": "correct horse"}, "argocdAdminPassword", "never uses a PAT or password",
        id="password-in-project-config",
    ),
    pytest.param(
        {"azuredevops:personalAccessToken": "0123456789abcdef"}, "azuredevops:personalAccessToken", "az login",
        id="pat-in-azuredevops-provider-config",
    ),
    # --- Unknown keys --------------------------------------------------------------------------------
    pytest.param({"nodeCuont": 3}, "nodeCuont", "did you mean nodeCount?", id="typo-node-count"),
    pytest.param({"repositorys": [REPO]}, "repositorys", "did you mean repositories?", id="typo-repositories"),
    pytest.param({"zzzzzz": "1"}, "zzzzzz", "see Pulumi.yaml for every key", id="unknown-key-without-close-match"),
    # --- Extension -------------------------------------------------------------------------
    pytest.param({"argocdInstallMethod": "operator"}, "argocdInstallMethod", "one of helm, extension",
                 id="install-method-unknown"),
    pytest.param(
        {**EXTENSION, "argocdNamespace": "gitops"}, "argocdNamespace", "the AKS extension always installs there",
        id="extension-namespace-not-argocd",
    ),
    pytest.param(
        {**EXTENSION, "extensionHighAvailability": True, "nodeCount": 3}, "nodeCount", "at least 4",
        id="extension-high-availability-with-3-nodes",
    ),
    pytest.param(
        {**EXTENSION, "extensionSettings": ["workloadIdentity.enable=true"]}, "extensionSettings",
        "use azure.workloadIdentity.enabled", id="extension-legacy-workload-identity-enable",
    ),
    pytest.param(
        {**EXTENSION, "extensionSettings": ["workloadIdentity.clientId=00000000-0000-0000-0000-000000000001"]},
        "extensionSettings", "use azure.workloadIdentity.clientId", id="extension-legacy-workload-identity-client-id",
    ),
    pytest.param(
        {**EXTENSION, "extensionSettings": ["deployWithHighAvailability=true"]}, "extensionSettings",
        "use redis-ha.enabled", id="extension-legacy-deploy-with-high-availability",
    ),
    pytest.param(
        {**EXTENSION, "extensionSettings": ["namespaceInstall=false"]}, "extensionSettings",
        "namespaceInstall is legacy", id="extension-legacy-namespace-install",
    ),
    pytest.param(
        {**EXTENSION, "extensionSettings": ["azure.workloadIdentity.clientId=00000000-0000-0000-0000-000000000001"]},
        "extensionSettings", "the program sets it", id="extension-owned-client-id",
    ),
    pytest.param(
        {**EXTENSION, "extensionSettings": ["redis-ha.enabled=true"]}, "extensionSettings", "the program sets it",
        id="extension-owned-redis-ha",
    ),
    pytest.param(
        {**EXTENSION, "extensionSettings": ["configs.secret.argocdServerAdminPassword=hunter2"]}, "extensionSettings",
        "never uses a PAT or password", id="extension-password-setting",
    ),
    pytest.param(
        {**EXTENSION, "extensionSettings": ["configs.cm.url"]}, "extensionSettings", '"key=value"',
        id="extension-setting-without-value",
    ),
    pytest.param(
        {**EXTENSION, "extensionReleaseTrain": "1preview"}, "extensionReleaseTrain", "release train name",
        id="extension-release-train-invalid",
    ),
    pytest.param(
        {**EXTENSION, "extensionVersion": "0.0.7-preview"}, "extensionVersion", "1.0.0-preview or newer",
        id="extension-version-legacy-0.0.x",
    ),
    pytest.param(
        {**EXTENSION, "sourceHydrator": True}, "sourceHydrator", "false with argocdInstallMethod extension",
        id="source-hydrator-with-extension",
    ),
    # --- Federated credentials and proof of access ------------------------------------------
    pytest.param(
        {"additionalIssuers": [f"https://westeurope.oic.prod-aks.azure.com/t/{n}/" for n in range(20)]},
        "additionalIssuers/additionalServiceAccounts", "at most 20: split the clusters over several stacks",
        id="more-than-20-federated-credentials",
    ),
    pytest.param(
        {"additionalIssuers": ["http://issuer.example.com/"]}, "additionalIssuers", "HTTPS OIDC issuer URLs",
        id="additional-issuer-not-https",
    ),
    pytest.param(
        {"additionalServiceAccounts": ["argocd-repo-server"]}, "additionalServiceAccounts", '"namespace/name"',
        id="additional-service-account-without-namespace",
    ),
    pytest.param(
        {"additionalServiceAccounts": ["argocd/argocd-repo-server"]}, "additionalServiceAccounts",
        "repeats system:serviceaccount:argocd:argocd-repo-server", id="additional-service-account-repeats-repo-server",
    ),
    pytest.param(
        {"bootstrapRepository": f"{ORG}/gitops/_git/not-registered"}, "bootstrapRepository",
        "one of the configured repositories", id="bootstrap-repository-not-configured",
    ),
    pytest.param({"bootstrapTimeoutSeconds": 30}, "bootstrapTimeoutSeconds", "from 60 to 3600",
                 id="bootstrap-timeout-too-short"),
    pytest.param({"bootstrapPath": "../outside"}, "bootstrapPath", "relative path inside the repository",
                 id="bootstrap-path-leaves-repository"),
    pytest.param({"credentialTemplates": "yes"}, "credentialTemplates", "true or false", id="boolean-not-true-or-false"),
    pytest.param({"protectResources": "always"}, "protectResources", "one of auto, true, false",
                 id="protect-resources-unknown"),
]


@pytest.mark.parametrize(("overrides", "key", "accepted"), BAD_VALUES)
def test_bad_value_is_refused_by_key_before_anything_is_registered(
    overrides: dict[str, Any], key: str, accepted: str
) -> None:
    message, registered = refused(overrides)
    namespaced = key if ":" in key else KEY + key
    assert namespaced in message
    assert accepted in message
    assert registered == []
    # Each refusal names the rule it enforces: a section of docs/facts.md (which cites it upstream), or the schema.
    problems = [line for line in message.splitlines() if line.startswith("  - ")]
    assert problems and all(re.search(r" \[(docs/facts\.md#[a-z0-9-]+|Pulumi\.yaml config schema)\]$", p) for p in problems)


def test_pat_in_the_environment_is_refused_before_anything_is_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZDO_PERSONAL_ACCESS_TOKEN", "0123456789abcdef")
    message, registered = refused({})
    assert "environment variable AZDO_PERSONAL_ACCESS_TOKEN is set" in message
    assert "never uses a PAT" in message
    assert registered == []


def test_refused_value_is_named_in_the_message() -> None:
    message, _ = refused({"nodeVmSize": "D4ds_v5"})
    assert f"{KEY}nodeVmSize = 'D4ds_v5'" in message


def test_every_bad_key_is_listed_in_one_error() -> None:
    message, _ = refused({"nodeCount": 0, "location": "West Europe", "argocdChartVersion": "8.1.3"})
    assert all(f"{KEY}{key}" in message for key in ("nodeCount", "location", "argocdChartVersion"))


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"personalAccessToken": "s3cr3t-pat-value"}, id="pat-key"),
        pytest.param({"azuredevops:personalAccessToken": "s3cr3t-pat-value"}, id="provider-pat-key"),
        pytest.param({"repositories": [REPO.replace("https://", "https://me:s3cr3t-pat-value@")]},
                     id="pat-in-repository-url"),
        pytest.param({"repositories": [REPO.replace("https://", "https://s3cr3t-pat-value@")]},
                     id="pat-as-user-of-repository-url"),
        pytest.param({"azureDevOpsOrgUrl": ORG.replace("https://", "https://me:s3cr3t-pat-value@")},
                     id="pat-in-org-url"),
        pytest.param({"bootstrapRepository": REPO.replace("https://", "https://me:s3cr3t-pat-value@")},
                     id="pat-in-bootstrap-repository"),
        pytest.param({**EXTENSION, "extensionSettings": ["configs.secret.extra.token=s3cr3t-pat-value"]},
                     id="token-in-extension-settings"),
    ],
)
def test_secret_looking_value_is_masked_in_the_message(overrides: dict[str, Any]) -> None:
    message, _ = refused(overrides)
    assert "s3cr3t-pat-value" not in message


def test_chart_8_3_1_is_the_first_accepted_version() -> None:
    run = run_program("dev", overrides={"argocdChartVersion": "8.3.1"})
    assert run.one(RELEASE).inputs["version"] == "8.3.1"


@pytest.mark.parametrize("release_name", ["a" * 52, "a" * 47 + "argocd", "argo"])
def test_a_release_name_whose_chart_prefix_fits_59_characters_is_accepted(release_name: str) -> None:
    run = run_program("dev", overrides={"argocdReleaseName": release_name})
    assert run.one(RELEASE).inputs["name"] == release_name


@pytest.mark.parametrize("revision", ["HEAD", "release/v1.2", "feature/x.y", "v1.0-lock", "a1b2c3d4e5f6"])
def test_branch_tag_and_commit_names_git_accepts_are_accepted(revision: str) -> None:
    run = run_program("dev", overrides={"bootstrapTargetRevision": revision})
    assert run.one(APPLICATION).inputs["spec"]["source"]["targetRevision"] == revision


def test_a_project_name_with_characters_azure_devops_allows_is_accepted() -> None:
    """"R&D Platform" is a valid Azure DevOps project name: the URL carries it percent-encoded."""
    run = run_program("dev", overrides={
        "azureDevOpsProject": "R&D Platform", "repositories": [f"{ORG}/R%26D%20Platform/_git/cluster-config"],
    })
    assert [g.name for g in run.of_type(GIT_PERMISSIONS)] == ["devops-R&D Platform/cluster-config-read"]
