"""Link 1: the cluster's OIDC issuer and workload identity, and the issuer the credentials trust."""

from __future__ import annotations

from tests.doctor.fakes import ISSUER, World

AKS_UPDATE = "az aks update --resource-group argocd-wi-dev-rg --name argocd-wi-dev-aks"


def test_oidc_issuer_off_names_the_az_aks_update_flag(world: World, doctor) -> None:
    world.aks["oidcIssuerProfile"] = {"enabled": False}
    run = doctor()
    assert run.code == 1
    assert run.finding("OIDC issuer off") == [
        "✗ OIDC issuer off",
        "cause: the cluster publishes no OIDC issuer, so Entra cannot verify its service-account tokens",
        f"fix:   {AKS_UPDATE} --enable-oidc-issuer",
    ]


def test_workload_identity_off_names_the_az_aks_update_flag(world: World, doctor) -> None:
    world.aks["securityProfile"] = {"workloadIdentity": {"enabled": False}}
    run = doctor()
    assert run.code == 1
    assert run.finding("workload identity off") == [
        "✗ workload identity off",
        "cause: without it no webhook injects the token file and client ID into Argo CD's pods",
        f"fix:   {AKS_UPDATE} --enable-workload-identity",
    ]


def test_a_recreated_cluster_with_a_new_issuer_asks_for_pulumi_up(world: World, doctor) -> None:
    new_issuer = ISSUER.replace("55555555", "66666666")
    world.aks["oidcIssuerProfile"]["issuerUrl"] = new_issuer
    world.token_issuer = new_issuer
    run = doctor()
    assert run.code == 1
    assert run.finding(f"the stack's oidcIssuerUrl differs from the cluster's issuer {new_issuer}") == [
        f"✗ the stack's oidcIssuerUrl differs from the cluster's issuer {new_issuer}",
        f"cause: the stack last saw {ISSUER}: the cluster was recreated or changed since the last pulumi up, "
        "so the federated credentials trust an issuer that no longer signs tokens",
        "fix:   pulumi up -s dev",
    ]
    assert run.finding(f"no federated credential trusts the issuer {new_issuer}")[1] == f"cause: the credentials trust {ISSUER}"


def test_an_issuer_without_its_trailing_slash_is_named_as_the_difference(world: World, doctor) -> None:
    world.credentials[0]["issuer"] = ISSUER.rstrip("/")
    run = doctor()
    assert run.code == 1
    assert run.finding(f"no federated credential trusts the issuer {ISSUER}") == [
        f"✗ no federated credential trusts the issuer {ISSUER}",
        f"cause: a credential trusts {ISSUER.rstrip('/')}, which differs only in the trailing slash: Entra compares issuers exactly",
        "fix:   pulumi up -s dev",
    ]
    # Entra agrees: the exchange fails with the code the doctor explains.
    assert "✗ Entra refused the exchange: AADSTS70021" in run.lines()


def test_unreadable_credentials_are_a_question_mark_not_a_verdict(world: World, doctor) -> None:
    world.credentials_readable = False
    run = doctor()
    assert run.code == 2
    assert run.finding("cannot list the identity's federated credentials") == [
        "? cannot list the identity's federated credentials",
        "cause: az identity federated-credential list failed: ERROR: (AuthorizationFailed) The client does not have "
        "authorization to perform action",
        "fix:   you need Reader on the identity argocd-wi-dev-rg/argocd-wi-identity",
    ]
