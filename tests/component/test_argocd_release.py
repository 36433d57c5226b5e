"""ArgoCdRelease on its own: built directly with the test's arguments, chart values checked by value."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes
import pytest

from components.argocd_release import ArgoCdRelease, ArgoCdReleaseArgs, chart_fullname
from components.vocabulary import SecretType
from harness import APPLICATION, NAMESPACE, RELEASE, SECRET
from tools.offline.engine import ProgramRun, run_components

CLIENT_ID = "99999999-8888-7777-6666-555555555555"
REPOSITORY = "https://dev.azure.com/fabrikam/platform/_git/manifests"


def release(**extra: object) -> ProgramRun:
    args = ArgoCdReleaseArgs(
        namespace="gitops",
        release_name="gitops",
        chart_version="10.3.3",
        repo_server={"name": "gitops-reader", "client_id": CLIENT_ID},
        registrations=[{"key": "repo-manifests", "url": REPOSITORY, "secret_type": SecretType.REPOSITORY}],
    )
    args.update(extra)  # type: ignore[typeddict-item]

    def build() -> None:
        provider = kubernetes.Provider("k8s", kubeconfig="{}")
        ArgoCdRelease("argocd", args, opts=pulumi.ResourceOptions(providers=[provider]))

    return run_components(build)


def test_only_the_repo_server_runs_as_the_identity_by_its_exact_service_account() -> None:
    values = release().one(RELEASE).inputs["values"]
    assert set(values) == {"repoServer"}
    repo_server = values["repoServer"]
    assert repo_server["serviceAccount"] == {
        "create": True, "name": "gitops-reader", "annotations": {"azure.workload.identity/client-id": CLIENT_ID},
    }
    assert repo_server["podLabels"] == {"azure.workload.identity/use": "true"}


def test_the_release_installs_the_pinned_chart_atomically_into_its_namespace() -> None:
    run = release()
    chart = run.one(RELEASE)
    assert (chart.inputs["chart"], chart.inputs["version"], chart.inputs["name"]) == ("argo-cd", "10.3.3", "gitops")
    assert chart.inputs["namespace"] == run.one(NAMESPACE).input("metadata.name") == "gitops"
    assert chart.inputs["atomic"] is True and chart.options["delete_before_replace"] is True


def test_the_kubernetes_objects_use_the_provider_passed_in_options() -> None:
    run = release()
    provider = run.one("pulumi:providers:kubernetes").urn
    assert {r.provider for r in run.resources if r.type.startswith("kubernetes:")} == {provider}


def test_the_hydrator_turns_on_the_commit_server_as_the_identity() -> None:
    values = release(commit_server={"name": "gitops-writer", "client_id": CLIENT_ID}).one(RELEASE).inputs["values"]
    assert values["commitServer"]["serviceAccount"]["name"] == "gitops-writer"
    assert values["configs"]["params"] == {"hydrator.enabled": "true", "commit.server": "gitops-argocd-commit-server:8086"}


@pytest.mark.parametrize(("release_name", "fullname"), [("argocd", "argocd"), ("gitops", "gitops-argocd"), ("my-argocd", "my-argocd")])
def test_the_chart_names_its_objects_like_argo_helm(release_name: str, fullname: str) -> None:
    assert chart_fullname(release_name) == fullname


def test_without_bootstrap_no_application_is_created() -> None:
    run = release()
    assert run.of_type(APPLICATION) == [] and len(run.of_type(SECRET)) == 1


def test_single_sign_on_without_a_server_account_is_refused() -> None:
    sign_in = {"client_id": "app", "tenant_id": "tenant", "url": "https://argocd.example.com", "group_roles": {},
               "disable_local_admin": False}
    with pytest.raises(Exception, match="single_sign_on needs server"):
        release(single_sign_on=sign_in)
