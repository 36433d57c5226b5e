"""AzureDevOpsAccess on its own: built directly with the test's arguments, and its error hook called directly."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pulumi
import pulumi_random as random
import pytest

from components import devops_access
from components.devops_access import (
    ENTITLEMENT_GAVE_UP,
    ENTITLEMENT_RETRY_DELAYS,
    AzureDevOpsAccess,
    AzureDevOpsAccessArgs,
    entitlement_retry_delay,
    repository_permissions,
    retry_until_replicated,
)
from components.vocabulary import AccessModel
from harness import ENTITLEMENT, GIT_PERMISSIONS, GROUP, MEMBERSHIP
from tools.offline.engine import AzureMocks, ProgramRun, run_components

PRINCIPAL = "11111111-2222-3333-4444-555555555555"
# What the organisation holds: the lookup of each project's repositories answers with these.
EXISTING = {("platform", "manifests"), ("platform", "addons"), ("payments", "deploy")}
NOT_REPLICATED = "Adding service principal entitlement: (VS403283) Could not add user '0000' at this time."


def access(access_model: AccessModel, **extra: object) -> ProgramRun:
    args = AzureDevOpsAccessArgs(
        organization_url="https://dev.azure.com/fabrikam",
        principal_id=PRINCIPAL,
        access_model=access_model,
        repositories=[
            {"project": "platform", "name": "manifests", "push": True},
            {"project": "platform", "name": "addons"},
            {"project": "payments", "name": "deploy"},
        ],
        group_label="test",
    )
    args.update(extra)  # type: ignore[typeddict-item]

    def build() -> None:
        AzureDevOpsAccess("devops", args)

    return run_components(build, mocks=AzureMocks(repositories=EXISTING))


def hook_args(failed_operation: str, errors: list[str]) -> pulumi.ErrorHookArgs:
    return pulumi.ErrorHookArgs(urn="urn:x", id="", name="x", type="x", failed_operation=failed_operation, errors=errors)


def test_the_entitlement_admits_the_principal_with_basic_access() -> None:
    entitlement = access(AccessModel.REPOSITORIES).one(ENTITLEMENT)
    assert (entitlement.inputs["originId"], entitlement.inputs["origin"]) == (PRINCIPAL, "aad")
    assert entitlement.inputs["accountLicenseType"] == "express"


def test_the_repositories_model_grants_read_per_repository_through_one_group_per_project() -> None:
    run = access(AccessModel.REPOSITORIES)
    assert len(run.of_type(GROUP)) == 2 and run.of_type(MEMBERSHIP) == []
    grants = {g.name: g.inputs["permissions"] for g in run.of_type(GIT_PERMISSIONS)}
    assert grants == {
        "devops-platform/manifests-read": repository_permissions(push=True, create_branches=False),
        "devops-platform/addons-read": {"GenericRead": "Allow"},
        "devops-payments/deploy-read": {"GenericRead": "Allow"},
    }


def test_the_readers_model_joins_each_projects_readers_group_and_grants_nothing_else() -> None:
    run = access(AccessModel.READERS)
    assert {m.name for m in run.of_type(MEMBERSHIP)} == {"devops-platform-readers", "devops-payments-readers"}
    assert run.of_type(GIT_PERMISSIONS) == [] and run.of_type(GROUP) == []


def test_the_descriptor_is_released_only_once_every_grant_exists() -> None:
    def build() -> None:
        granted = AzureDevOpsAccess("devops", AzureDevOpsAccessArgs(
            organization_url="https://dev.azure.com/fabrikam", principal_id=PRINCIPAL,
            access_model=AccessModel.REPOSITORIES, repositories=[{"project": "platform", "name": "manifests"}],
            group_label="test",
        ))
        random.RandomString("reader", length=4, keepers={"descriptor": granted.descriptor})

    run = run_components(build, mocks=AzureMocks(repositories=EXISTING))
    reader = run.one("random:index/randomString:RandomString", "reader")
    entitlement = run.one(ENTITLEMENT)
    assert reader.inputs["keepers"]["descriptor"] == entitlement.outputs["descriptor"]
    assert all(run.depends_on(reader, grant) for grant in run.of_type(GIT_PERMISSIONS) + run.of_type(GROUP))


@pytest.mark.parametrize(("push", "create_branches", "expected"), [
    (False, True, {"GenericRead": "Allow"}),
    (True, False, {"GenericRead": "Allow", "GenericContribute": "Allow", "ManageNote": "Allow"}),
    (True, True, {"GenericRead": "Allow", "GenericContribute": "Allow", "ManageNote": "Allow", "CreateBranch": "Allow"}),
])
def test_push_permissions_only_for_targets(push: bool, create_branches: bool, expected: dict[str, str]) -> None:
    assert repository_permissions(push=push, create_branches=create_branches) == expected


def test_vs403283_on_create_is_retried_with_growing_waits_for_about_ten_minutes() -> None:
    delays = []
    errors = [NOT_REPLICATED]
    while (delay := entitlement_retry_delay("create", errors)) is not None:
        delays.append(delay)
        errors = [NOT_REPLICATED, *errors]
    assert delays == sorted(delays) and delays[0] <= 15
    assert 540 <= sum(delays) <= 660


@pytest.mark.parametrize(("operation", "error"), [
    ("create", "VS403289: the user does not have permission"),
    ("create", "401 Unauthorized"),
    ("update", NOT_REPLICATED),
    ("delete", NOT_REPLICATED),
])
def test_any_other_failure_is_not_retried(operation: str, error: str) -> None:
    assert entitlement_retry_delay(operation, [error]) is None


def run_hook(hook: Coroutine[Any, Any, bool]) -> bool:
    """Await the hook on a loop of its own. Not asyncio.run: that leaves the thread with no current event loop, and
    later tests that set Pulumi's mocks on this thread would find none."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(hook)
    finally:
        loop.close()


def test_the_hook_sleeps_then_asks_the_engine_to_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(devops_access.asyncio, "sleep", fake_sleep)
    assert run_hook(retry_until_replicated(hook_args("create", [NOT_REPLICATED]))) is True
    assert slept == [ENTITLEMENT_RETRY_DELAYS[0]]


def test_the_hook_gives_up_with_what_to_check(monkeypatch: pytest.MonkeyPatch) -> None:
    logged: list[str] = []
    monkeypatch.setattr(devops_access.pulumi.log, "error", lambda message, *args, **kwargs: logged.append(message))
    many = [NOT_REPLICATED] * (len(ENTITLEMENT_RETRY_DELAYS) + 1)
    assert run_hook(retry_until_replicated(hook_args("create", many))) is False
    assert logged == [ENTITLEMENT_GAVE_UP]
    assert "connected to the Entra tenant" in ENTITLEMENT_GAVE_UP
