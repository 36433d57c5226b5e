"""WorkloadIdentity on its own: built directly with the test's arguments."""

from __future__ import annotations

import itertools

import pulumi_random as random

from components.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from harness import CREDENTIAL, IDENTITY
from tools.offline.engine import ProgramRun, run_components

ISSUERS = {
    "cluster": "https://swedencentral.oic.prod-aks.azure.com/tenant/one/",
    "issuer-extra": "https://westeurope.oic.prod-aks.azure.com/tenant/two/",
}
SUBJECTS = {
    "repo-server": "system:serviceaccount:gitops:reader",
    "commit-server": "system:serviceaccount:gitops:writer",
}


def identity(issuers: dict[str, str] = ISSUERS, subjects: dict[str, str] = SUBJECTS) -> ProgramRun:
    def build() -> None:
        trusted = WorkloadIdentity("wi", WorkloadIdentityArgs(
            resource_group_name="rg-test", location="swedencentral", issuer_urls=dict(issuers), subjects=subjects,
            protect=True,
        ))
        random.RandomString("configured-with-client-id", length=4, keepers={"clientId": trusted.client_id})

    return run_components(build)


def test_one_credential_per_issuer_and_subject_with_the_exchange_audience() -> None:
    credentials = identity().of_type(CREDENTIAL)
    found = {(c.inputs["issuer"], c.inputs["subject"]) for c in credentials}
    assert found == {(issuer, subject) for issuer in ISSUERS.values() for subject in SUBJECTS.values()}
    assert all(c.inputs["audiences"] == ["api://AzureADTokenExchange"] for c in credentials)


def test_credentials_are_named_by_keys_not_by_the_subject_text() -> None:
    names = {c.inputs["federatedIdentityCredentialResourceName"] for c in identity().of_type(CREDENTIAL)}
    assert names == {f"{issuer}-{subject}" for issuer in ISSUERS for subject in SUBJECTS}


def test_credentials_are_written_one_after_another_and_freed_before_replacement() -> None:
    run = identity()
    credentials = run.of_type(CREDENTIAL)
    for one, other in itertools.combinations(credentials, 2):
        assert run.depends_on(one, other) != run.depends_on(other, one), "two credentials could be written at once"
    assert all(c.options["delete_before_replace"] for c in credentials)


def test_the_identity_is_protected_when_asked() -> None:
    assert identity().one(IDENTITY).options["protect"] is True


def test_the_client_id_is_handed_out_only_once_every_credential_exists() -> None:
    run = identity()
    consumer = run.one("random:index/randomString:RandomString")
    assert consumer.inputs["keepers"]["clientId"] == run.one(IDENTITY).outputs["clientId"]
    assert all(run.depends_on(consumer, credential) for credential in run.of_type(CREDENTIAL))
