"""Entra SSO with workload identity: argocd-server's account, trusted by the SSO app registration, is checked too."""

from __future__ import annotations

from tests.doctor.fakes import CLIENT_ID, ISSUER, SSO_APP_ID, World, service_account

SUBJECT = "system:serviceaccount:argocd:argocd-server"


def test_argocd_server_is_checked_against_the_sso_app_registration(world: World, doctor) -> None:
    world.with_sso()
    run = doctor()
    assert run.code == 0, run.out
    findings = run.findings()
    assert findings.count(("subject-trusted", "ok")) == 2 and findings.count(("token-injected", "ok")) == 2
    assert any(SSO_APP_ID in line and "argocd/argocd-server" in line for line in run.lines()), "annotated with the app's ID"


def test_an_sso_app_without_a_credential_for_argocd_server_names_the_az_ad_command(world: World, doctor) -> None:
    world.with_sso()
    world.sso_credentials.clear()
    run = doctor()
    assert run.code == 1
    found = run.found("subject-not-trusted")
    assert found.status == "broken"
    assert found.fix == (
        f"az ad app federated-credential create --id {SSO_APP_ID} --parameters "
        f"""'{{"name":"argocd-server","issuer":"{ISSUER}","subject":"{SUBJECT}","audiences":["api://AzureADTokenExchange"]}}'"""
    )


def test_argocd_server_annotated_with_the_repository_identity_is_named(world: World, doctor) -> None:
    world.with_sso()
    world.service_accounts["argocd-server"] = service_account("argocd-server", client_id=CLIENT_ID)
    run = doctor()
    assert run.code == 1
    assert run.found("client-id-not-annotated").status == "broken"
