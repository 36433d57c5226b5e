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
    assert run.finding("Argo CD v3.0.11 is older than the workload-identity floor v3.1.1") == [
        "✗ Argo CD v3.0.11 is older than the workload-identity floor v3.1.1",
        "cause: its Azure DevOps workload identity is broken: tokens cached past expiry (argo-cd#23100) and fetches "
        "without the bearer header (argo-cd#23478)",
        "fix:   pulumi config set argocdChartVersion 10.3.3 -s dev && pulumi up -s dev",
    ]


def test_the_version_is_read_from_a_digest_pinned_image_tag(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", "argocd-repo-server",
                                    image="registry.example:5000/argoproj/argocd:v3.2.4@sha256:" + "a" * 64)]
    assert "✓ Argo CD v3.2.4 (workload identity for Azure DevOps fixed from v3.1.1, v3.0.13)" in doctor().lines()


def test_a_secret_holding_a_password_names_the_patch_that_removes_it(world: World, doctor) -> None:
    world.secrets = [repository_secret("repo-gitops", REPO, username="pat", password="not-a-real-pat")]
    run = doctor()
    assert run.code == 1
    assert run.finding(f"Secret repo-gitops (repository) for {REPO} holds username, password") == [
        f"✗ Secret repo-gitops (repository) for {REPO} holds username, password",
        "cause: password wins over useAzureWorkloadIdentity, which is then silently ignored",
        """fix:   kubectl --namespace argocd patch secret repo-gitops --type=json -p '[{"op":"remove","path":"/data/username"},"""
        """{"op":"remove","path":"/data/password"}]'""",
    ]
    assert "not-a-real-pat" not in run.out


def test_a_username_alone_is_named_as_a_leftover(world: World, doctor) -> None:
    world.secrets = [repository_secret("repo-gitops", REPO, username="argocd")]
    run = doctor()
    assert run.code == 1
    assert run.finding(f"Secret repo-gitops (repository) for {REPO} holds username")[1] == (
        "cause: a leftover of a credential setup: this program registers repositories with workload identity only"
    )


def test_a_secret_without_use_azure_workload_identity_names_the_field(world: World, doctor) -> None:
    world.secrets = [repository_secret("repo-gitops", REPO, useAzureWorkloadIdentity="True ")]
    run = doctor()
    assert run.code == 1
    assert run.finding(f'Secret repo-gitops for {REPO} lacks useAzureWorkloadIdentity: "true"') == [
        f'✗ Secret repo-gitops for {REPO} lacks useAzureWorkloadIdentity: "true"',
        "cause: without it Argo CD fetches anonymously and Azure DevOps answers 401",
        """fix:   kubectl --namespace argocd patch secret repo-gitops -p '{"stringData":{"useAzureWorkloadIdentity":"true"}}'""",
    ]


def test_a_repository_no_secret_covers_asks_for_pulumi_up(world: World, doctor) -> None:
    world.secrets = []
    run = doctor()
    assert run.code == 1
    assert run.finding(f"no repository or repo-creds Secret covers {REPO}") == [
        f"✗ no repository or repo-creds Secret covers {REPO}",
        "cause: Argo CD has no registration to read this repository with",
        "fix:   pulumi up -s dev",
    ]


def test_a_credential_template_covers_the_repositories_of_its_project(world: World, doctor) -> None:
    world.secrets = [repository_secret("creds-platform", f"{ORG_URL}/platform/_git/", kind="repo-creds")]
    run = doctor()
    assert run.code == 0, run.out
    assert f"✓ Secret creds-platform (repo-creds) covers {REPO}: workload identity, no other credential" in run.lines()


def test_a_matching_template_with_a_token_is_found_beside_a_clean_repository_secret(world: World, doctor) -> None:
    world.secrets.append(repository_secret("creds-org", f"{ORG_URL}/", kind="repo-creds", bearerToken="not-a-real-token"))
    run = doctor()
    assert run.code == 1
    assert run.finding(f"Secret creds-org (repo-creds) for {REPO} holds bearerToken")[0].startswith("✗")


def test_a_bootstrap_application_that_cannot_fetch_shows_its_condition(world: World, doctor) -> None:
    world.applications["bootstrap"] = {"status": {
        "sync": {"status": "Unknown"}, "health": {"status": "Healthy"},
        "conditions": [{"type": "ComparisonError", "message": (
            "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown desc = "
            "failed to list refs: authentication required\nmore detail")}],
    }}
    run = doctor()
    assert run.code == 1
    assert run.finding("Application bootstrap: Unknown, Healthy") == [
        "✗ Application bootstrap: Unknown, Healthy",
        "cause: ComparisonError: Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: "
        "code = Unknown desc = failed to list refs: authentication required",
        f"fix:   repair the first broken link above, then refresh: {REFRESH}",
    ]


def test_a_missing_bootstrap_application_asks_for_pulumi_up(world: World, doctor) -> None:
    world.applications.clear()
    run = doctor()
    assert run.code == 1
    assert run.finding("Application bootstrap not found in argocd")[1:] == [
        "cause: the bootstrap Application was never created or was deleted",
        "fix:   pulumi up -s dev",
    ]


def test_without_a_bootstrap_application_nothing_is_checked_for_it(world: World, doctor) -> None:
    world.outputs["bootstrapApplication"] = None
    world.applications.clear()
    run = doctor()
    assert run.code == 0
    assert not [line for line in run.lines() if "Application" in line]


def test_without_permission_to_read_secrets_the_other_checks_still_run(world: World, doctor) -> None:
    world.may_read_secrets = False
    run = doctor()
    assert run.code == 2
    finding = run.finding("cannot read the repository Secrets")
    assert finding[0] == "? cannot read the repository Secrets"
    assert finding[2] == "fix:   kubectl auth can-i list secrets --namespace argocd must say yes (docs/doctor.md, Permissions)"
    assert "✓ Application bootstrap: Synced and Healthy" in run.lines()


def test_a_version_neither_the_tag_nor_the_label_names_is_a_question(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", "argocd-repo-server", image="myregistry.example/argocd@sha256:" + "b" * 64)]
    run = doctor()
    assert run.code == 2
    assert run.finding("Argo CD version unknown")[1] == (
        f"cause: neither the image 'myregistry.example/argocd@sha256:{'b' * 64}' nor the version label names a release"
    )


def test_the_chart_version_label_names_the_release_when_the_tag_does_not(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", "argocd-repo-server", image="myregistry.example/argocd@sha256:" + "b" * 64)]
    world.deployments[0]["metadata"]["labels"]["app.kubernetes.io/version"] = "v3.1.0"
    run = doctor()
    assert run.code == 1
    assert "✗ Argo CD v3.1.0 is older than the workload-identity floor v3.1.1" in run.lines()
