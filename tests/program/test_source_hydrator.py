"""The Source Hydrator pushes to exactly its targets, through credential-free write Secrets."""

from __future__ import annotations

from typing import Any

import pytest

from harness import (
    GIT_PERMISSIONS,
    ORG,
    RELEASE,
    SECRET,
    SECRET_TYPE,
    refusal,
    run_program,
)
from tools.offline.engine import ProgramRun, Resource

TARGET = f"{ORG}/gitops/_git/cluster-config"
READ_ONLY = f"{ORG}/gitops/_git/team-apps"


@pytest.fixture(scope="module")
def hydrating() -> ProgramRun:
    return run_program("dev", overrides={
        "repositories": [TARGET, READ_ONLY],
        "sourceHydrator": True,
        "hydrationRepositories": [TARGET],
        "argocdReleaseName": "gitops",
    })


def secrets_of_type(run: ProgramRun, secret_type: str) -> list[Resource]:
    return [s for s in run.of_type(SECRET) if s.input("metadata.labels")[SECRET_TYPE] == secret_type]


def test_each_hydration_target_gets_one_credential_free_write_secret(hydrating: ProgramRun) -> None:
    (write,) = secrets_of_type(hydrating, "repository-write")
    assert write.inputs["stringData"] == {"type": "git", "url": TARGET, "useAzureWorkloadIdentity": "true"}


def test_read_secrets_are_unchanged_by_the_hydrator(hydrating: ProgramRun) -> None:
    assert sorted(s.input("stringData.url") for s in secrets_of_type(hydrating, "repository")) == sorted([TARGET, READ_ONLY])


def grant_on(run: ProgramRun, repository: str) -> dict[str, str]:
    (grant,) = [g for g in run.of_type(GIT_PERMISSIONS) if g.name.endswith(f"/{repository}-read")]
    return grant.inputs["permissions"]


def test_push_is_granted_on_the_target_and_nowhere_else(hydrating: ProgramRun) -> None:
    assert grant_on(hydrating, "cluster-config") == {"GenericRead": "Allow", "GenericContribute": "Allow", "ManageNote": "Allow"}
    assert grant_on(hydrating, "team-apps") == {"GenericRead": "Allow"}


def test_create_branch_is_granted_only_when_the_hydrator_creates_branches(hydrating: ProgramRun) -> None:
    assert "CreateBranch" not in grant_on(hydrating, "cluster-config")
    creating = run_program("dev", overrides={
        "repositories": [TARGET, READ_ONLY], "sourceHydrator": True, "hydrationRepositories": [TARGET],
        "hydratorCreatesBranches": True,
    })
    assert grant_on(creating, "cluster-config")["CreateBranch"] == "Allow"
    assert grant_on(creating, "team-apps") == {"GenericRead": "Allow"}


def test_the_controller_dials_the_commit_server_the_release_really_has(hydrating: ProgramRun) -> None:
    params = hydrating.one(RELEASE).inputs["values"]["configs"]["params"]
    assert params["commit.server"] == "gitops-argocd-commit-server:8086"


@pytest.mark.parametrize(("overrides", "key", "reason"), [
    ({"sourceHydrator": True}, "hydrationRepositories", "is required with sourceHydrator true"),
    ({"hydrationRepositories": [TARGET]}, "hydrationRepositories", "empty unless sourceHydrator is true"),
    ({"sourceHydrator": True, "hydrationRepositories": [f"{ORG}/gitops/_git/elsewhere"]},
     "hydrationRepositories", "one of the configured repositories"),
    ({"sourceHydrator": True, "hydrationRepositories": [TARGET], "accessModel": "readers"},
     "accessModel", "never to the project's Readers group"),
    ({"sourceHydrator": True, "hydrationRepositories": [TARGET], "argocdInstallMethod": "extension"},
     "sourceHydrator", "Azure/AKS#5850"),
], ids=["no-targets", "targets-without-hydrator", "unknown-target", "readers-model", "extension"])
def test_bad_hydrator_configuration_is_refused_by_key(overrides: dict[str, Any], key: str, reason: str) -> None:
    message = refusal({"repositories": [TARGET, READ_ONLY], **overrides})
    assert f"argocd-aks-wi:{key}" in message and reason in message
