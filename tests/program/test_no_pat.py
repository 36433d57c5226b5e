"""No PAT or client secret reaches the Azure DevOps provider, and the deployer is a user or a service principal."""

from __future__ import annotations

import pytest

from harness import (
    refusal,
    run_program,
)


# The secret-bearing variables the azuredevops provider reads (docs/facts.md#azuredevops-provider).
@pytest.mark.parametrize("variable", [
    "AZDO_PERSONAL_ACCESS_TOKEN", "ARM_CLIENT_SECRET", "AZURE_CLIENT_SECRET", "ARM_CLIENT_SECRET_PATH",
    "ARM_CLIENT_SECRET_FILE_PATH", "ARM_CLIENT_CERTIFICATE", "ARM_CLIENT_CERTIFICATE_PATH", "ARM_CLIENT_CERTIFICATE_PASSWORD",
])
def test_a_secret_the_azure_devops_provider_would_read_is_refused(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    monkeypatch.setenv(variable, "not-a-real-secret")
    message = refusal({})
    assert f"environment variable {variable} is set" in message and "ARM_USE_OIDC" in message
    assert "not-a-real-secret" not in message


def test_variables_the_provider_does_not_read_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZDO_CLIENT_SECRET", "unused-by-any-provider")
    run_program("dev")


def test_a_group_can_never_be_the_deployer() -> None:
    message = refusal({"deployerPrincipalType": "Group"})
    assert "argocd-aks-wi:deployerPrincipalType = 'Group'" in message and "never as a group" in message
