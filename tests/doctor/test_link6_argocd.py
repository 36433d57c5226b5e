"""Link 6: Argo CD's version, its repository Secrets, and the bootstrap Application."""

from __future__ import annotations

import pytest

from tests.doctor.fakes import ORG_URL, REPO, World, deployment, repository_secret
from tools.doctor.checks.argocd import is_safe_version

REFRESH = "kubectl --namespace argocd annotate application bootstrap argocd.argoproj.io/refresh=hard --overwrite"


@pytest.mark.parametrize(("version", "safe"), [
    ((2, 14, 9), False), ((3, 0, 11), False), ((3, 0, 13), True), ((3, 1, 0), False), ((3, 1, 1), True),
    ((3, 2, 0), True), ((3, 5, 1), True), ((4, 0, 0), True),
])
def test_the_workload_identity_floor_follows_the_fixed_releases(version: tuple[int, int, int], safe: bool) -> None:
    assert is_safe_version(version) is safe


def test_an_old_argo_cd_names_the_chart_version_key(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", "argocd-repo-server", image="quay.io/argoproj/argocd:v3.0.11")]
    run = doctor()
    assert run.code == 1
    found = run.found("argocd-version-too-old")
    assert found.status == "broken"
    assert found.fix == "pulumi config set argocdChartVersion 10.3.3 -s dev && pulumi up -s dev"


def test_the_version_is_read_from_a_digest_pinned_image_tag(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", "argocd-repo-server",
                                    image="registry.example:5000/argoproj/argocd:v3.2.4@sha256:" + "a" * 64)]
    assert "✓ Argo CD v3.2.4 (workload identity for Azure DevOps fixed from v3.1.1, v3.0.13)" in doctor().lines()


def test_a_secret_holding_a_password_names_the_patch_that_removes_it(world: World, doctor) -> None:
    world.secrets = [repository_secret("repo-gitops", REPO, username="pat", password="not-a-real-pat")]
    run = doctor()
    assert run.code == 1
    found = run.found("repository-secret-holds-credential")
    assert found.status == "broken"
    assert found.fix == (
        """kubectl --namespace argocd patch secret repo-gitops --type=json -p '[{"op":"remove","path":"/data/username"},"""
        """{"op":"remove","path":"/data/password"}]'"""
    )
    assert "not-a-real-pat" not in run.out


def test_a_username_alone_is_named_as_a_leftover(world: World, doctor) -> None:
    world.secrets = [repository_secret("repo-gitops", REPO, username="argocd")]
    run = doctor()
    assert run.code == 1
    assert run.found("repository-secret-holds-credential").status == "broken"


def test_a_secret_without_use_azure_workload_identity_names_the_field(world: World, doctor) -> None:
    world.secrets = [repository_secret("repo-gitops", REPO, useAzureWorkloadIdentity="True ")]
    run = doctor()
    assert run.code == 1
    found = run.found("repository-secret-not-workload-identity")
    assert found.status == "broken"
    assert found.fix == """kubectl --namespace argocd patch secret repo-gitops -p '{"stringData":{"useAzureWorkloadIdentity":"true"}}'"""


def test_a_repository_no_secret_covers_asks_for_pulumi_up(world: World, doctor) -> None:
    world.secrets = []
    run = doctor()
    assert run.code == 1
    found = run.found("repository-secret-missing")
    assert found.status == "broken"
    assert found.fix == "pulumi up -s dev"


def test_a_credential_template_covers_the_repositories_of_its_project(world: World, doctor) -> None:
    world.secrets = [repository_secret("creds-platform", f"{ORG_URL}/platform/_git/", kind="repo-creds")]
    run = doctor()
    assert run.code == 0, run.out
    assert ("repository-secret-ok", "ok") in run.findings() and "creds-platform (repo-creds)" in run.found("repository-secret-ok").summary


def test_a_matching_template_with_a_token_is_found_beside_a_clean_repository_secret(world: World, doctor) -> None:
    world.secrets.append(repository_secret("creds-org", f"{ORG_URL}/", kind="repo-creds", bearerToken="not-a-real-token"))
    run = doctor()
    assert run.code == 1
    assert ("repository-secret-holds-credential", "broken") in run.findings()


def test_a_bootstrap_application_that_cannot_fetch_shows_its_condition(world: World, doctor) -> None:
    world.applications["bootstrap"] = {"status": {
        "sync": {"status": "Unknown"}, "health": {"status": "Healthy"},
        "conditions": [{"type": "ComparisonError", "message": (
            "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "
            "failed to list refs: authentication required\nmore detail")}],
    }}
    run = doctor()
    assert run.code == 1
    found = run.found("bootstrap-application-not-synced")
    assert found.status == "broken"
    assert found.fix == f"repair the first broken link above, then refresh: {REFRESH}"


def test_a_missing_bootstrap_application_asks_for_pulumi_up(world: World, doctor) -> None:
    world.applications.clear()
    run = doctor()
    assert run.code == 1
    found = run.found("bootstrap-application-missing")
    assert found.status == "broken"
    assert found.fix == "pulumi up -s dev"


def test_without_a_bootstrap_application_nothing_is_checked_for_it(world: World, doctor) -> None:
    world.outputs["bootstrapApplication"] = None
    world.applications.clear()
    run = doctor()
    assert run.code == 0
    assert not [finding for finding, _ in run.findings() if finding.startswith("bootstrap-application")]


def test_without_permission_to_read_secrets_the_other_checks_still_run(world: World, doctor) -> None:
    world.may_read_secrets = False
    run = doctor()
    assert run.code == 2
    found = run.found("argocd-secrets-unreadable")
    assert found.status == "unknown"
    assert found.fix == "kubectl auth can-i list secrets --namespace argocd must say yes (docs/doctor.md, Permissions)"
    assert ("bootstrap-application-synced", "ok") in run.findings()


def test_a_version_neither_the_tag_nor_the_label_names_is_a_question(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", "argocd-repo-server", image="myregistry.example/argocd@sha256:" + "b" * 64)]
    run = doctor()
    assert run.code == 2
    assert run.found("argocd-version-unknown").status == "unknown"


def test_the_chart_version_label_names_the_release_when_the_tag_does_not(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", "argocd-repo-server", image="myregistry.example/argocd@sha256:" + "b" * 64)]
    world.deployments[0]["metadata"]["labels"]["app.kubernetes.io/version"] = "v3.1.0"
    run = doctor()
    assert run.code == 1
    assert ("argocd-version-too-old", "broken") in run.findings() and "v3.1.0" in run.found("argocd-version-too-old").summary
