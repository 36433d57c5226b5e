"""Link 4: the real exchange at the (fake) Entra token endpoint, and each refusal mapped to its cause."""

from __future__ import annotations

from tests.doctor.fakes import CLIENT_ID, ISSUER, TENANT, World


def test_no_matching_federated_record_names_the_presented_issuer_and_subject(world: World, doctor) -> None:
    world.credentials[0]["subject"] = "system:serviceaccount:argocd:argocd-repo-server-old"
    run = doctor()
    assert run.code == 1
    assert run.finding("Entra refused the exchange: AADSTS70021") == [
        "✗ Entra refused the exchange: AADSTS70021",
        f"cause: no federated credential matches: the token names issuer {ISSUER} and subject "
        "system:serviceaccount:argocd:argocd-repo-server; compare them with links 1 and 2",
        "fix:   the fix under link 2 above",
    ]
    assert run.finding("Azure DevOps not asked")[1] == "cause: no Azure DevOps token: the exchange (link 4) failed"


def test_no_matching_record_while_links_1_and_2_hold_asks_for_pulumi_up(world: World, doctor) -> None:
    world.entra_error = "70021"  # e.g. a credential deleted and recreated by hand, still propagating
    run = doctor()
    assert run.finding("Entra refused the exchange: AADSTS70021")[2] == "fix:   pulumi up -s dev"


def test_an_unmapped_code_shows_entras_own_words(world: World, doctor) -> None:
    world.entra_error = "50058"
    run = doctor()
    assert run.code == 1
    assert run.finding("Entra refused the exchange: AADSTS50058")[1:] == [
        "cause: AADSTS50058: A silent sign-in request was sent but no user is signed in.",
        "fix:   see the AADSTS code at https://login.microsoftonline.com/error",
    ]


def test_an_unknown_client_id_means_a_deleted_identity_or_stale_outputs(world: World, doctor) -> None:
    world.outputs["identityClientId"] = "77777777-7777-7777-7777-777777777777"
    run = doctor()
    assert run.code == 1
    assert run.finding("Entra refused the exchange: AADSTS700016") == [
        "✗ Entra refused the exchange: AADSTS700016",
        f"cause: no application with client ID 77777777-7777-7777-7777-777777777777 in tenant {TENANT}: "
        "the identity was deleted or the stack's outputs are stale",
        "fix:   pulumi refresh -s dev && pulumi up -s dev",
    ]


def test_an_assertion_outside_its_time_range_points_at_the_clock(world: World, doctor) -> None:
    world.entra_error = "700024"
    run = doctor()
    assert run.code == 1
    assert run.finding("Entra refused the exchange: AADSTS700024")[1:] == [
        "cause: the presented token is outside its valid time range: this machine's clock is off, or the token expired",
        "fix:   sync this machine's clock (e.g. timedatectl set-ntp true) and run the doctor again",
    ]


def test_an_unknown_tenant_points_at_the_tenant_output(world: World, doctor) -> None:
    world.outputs["tenantId"] = "88888888-8888-8888-8888-888888888888"
    run = doctor()
    assert run.code == 1
    assert run.finding("Entra refused the exchange: AADSTS90002")[1:] == [
        "cause: tenant 88888888-8888-8888-8888-888888888888 does not exist: the stack's tenantId output is wrong",
        "fix:   az account show --query tenantId; then pulumi refresh -s dev",
    ]


def test_without_permission_to_create_tokens_the_exchange_is_not_checked(world: World, doctor) -> None:
    world.may_create_tokens = False
    run = doctor()
    assert run.code == 2
    finding = run.finding("cannot request a token for system:serviceaccount:argocd:argocd-repo-server")
    assert finding[0] == "? cannot request a token for system:serviceaccount:argocd:argocd-repo-server"
    assert finding[1].startswith("cause: your account may not create service-account tokens in argocd: ")
    assert finding[2] == (
        "fix:   kubectl auth can-i create serviceaccounts/token --namespace argocd must say yes (docs/doctor.md, Permissions)"
    )


def test_the_exchange_uses_the_identity_client_id_and_the_azure_devops_scope(world: World, doctor) -> None:
    run = doctor()
    assert run.code == 0
    assert world.issued_service_account_tokens, "the doctor asked the API server for a token"
    assert [(request["client_id"], request["scope"], request["grant_type"]) for request in world.token_requests] == [
        (CLIENT_ID, "499b84ac-1321-427f-aa17-267ca6975798/.default", "client_credentials"),
    ]
    assert ("✓ Entra exchanged the token of system:serviceaccount:argocd:argocd-repo-server for an Azure DevOps token "
            f"(client ID {CLIENT_ID})") in run.lines()
