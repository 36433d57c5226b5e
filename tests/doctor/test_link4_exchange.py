"""Link 4: the real exchange at the (fake) Entra token endpoint, and each refusal mapped to its cause."""

from __future__ import annotations

from tests.doctor.fakes import CLIENT_ID, World


def test_no_matching_federated_record_names_the_presented_issuer_and_subject(world: World, doctor) -> None:
    world.credentials[0]["subject"] = "system:serviceaccount:argocd:argocd-repo-server-old"
    run = doctor()
    assert run.code == 1
    found = run.found("exchange-refused-aadsts70021")
    assert found.status == "broken"
    assert found.fix == "the fix under link 2 above"
    assert run.found("devops-not-asked").status == "skipped"


def test_no_matching_record_while_links_1_and_2_hold_asks_for_pulumi_up(world: World, doctor) -> None:
    world.entra_error = "70021"  # e.g. a credential deleted and recreated by hand, still propagating
    run = doctor()
    assert run.found("exchange-refused-aadsts70021").status == "broken"


def test_an_unmapped_code_shows_entras_own_words(world: World, doctor) -> None:
    world.entra_error = "50058"
    run = doctor()
    assert run.code == 1
    found = run.found("exchange-refused-aadsts50058")
    assert found.status == "broken"
    assert found.fix == "see the AADSTS code at https://login.microsoftonline.com/error"


def test_an_unknown_client_id_means_a_deleted_identity_or_stale_outputs(world: World, doctor) -> None:
    world.outputs["identityClientId"] = "77777777-7777-7777-7777-777777777777"
    run = doctor()
    assert run.code == 1
    found = run.found("exchange-refused-aadsts700016")
    assert found.status == "broken"
    assert found.fix == "pulumi refresh -s dev && pulumi up -s dev"


def test_an_assertion_outside_its_time_range_points_at_the_clock(world: World, doctor) -> None:
    world.entra_error = "700024"
    run = doctor()
    assert run.code == 1
    found = run.found("exchange-refused-aadsts700024")
    assert found.status == "broken"
    assert found.fix == "sync this machine's clock (e.g. timedatectl set-ntp true) and run the doctor again"


def test_an_unknown_tenant_points_at_the_tenant_output(world: World, doctor) -> None:
    world.outputs["tenantId"] = "88888888-8888-8888-8888-888888888888"
    run = doctor()
    assert run.code == 1
    found = run.found("exchange-refused-aadsts90002")
    assert found.status == "broken"
    assert found.fix == "az account show --query tenantId; then pulumi refresh -s dev"


def test_without_permission_to_create_tokens_the_exchange_is_not_checked(world: World, doctor) -> None:
    world.may_create_tokens = False
    run = doctor()
    assert run.code == 2
    found = run.found("exchange-not-requested")
    assert found.status == "unknown"
    assert found.fix == "kubectl auth can-i create serviceaccounts/token --namespace argocd must say yes (docs/doctor.md, Permissions)"


def test_the_exchange_uses_the_identity_client_id_and_the_azure_devops_scope(world: World, doctor) -> None:
    run = doctor()
    assert run.code == 0
    assert world.issued_service_account_tokens, "the doctor asked the API server for a token"
    assert [(request["client_id"], request["scope"], request["grant_type"]) for request in world.token_requests] == [
        (CLIENT_ID, "499b84ac-1321-427f-aa17-267ca6975798/.default", "client_credentials"),
    ]
    assert ("exchange-ok", "ok") in run.findings()
