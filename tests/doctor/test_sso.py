"""Entra SSO with workload identity: argocd-server's account, trusted by the SSO app registration, is checked too."""

from __future__ import annotations

from tests.doctor.fakes import CLIENT_ID, ISSUER, SSO_APP_ID, World, service_account

SUBJECT = "system:serviceaccount:argocd:argocd-server"


def test_argocd_server_is_checked_against_the_sso_app_registration(world: World, doctor) -> None:
    world.with_sso()
    run = doctor()
    assert run.code == 0, run.out
    assert "✓ server runs as argocd/argocd-server; credential argocd-server trusts it" in run.lines()
    assert f"✓ service account argocd/argocd-server carries azure.workload.identity/client-id={SSO_APP_ID}" in run.lines()
    assert ("✓ server: the webhook injected AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, "
            "AZURE_AUTHORITY_HOST") in run.lines()


def test_an_sso_app_without_a_credential_for_argocd_server_names_the_az_ad_command(world: World, doctor) -> None:
    world.with_sso()
    world.sso_credentials.clear()
    run = doctor()
    assert run.code == 1
    summary = f"server runs as argocd/argocd-server, but no federated credential trusts {SUBJECT}"
    assert run.finding(summary) == [
        f"✗ {summary}",
        "cause: Entra would answer AADSTS70021; the app registration's credentials trust none",
        f"fix:   az ad app federated-credential create --id {SSO_APP_ID} --parameters "
        f"""'{{"name":"argocd-server","issuer":"{ISSUER}","subject":"{SUBJECT}","audiences":["api://AzureADTokenExchange"]}}'""",
    ]


def test_argocd_server_annotated_with_the_repository_identity_is_named(world: World, doctor) -> None:
    world.with_sso()
    world.service_accounts["argocd-server"] = service_account("argocd-server", client_id=CLIENT_ID)
    run = doctor()
    assert run.code == 1
    assert run.finding("service account argocd/argocd-server does not carry the identity's client ID")[1] == (
        f"cause: it names client ID {CLIENT_ID}, the SSO app registration is {SSO_APP_ID}"
    )
