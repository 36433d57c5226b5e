"""Issue 10: what the first real `pulumi up`, a CI run and a destroy meet in Azure, asserted by value on the whole
program. The error hooks themselves are called directly in tests/component/ (test_devops_access, test_argocd_registration).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness import (
    APPLICATION,
    CLUSTER,
    ENTITLEMENT,
    GIT_PERMISSIONS,
    MEMBERSHIP,
    ORG,
    RELEASE,
    ROOT,
    SECRET,
    SECRET_TYPE,
    refusal,
    run_program,
)
from tools.offline.engine import ProgramRun, Resource

TARGET = f"{ORG}/gitops/_git/cluster-config"
READ_ONLY = f"{ORG}/gitops/_git/team-apps"


# --- 1. The entitlement waits out Entra's replication to Azure DevOps ----------------------------------------


def test_the_entitlement_carries_the_replication_retry_hook(dev: ProgramRun) -> None:
    assert dev.one(ENTITLEMENT).options["error_hooks"] == ["devops-entitlement-retry"]


def test_the_entitlement_stays_off_the_clusters_path(dev: ProgramRun) -> None:
    entitlement = dev.one(ENTITLEMENT)
    assert not dev.depends_on(entitlement, dev.one(CLUSTER))
    assert not dev.depends_on(dev.one(RELEASE), entitlement)


# --- 2. Kubernetes versions AKS still creates ----------------------------------------------------------------


def test_an_end_of_life_minor_is_refused_naming_the_key_and_how_to_list_versions() -> None:
    message = refusal({"kubernetesVersion": "1.33"})
    assert "argocd-aks-wi:kubernetesVersion = '1.33'" in message
    assert "1.35 or newer" in message and "az aks get-versions --location <region>" in message
    assert "longTermSupport" in message


def test_long_term_support_allows_an_older_minor_on_the_premium_tier() -> None:
    cluster = run_program("dev", overrides={"kubernetesVersion": "1.33", "longTermSupport": True}).one(CLUSTER)
    assert cluster.inputs["kubernetesVersion"] == "1.33"
    assert cluster.inputs["sku"] == {"name": "Base", "tier": "Premium"}
    assert cluster.inputs["supportPlan"] == "AKSLongTermSupport"


def test_long_term_support_still_has_a_floor() -> None:
    message = refusal({"kubernetesVersion": "1.31", "longTermSupport": True})
    assert "1.32 or newer" in message and "long-term support" in message


def test_without_long_term_support_the_cluster_keeps_the_aks_default_tier_and_plan(dev: ProgramRun) -> None:
    assert "sku" not in dev.one(CLUSTER).inputs and "supportPlan" not in dev.one(CLUSTER).inputs


# --- 4. The Source Hydrator pushes to exactly its targets -------------------------------------------------


@pytest.fixture(scope="module")
def hydrating() -> ProgramRun:
    return run_program("dev", overrides={
        "repositories": [TARGET, READ_ONLY],
        "sourceHydrator": True,
        "hydrationRepositories": [TARGET],
        "argocdReleaseName": "gitops",
    })


def secrets_of_type(run: ProgramRun, secret_type: str) -> list[Resource]:
    return [s for s in run.of_type(SECRET) if s.input("metadata.labels")[SECRET_TYPE] == secret_type]


def test_each_hydration_target_gets_one_credential_free_write_secret(hydrating: ProgramRun) -> None:
    (write,) = secrets_of_type(hydrating, "repository-write")
    assert write.inputs["stringData"] == {"type": "git", "url": TARGET, "useAzureWorkloadIdentity": "true"}


def test_read_secrets_are_unchanged_by_the_hydrator(hydrating: ProgramRun) -> None:
    assert sorted(s.input("stringData.url") for s in secrets_of_type(hydrating, "repository")) == sorted([TARGET, READ_ONLY])


def grant_on(run: ProgramRun, repository: str) -> dict[str, str]:
    (grant,) = [g for g in run.of_type(GIT_PERMISSIONS) if g.name.endswith(f"/{repository}-read")]
    return grant.inputs["permissions"]


def test_push_is_granted_on_the_target_and_nowhere_else(hydrating: ProgramRun) -> None:
    assert grant_on(hydrating, "cluster-config") == {"GenericRead": "Allow", "GenericContribute": "Allow", "ManageNote": "Allow"}
    assert grant_on(hydrating, "team-apps") == {"GenericRead": "Allow"}


def test_create_branch_is_granted_only_when_the_hydrator_creates_branches(hydrating: ProgramRun) -> None:
    assert "CreateBranch" not in grant_on(hydrating, "cluster-config")
    creating = run_program("dev", overrides={
        "repositories": [TARGET, READ_ONLY], "sourceHydrator": True, "hydrationRepositories": [TARGET],
        "hydratorCreatesBranches": True,
    })
    assert grant_on(creating, "cluster-config")["CreateBranch"] == "Allow"
    assert grant_on(creating, "team-apps") == {"GenericRead": "Allow"}


def test_the_controller_dials_the_commit_server_the_release_really_has(hydrating: ProgramRun) -> None:
    params = hydrating.one(RELEASE).inputs["values"]["configs"]["params"]
    assert params["commit.server"] == "gitops-argocd-commit-server:8086"


@pytest.mark.parametrize(("overrides", "key", "reason"), [
    ({"sourceHydrator": True}, "hydrationRepositories", "is required with sourceHydrator true"),
    ({"hydrationRepositories": [TARGET]}, "hydrationRepositories", "empty unless sourceHydrator is true"),
    ({"sourceHydrator": True, "hydrationRepositories": [f"{ORG}/gitops/_git/elsewhere"]},
     "hydrationRepositories", "one of the configured repositories"),
    ({"sourceHydrator": True, "hydrationRepositories": [TARGET], "accessModel": "readers"},
     "accessModel", "never to the project's Readers group"),
    ({"sourceHydrator": True, "hydrationRepositories": [TARGET], "argocdInstallMethod": "extension"},
     "sourceHydrator", "Azure/AKS#5850"),
], ids=["no-targets", "targets-without-hydrator", "unknown-target", "readers-model", "extension"])
def test_bad_hydrator_configuration_is_refused_by_key(overrides: dict[str, Any], key: str, reason: str) -> None:
    message = refusal({"repositories": [TARGET, READ_ONLY], **overrides})
    assert f"argocd-aks-wi:{key}" in message and reason in message


# --- 5. The bootstrap Application: grants, the new source, destroy, explanations ---------------------------


def test_the_bootstrap_application_waits_for_every_azure_devops_grant(dev: ProgramRun) -> None:
    application = dev.one(APPLICATION)
    grants = dev.of_type(GIT_PERMISSIONS) + dev.of_type(ENTITLEMENT)
    assert grants
    assert all(dev.depends_on(application, grant) for grant in grants)


def test_in_the_readers_model_it_waits_for_the_readers_membership() -> None:
    run = run_program("dev", overrides={"accessModel": "readers"})
    assert run.depends_on(run.one(APPLICATION), run.one(MEMBERSHIP))


def test_an_update_waits_for_the_new_path_and_revision() -> None:
    run = run_program("dev", overrides={"bootstrapPath": "clusters/next", "bootstrapTargetRevision": "release-2"})
    conditions = json.loads(run.one(APPLICATION).input("metadata.annotations")["pulumi.com/waitFor"])
    assert "jsonpath={.status.sync.comparedTo.source.path}=clusters/next" in conditions
    assert "jsonpath={.status.sync.comparedTo.source.targetRevision}=release-2" in conditions
    assert run.one(APPLICATION).input("spec.source.targetRevision") == "release-2"


def test_a_revision_that_would_break_the_wait_condition_is_refused() -> None:
    assert "argocd-aks-wi:bootstrapTargetRevision" in refusal({"bootstrapTargetRevision": "a=b"})


def test_deleting_the_bootstrap_application_cascades_to_what_it_deployed(dev: ProgramRun) -> None:
    assert dev.one(APPLICATION).input("metadata.finalizers") == ["resources-finalizer.argocd.argoproj.io"]


def test_on_a_new_cluster_destroy_skips_every_kubernetes_object_inside_it(dev: ProgramRun) -> None:
    cluster = dev.one(CLUSTER).urn
    inside = [r for r in dev.resources if r.custom and r.type.startswith("kubernetes:")]
    assert inside and all(r.options["deleted_with"] == cluster for r in inside)


def test_on_an_adopted_cluster_every_kubernetes_object_is_deleted_for_real() -> None:
    run = run_program("dev", overrides={"existingClusterResourceGroup": "rg-aks", "existingClusterName": "aks-shared"})
    assert [r.name for r in run.resources if r.options["deleted_with"]] == []


# --- 6. Secrets in the environment, and a deployer that can sign in ---------------------------------------


# The secret-bearing variables the azuredevops provider reads (docs/facts.md#azuredevops-provider).
@pytest.mark.parametrize("variable", [
    "AZDO_PERSONAL_ACCESS_TOKEN", "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET_PATH",
    "ARM_CLIENT_SECRET_FILE_PATH", "ARM_CLIENT_CERTIFICATE", "ARM_CLIENT_CERTIFICATE_PATH", "ARM_CLIENT_CERTIFICATE_PASSWORD",
])
def test_a_secret_the_azure_devops_provider_would_read_is_refused(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "not-a-real-secret")
    message = refusal({})
    assert f"environment variable {variable} is set" in message and "ARM_USE_OIDC" in message
    assert "not-a-real-secret" not in message


def test_variables_the_provider_does_not_read_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZDO_CLIENT_SECRET", "unused-by-any-provider")
    run_program("dev")


def test_a_group_can_never_be_the_deployer() -> None:
    message = refusal({"deployerPrincipalType": "Group"})
    assert "argocd-aks-wi:deployerPrincipalType = 'Group'" in message and "never as a group" in message


# --- 7. The repository stands on its own -------------------------------------------------------------------


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).suffix in {".py", ".md", ".yaml", ".yml", ".txt", ".toml", ""}]


def test_nothing_cites_a_file_outside_the_repository() -> None:
    offending = [
        str(path.relative_to(ROOT)) for path in tracked_text_files()
        if path.is_file() and re.search(r"FACTS\.md|\.\./shared", path.read_text(errors="replace"))
    ]
    assert offending == [], "cite docs/facts.md instead"


def test_every_cited_fact_anchor_exists() -> None:
    facts = (ROOT / "docs" / "facts.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", heading.lower()).strip().replace(" ", "-") for heading in re.findall(r"^## (.+)$", facts, re.M)}
    anchors |= set(re.findall(r'<a id="([^"]+)"></a>', facts))
    cited = {
        anchor for path in tracked_text_files() if path.is_file()
        for anchor in re.findall(r"docs/facts\.md#([a-z0-9-]+)", path.read_text(errors="replace"))
    }
    assert cited and cited <= anchors, sorted(cited - anchors)
