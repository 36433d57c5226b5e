"""What both Argo CD components register, tested directly: repository Secrets, the bootstrap Application's wait
conditions, and its error hook, called with `pulumi.ErrorHookArgs`."""

from __future__ import annotations

import pulumi
import pytest

from components.argocd_registration import (
    BOOTSTRAP_TIMEOUT_CAUSES,
    BootstrapArgs,
    bootstrap_failure_explanation,
    bootstrap_wait_conditions,
    explain_bootstrap_failure,
    read_urls,
    repository_secret_data,
)
from components.vocabulary import SecretType

REPOSITORY = "https://dev.azure.com/fabrikam/platform/_git/manifests"
CREDENTIAL_FIELDS = {"username", "password", "bearerToken", "sshPrivateKey", "tlsClientCertKey", "githubAppPrivateKey"}


def hook_args(failed_operation: str, errors: list[str]) -> pulumi.ErrorHookArgs:
    return pulumi.ErrorHookArgs(urn="urn:x", id="", name="x", type="x", failed_operation=failed_operation, errors=errors)


@pytest.mark.parametrize("secret_type", list(SecretType))
def test_every_git_secret_names_only_where_and_how_never_a_credential(secret_type: SecretType) -> None:
    data = repository_secret_data({"key": "k", "url": REPOSITORY, "secret_type": secret_type})
    assert data == {"type": "git", "url": REPOSITORY, "useAzureWorkloadIdentity": "true"}
    assert not CREDENTIAL_FIELDS & set(data)


def test_argo_cd_reads_every_registration_but_the_write_secrets() -> None:
    registrations = [
        {"key": "a", "url": REPOSITORY, "secret_type": SecretType.REPOSITORY},
        {"key": "b", "url": REPOSITORY, "secret_type": SecretType.REPOSITORY_WRITE},
        {"key": "c", "url": "https://dev.azure.com/fabrikam/platform/_git/", "secret_type": SecretType.CREDENTIAL_TEMPLATE},
    ]
    assert read_urls(registrations) == [REPOSITORY, "https://dev.azure.com/fabrikam/platform/_git/"]  # type: ignore[arg-type]


def test_the_wait_names_the_source_so_an_old_synced_status_cannot_pass() -> None:
    bootstrap = BootstrapArgs(repository_url=REPOSITORY, path="clusters/next", target_revision="release-2", timeout_seconds=600)
    assert bootstrap_wait_conditions(bootstrap) == [
        "jsonpath={.status.sync.status}=Synced",
        "jsonpath={.status.health.status}=Healthy",
        "jsonpath={.status.sync.comparedTo.source.path}=clusters/next",
        "jsonpath={.status.sync.comparedTo.source.targetRevision}=release-2",
    ]


def test_a_sync_timeout_on_create_gets_the_likely_causes() -> None:
    explanation = bootstrap_failure_explanation("create", ["'bootstrap' timed out waiting to be Ready"])
    assert explanation is not None and explanation.startswith(BOOTSTRAP_TIMEOUT_CAUSES)


@pytest.mark.parametrize(("operation", "error"), [
    ("create", 'applications.argoproj.io "bootstrap" is forbidden: User cannot create resource (403)'),
    ("create", 'no matches for kind "Application" in version "argoproj.io/v1alpha1"'),
    ("delete", "'bootstrap' timed out waiting to be deleted"),
])
def test_other_failures_do_not_get_the_sync_timeout_explanation(operation: str, error: str) -> None:
    assert bootstrap_failure_explanation(operation, [error]) is None


def test_the_explaining_hook_logs_only_what_it_explains_and_never_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "error", lambda message, *args, **kwargs: logged.append(message))
    assert explain_bootstrap_failure(hook_args("create", ["403 forbidden"])) is False
    assert logged == []
    assert explain_bootstrap_failure(hook_args("create", ["'bootstrap' timed out waiting to be Ready"])) is False
    assert len(logged) == 1 and BOOTSTRAP_TIMEOUT_CAUSES in logged[0]
