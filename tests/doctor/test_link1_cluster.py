"""Link 1: the cluster's OIDC issuer and workload identity, and the issuer the credentials trust."""

from __future__ import annotations

from tests.doctor.fakes import ISSUER, World

AKS_UPDATE = "az aks update --resource-group argocd-wi-dev-rg --name argocd-wi-dev-aks"


def test_oidc_issuer_off_names_the_az_aks_update_flag(world: World, doctor) -> None:
    world.aks["oidcIssuerProfile"] = {"enabled": False}
    run = doctor()
    assert run.code == 1
    found = run.found("oidc-issuer-off")
    assert found.status == "broken"
    assert found.fix == f"{AKS_UPDATE} --enable-oidc-issuer"


def test_workload_identity_off_names_the_az_aks_update_flag(world: World, doctor) -> None:
    world.aks["securityProfile"] = {"workloadIdentity": {"enabled": False}}
    run = doctor()
    assert run.code == 1
    found = run.found("workload-identity-off")
    assert found.status == "broken"
    assert found.fix == f"{AKS_UPDATE} --enable-workload-identity"


def test_a_recreated_cluster_with_a_new_issuer_asks_for_pulumi_up(world: World, doctor) -> None:
    new_issuer = ISSUER.replace("55555555", "66666666")
    world.aks["oidcIssuerProfile"]["issuerUrl"] = new_issuer
    world.token_issuer = new_issuer
    run = doctor()
    assert run.code == 1
    found = run.found("issuer-output-stale")
    assert found.status == "broken"
    assert found.fix == "pulumi up -s dev"
    assert run.found("issuer-not-trusted").status == "broken"


def test_an_issuer_without_its_trailing_slash_is_named_as_the_difference(world: World, doctor) -> None:
    world.credentials[0]["issuer"] = ISSUER.rstrip("/")
    run = doctor()
    assert run.code == 1
    found = run.found("issuer-not-trusted")
    assert found.status == "broken"
    assert found.fix == "pulumi up -s dev"
    # Entra agrees: the exchange fails with the code the doctor explains.
    assert ("exchange-refused-aadsts70021", "broken") in run.findings()


def test_unreadable_credentials_are_a_question_mark_not_a_verdict(world: World, doctor) -> None:
    world.credentials_readable = False
    run = doctor()
    assert run.code == 2
    found = run.found("credentials-unreadable")
    assert found.status == "unknown"
    assert found.fix == "you need Reader on the identity argocd-wi-dev-rg/argocd-wi-identity"
