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
    assert run.finding("service account argocd/argocd-repo-server does not carry the identity's client ID") == [
        "✗ service account argocd/argocd-repo-server does not carry the identity's client ID",
        "cause: the annotation is missing, so the webhook does not know which identity to inject",
        f"fix:   kubectl --namespace argocd annotate serviceaccount argocd-repo-server "
        f"azure.workload.identity/client-id={CLIENT_ID} --overwrite && {RESTART}",
    ]


def test_an_annotation_naming_another_identity_names_both_client_ids(world: World, doctor) -> None:
    world.service_accounts["argocd-repo-server"] = service_account("argocd-repo-server", client_id=OLD_CLIENT_ID)
    run = doctor()
    assert run.finding("service account argocd/argocd-repo-server does not carry the identity's client ID")[1] == (
        f"cause: it names client ID {OLD_CLIENT_ID}, the stack's identity is {CLIENT_ID}"
    )


def test_an_unlabelled_pod_names_the_patch_that_labels_the_template(world: World, doctor) -> None:
    world.pods = [pod("repo-server", labelled=False)]
    run = doctor()
    assert run.code == 1
    assert run.finding("repo-server: pod(s) argocd-repo-server-7d9f-abcde lack the label azure.workload.identity/use=true") == [
        "✗ repo-server: pod(s) argocd-repo-server-7d9f-abcde lack the label azure.workload.identity/use=true",
        "cause: the webhook injects the identity only into pods with that label",
        "fix:   kubectl --namespace argocd patch deployment argocd-repo-server "
        """-p '{"spec":{"template":{"metadata":{"labels":{"azure.workload.identity/use":"true"}}}}}'""",
    ]


def test_a_pod_older_than_the_annotation_asks_for_a_restart(world: World, doctor) -> None:
    world.pods = [pod("repo-server", started="2026-11-01T09:30:00Z", injected=False)]
    run = doctor()
    assert run.code == 1
    assert run.finding("repo-server: pod(s) argocd-repo-server-7d9f-abcde started before the annotation") == [
        "✗ repo-server: pod(s) argocd-repo-server-7d9f-abcde started before the annotation",
        "cause: started 2026-11-01T09:30:00Z, the client ID was written about 2026-11-01T10:00:00+00:00; "
        "the webhook acts only at pod creation",
        f"fix:   {RESTART}",
    ]


def test_a_pod_without_the_injected_variables_asks_for_a_restart(world: World, doctor) -> None:
    world.pods = [pod("repo-server", injected=False)]
    run = doctor()
    assert run.code == 1
    summary = (
        "repo-server: container repo-server of pod argocd-repo-server-7d9f-abcde lacks AZURE_CLIENT_ID, AZURE_TENANT_ID, "
        "AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST"
    )
    assert run.finding(summary) == [
        f"✗ {summary}",
        "cause: the webhook did not inject the identity: the pod predates the label or annotation, or the webhook is "
        "not running (workload identity off, link 1)",
        f"fix:   {RESTART}",
    ]


def test_a_pod_injected_with_an_old_identity_asks_for_a_restart(world: World, doctor) -> None:
    world.pods = [pod("repo-server", client_id=OLD_CLIENT_ID)]
    run = doctor()
    assert run.code == 1
    assert run.finding(f"repo-server: pod argocd-repo-server-7d9f-abcde runs as client ID {OLD_CLIENT_ID}") == [
        f"✗ repo-server: pod argocd-repo-server-7d9f-abcde runs as client ID {OLD_CLIENT_ID}",
        f"cause: it was injected with another identity than the stack's identity {CLIENT_ID} (created before a change)",
        f"fix:   {RESTART}",
    ]


def test_no_running_pod_names_the_deployment_to_describe(world: World, doctor) -> None:
    world.pods = []
    run = doctor()
    assert run.code == 1
    assert run.finding("repo-server: no running pod") == [
        "✗ repo-server: no running pod",
        "cause: Deployment argocd-repo-server has no pod that is not terminating",
        "fix:   kubectl --namespace argocd describe deployment argocd-repo-server",
    ]


def test_a_missing_service_account_asks_for_pulumi_up(world: World, doctor) -> None:
    del world.service_accounts["argocd-repo-server"]
    run = doctor()
    assert run.code == 1
    assert run.finding("service account argocd/argocd-repo-server does not exist") == [
        "✗ service account argocd/argocd-repo-server does not exist",
        "cause: Deployment argocd-repo-server runs as it, so its pods cannot be created",
        "fix:   pulumi up -s dev",
    ]
    assert run.finding("token exchange not tried")[1] == (
        "cause: service account system:serviceaccount:argocd:argocd-repo-server does not exist (link 3)"
    )


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
