"""Link 3: the service account's client-ID annotation, the pods' label, their age, and what the webhook injected."""

from __future__ import annotations

from tests.doctor.fakes import CLIENT_ID, World, pod, service_account
from tools.doctor.checks.pods import annotation_time

RESTART = "kubectl --namespace argocd rollout restart deployment argocd-repo-server"
OLD_CLIENT_ID = "99999999-9999-9999-9999-999999999999"


def test_a_missing_annotation_names_the_kubectl_annotate_command(world: World, doctor) -> None:
    world.service_accounts["argocd-repo-server"] = service_account("argocd-repo-server", client_id=None)
    run = doctor()
    assert run.code == 1
    found = run.found("client-id-not-annotated")
    assert found.status == "broken"
    assert found.fix == (
        f"kubectl --namespace argocd annotate serviceaccount argocd-repo-server "
        f"azure.workload.identity/client-id={CLIENT_ID} --overwrite && {RESTART}"
    )


def test_an_annotation_naming_another_identity_names_both_client_ids(world: World, doctor) -> None:
    world.service_accounts["argocd-repo-server"] = service_account("argocd-repo-server", client_id=OLD_CLIENT_ID)
    run = doctor()
    assert run.found("client-id-not-annotated").status == "broken"


def test_an_unlabelled_pod_names_the_patch_that_labels_the_template(world: World, doctor) -> None:
    world.pods = [pod("repo-server", labelled=False)]
    run = doctor()
    assert run.code == 1
    found = run.found("pods-not-labelled")
    assert found.status == "broken"
    assert found.fix == (
        "kubectl --namespace argocd patch deployment argocd-repo-server "
        """-p '{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}'"""
    )


def test_a_pod_older_than_the_annotation_asks_for_a_restart(world: World, doctor) -> None:
    world.pods = [pod("repo-server", started="2026-11-01T09:30:00Z", injected=False)]
    run = doctor()
    assert run.code == 1
    found = run.found("pods-before-annotation")
    assert found.status == "broken"
    assert found.fix == f"{RESTART}"


def test_a_pod_without_the_injected_variables_asks_for_a_restart(world: World, doctor) -> None:
    world.pods = [pod("repo-server", injected=False)]
    run = doctor()
    assert run.code == 1
    found = run.found("token-not-injected")
    assert found.status == "broken"
    assert found.fix == f"{RESTART}"


def test_a_pod_injected_with_an_old_identity_asks_for_a_restart(world: World, doctor) -> None:
    world.pods = [pod("repo-server", client_id=OLD_CLIENT_ID)]
    run = doctor()
    assert run.code == 1
    found = run.found("pod-wrong-client-id")
    assert found.status == "broken"
    assert found.fix == f"{RESTART}"


def test_no_running_pod_names_the_deployment_to_describe(world: World, doctor) -> None:
    world.pods = []
    run = doctor()
    assert run.code == 1
    found = run.found("pod-not-running")
    assert found.status == "broken"
    assert found.fix == "kubectl --namespace argocd describe deployment argocd-repo-server"


def test_a_missing_service_account_asks_for_pulumi_up(world: World, doctor) -> None:
    del world.service_accounts["argocd-repo-server"]
    run = doctor()
    assert run.code == 1
    found = run.found("service-account-missing")
    assert found.status == "broken"
    assert found.fix == "pulumi up -s dev"
    assert run.found("exchange-not-tried").status == "skipped"


def test_the_annotation_time_is_the_latest_managed_fields_entry_owning_it() -> None:
    account = service_account("argocd-repo-server", annotated_at="2026-11-02T08:00:00Z")
    account["metadata"]["managedFields"].insert(0, {
        "manager": "kubectl", "time": "2026-11-03T08:00:00Z", "fieldsV1": {"f:metadata": {"f:labels": {"f:team": {}}}},
    })
    assert annotation_time(account).isoformat() == "2026-11-02T08:00:00+00:00"  # type: ignore[union-attr]


def test_without_managed_fields_the_annotation_time_is_the_creation_time() -> None:
    account = service_account("argocd-repo-server")
    account["metadata"]["managedFields"] = []
    assert annotation_time(account).isoformat() == "2026-10-01T09:00:00+00:00"  # type: ignore[union-attr]
