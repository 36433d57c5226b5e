"""Changes to a running stack: each test runs the program twice and compares what the engine would diff.

A resource keeps its identity when its URN is unchanged; the engine then updates it in place when its inputs
differ, or replaces it when a changed input forces that. These tests pin which resources a routine change
touches, so that a rename, a chart bump or a new repository never reaches further than it must.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import CREDENTIAL, GIT_PERMISSIONS, GROUP, IDENTITY, ORG, PROJECT, RELEASE, ROOT, SECRET, run_program
from tools.offline.engine import AzureMocks, ProgramRun, Resource

DEV_REPOSITORIES = [f"{ORG}/gitops/_git/cluster-config", f"{ORG}/gitops/_git/team-apps"]
NEW_REPOSITORY = f"{ORG}/gitops/_git/payments"


@dataclass
class Diff:
    """What `pulumi up` would do going from one run to the other, by URN."""

    added: set[str]
    removed: set[str]
    changed: dict[str, set[str]]
    """URN -> the top-level inputs whose value differs."""


def diff(before: ProgramRun, after: ProgramRun) -> Diff:
    old = {r.urn: r for r in before.resources}
    new = {r.urn: r for r in after.resources}
    changed = {}
    for urn in old.keys() & new.keys():
        keys = old[urn].inputs.keys() | new[urn].inputs.keys()
        differing = {key for key in keys if _canonical(old[urn].inputs.get(key)) != _canonical(new[urn].inputs.get(key))}
        if differing:
            changed[urn] = differing
    return Diff(added=new.keys() - old.keys(), removed=old.keys() - new.keys(), changed=changed)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def repo_server_values(run: ProgramRun) -> dict[str, Any]:
    return run.one(RELEASE).inputs["values"]["repoServer"]


@pytest.fixture(scope="module")
def before() -> ProgramRun:
    return run_program("dev")


@pytest.mark.parametrize(
    ("overrides", "subject"),
    [
        ({"argocdNamespace": "gitops"}, "system:serviceaccount:gitops:argocd-repo-server"),
        ({"repoServerServiceAccount": "repo-server-wi"}, "system:serviceaccount:argocd:repo-server-wi"),
    ],
    ids=["namespace", "service-account"],
)
def test_renaming_namespace_or_service_account_updates_the_federated_credential_in_place(
    before: ProgramRun, overrides: dict[str, str], subject: str
) -> None:
    """Same URN and Azure name, new subject: an update, never a second credential beside the old one.

    Should the provider ever force a replacement, delete_before_replace frees the fixed Azure name first.
    """
    after = run_program("dev", overrides=overrides)
    old, new = before.one(CREDENTIAL), after.one(CREDENTIAL)
    assert new.urn == old.urn
    assert new.inputs["federatedIdentityCredentialResourceName"] == old.inputs["federatedIdentityCredentialResourceName"]
    assert new.inputs["subject"] == subject != old.inputs["subject"]
    assert diff(before, after).changed[new.urn] == {"subject"}
    assert new.options["delete_before_replace"]


def test_renaming_the_service_account_renames_it_in_the_chart_values(before: ProgramRun) -> None:
    after = run_program("dev", overrides={"repoServerServiceAccount": "repo-server-wi"})
    assert repo_server_values(before)["serviceAccount"]["name"] == "argocd-repo-server"
    assert repo_server_values(after)["serviceAccount"]["name"] == "repo-server-wi"
    changes = diff(before, after)
    assert not changes.added and not changes.removed
    assert {after.by_urn(urn).type for urn in changes.changed} == {CREDENTIAL, RELEASE}


def test_moving_argo_cd_to_another_namespace_uninstalls_the_old_release_first(before: ProgramRun) -> None:
    """The move replaces the release; old and new would share cluster-scoped names, so old goes first."""
    after = run_program("dev", overrides={"argocdNamespace": "gitops"})
    release = after.one(RELEASE)
    assert release.urn == before.one(RELEASE).urn
    assert release.inputs["namespace"] == "gitops"
    assert release.options["delete_before_replace"]


class _NewIdentityMocks(AzureMocks):
    """Azure answers as if the identity had been replaced and came back with another client ID."""

    NEW_CLIENT_ID = "11111111-2222-4333-8444-555555555555"

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        resource_id, state = super().new_resource(args)
        if args.typ == IDENTITY:
            state = {**state, "clientId": self.NEW_CLIENT_ID}
        return resource_id, state


def test_a_new_client_id_changes_the_repo_server_pod_template(before: ProgramRun) -> None:
    """The webhook injects the identity only at pod creation, so the pod template must change with it."""
    after = run_program("dev", mocks=_NewIdentityMocks())
    old, new = repo_server_values(before), repo_server_values(after)
    assert new["serviceAccount"]["annotations"]["azure.workload.identity/client-id"] == _NewIdentityMocks.NEW_CLIENT_ID
    assert new["podAnnotations"] != old["podAnnotations"]
    assert _NewIdentityMocks.NEW_CLIENT_ID in new["podAnnotations"].values()


def test_bumping_the_chart_changes_only_the_release_version(before: ProgramRun) -> None:
    after = run_program("dev", overrides={"argocdChartVersion": "10.4.0"})
    changes = diff(before, after)
    assert not changes.added and not changes.removed
    assert changes.changed == {after.one(RELEASE).urn: {"version"}}
    assert {s.urn: s.inputs for s in after.of_type(SECRET)} == {s.urn: s.inputs for s in before.of_type(SECRET)}


def _secret_and_grant_of(run: ProgramRun, repository_url: str) -> set[str]:
    name = repository_url.rsplit("/", 1)[-1]
    secrets = {s.urn for s in run.of_type(SECRET) if s.inputs["stringData"]["url"] == repository_url}
    grants = {g.urn for g in run.of_type(GIT_PERMISSIONS) if g.name.endswith(f"/{name}-read")}
    return secrets | grants


@pytest.mark.parametrize(
    ("access_model", "expected_types"),
    [("repositories", {SECRET, GIT_PERMISSIONS}), ("readers", {SECRET})],
)
def test_adding_a_repository_adds_only_its_own_resources(access_model: str, expected_types: set[str]) -> None:
    base = run_program("dev", overrides={"accessModel": access_model})
    after = run_program("dev", overrides={"accessModel": access_model, "repositories": [*DEV_REPOSITORIES, NEW_REPOSITORY]})
    changes = diff(base, after)
    assert changes.changed == {}, "adding a repository changed inputs of existing resources"
    assert not changes.removed
    assert {after.by_urn(urn).type for urn in changes.added} == expected_types
    assert changes.added == _secret_and_grant_of(after, NEW_REPOSITORY)


def test_removing_a_repository_removes_only_its_own_resources(before: ProgramRun) -> None:
    after = run_program("dev", overrides={"repositories": DEV_REPOSITORIES[:1]})
    changes = diff(before, after)
    assert changes.changed == {} and not changes.added
    assert changes.removed == _secret_and_grant_of(before, DEV_REPOSITORIES[1])
    assert {before.by_urn(urn).type for urn in changes.removed} == {SECRET, GIT_PERMISSIONS}


# Every URN six configurations had before the components became a package (tests/golden, recorded from the program
# as it was). A deployed stack holds these; each must still name exactly one resource, by its URN or an alias.
GOLDEN = json.loads((Path(__file__).resolve().parents[1] / "golden" / "urns-before-package.json").read_text())


def _real_urn(urn: str) -> str:
    # The mock engine puts the root stack's type in front of top-level types; the real engine does not.
    return urn.replace("::pulumi:pulumi:Stack$", "::")


def _urn(run: ProgramRun, qualified_parent: str | None, type_: str, name: str) -> str:
    qualified = f"{qualified_parent}${type_}" if qualified_parent else type_
    return f"urn:pulumi:{run.stack}::{PROJECT}::{qualified}::{name}"


def _qualified_type(urn: str) -> str:
    return urn.split("::")[2]


def identities(run: ProgramRun, resource: Resource) -> set[str]:
    """The URNs the engine matches `resource` against: its own, its aliases, and those it inherits from its
    parent's aliases (a child's name prefix follows its parent's name, as the engine does)."""
    parent = run.index.get(resource.parent) if resource.parent else None
    found = set()
    for parent_urn in identities(run, parent) if parent else {None}:
        name = resource.name
        if parent is not None and parent_urn is not None and name.startswith(parent.name):
            name = parent_urn.rsplit("::", 1)[1] + name[len(parent.name):]
        found.add(_urn(run, _qualified_type(parent_urn) if parent_urn else None, resource.type, name))
    for alias in resource.options["aliases"]:
        if "urn" in alias:
            found.add(_real_urn(alias["urn"]))
            continue
        if "parent" in alias:
            qualified_parents: set[str | None] = {_qualified_type(alias["parent"])}
        elif alias.get("noParent") or parent is None:
            qualified_parents = {None}
        else:
            # The engine also takes a child's aliases under the old URN its parent matched (it multiplies them out
            # over the parent's alias, pulumi/pulumi pkg/resource/deploy/step_generator.go), so under each URN the
            # parent may have had.
            qualified_parents = {_qualified_type(parent_urn) for parent_urn in identities(run, parent)}
        for qualified_parent in qualified_parents:
            found.add(_urn(run, qualified_parent, alias.get("type", resource.type), alias.get("name", resource.name)))
    return found


@pytest.mark.parametrize("configuration", sorted(GOLDEN))
def test_a_deployed_stack_sees_no_replacement(configuration: str) -> None:
    """Each URN a stack deployed before the restructuring holds is claimed by exactly one resource now, and no
    resource is new: `pulumi up` after the upgrade updates in place and replaces nothing."""
    recorded = GOLDEN[configuration]
    run = run_program(recorded["stack"], overrides=recorded["overrides"])
    old = {_real_urn(urn) for urn in recorded["urns"]}
    claims = {resource.urn: identities(run, resource) & old for resource in run.resources}
    assert [urn for urn, claimed in claims.items() if len(claimed) != 1] == [], "a resource is new or ambiguous"
    claimed = [urn for found in claims.values() for urn in found]
    assert sorted(claimed) == sorted(old), "an old resource is claimed by none, or by two"


def test_children_are_named_after_their_component(before: ProgramRun) -> None:
    """A component's alias carries its children only when each child's name starts with the component's name
    (the engine swaps that prefix), so a renamed component keeps its children."""
    for resource in before.resources:
        parent = before.index.get(resource.parent) if resource.parent else None
        if parent is not None:
            assert resource.name.startswith(f"{parent.name}-"), f"{resource.name} is not named after {parent.name}"


# ----------------------------------------------------------------------------------------------------
# Determinism: the same config must give the same inputs, or every `pulumi up` shows a diff
# ----------------------------------------------------------------------------------------------------


def inputs_by_urn(run: ProgramRun) -> dict[str, str]:
    """Every resource's inputs as bytes, and the stack outputs (a reordered list there is a diff too)."""
    return {r.urn: json.dumps(r.inputs, sort_keys=True) for r in run.resources} | {
        "stack outputs": json.dumps(run.stack_outputs, sort_keys=True)
    }


@pytest.mark.parametrize("stack", ["dev", "platform"])
def test_two_runs_of_one_config_give_byte_identical_inputs(stack: str) -> None:
    assert inputs_by_urn(run_program(stack, fresh=True)) == inputs_by_urn(run_program(stack, fresh=True))


_DUMP_INPUTS = (
    "import json, sys; sys.path[:0] = ['tests/program', 'tests', '.']; from harness import run_program; "
    "from test_changes import inputs_by_urn; print(json.dumps(inputs_by_urn(run_program('platform'))))"
)


def test_a_process_with_another_hash_seed_gives_the_same_inputs() -> None:
    """Set and dict-of-set order, and hash(), change with PYTHONHASHSEED; a second process shows it."""
    seed = "1" if os.environ.get("PYTHONHASHSEED") != "1" else "2"
    env = {**os.environ, "PYTHONHASHSEED": seed}
    output = subprocess.run(
        [sys.executable, "-c", _DUMP_INPUTS], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output.strip().splitlines()[-1]) == inputs_by_urn(run_program("platform"))


PROGRAM_SOURCES = [ROOT / "__main__.py", *sorted((ROOT / "settings").glob("*.py")), *sorted((ROOT / "components").glob("*.py"))]
# Sources of values that differ between runs. Randomness belongs in a pulumi-random resource, whose result is
# kept in state (components/devops_access.py: the group name suffix).
NON_DETERMINISTIC = re.compile(
    r"^\s*(import random\b|from random import)|\buuid[14]\(|\bsecrets\.|\burandom\(|\btime\.time\(|"
    r"\bdatetime\.(now|utcnow|today)\(|\bdate\.today\(|\bhash\(|getrandbits",
    re.MULTILINE,
)


def test_randomness_lives_in_state() -> None:
    found = {path.name: NON_DETERMINISTIC.findall(path.read_text()) for path in PROGRAM_SOURCES}
    assert {name: hits for name, hits in found.items() if hits} == {}


def test_the_one_random_value_comes_from_state(before: ProgramRun) -> None:
    """The group name suffix is a RandomString: generated once, then read back from state on every run."""
    suffix = before.one("random:index/randomString:RandomString")
    group = before.one(GROUP)
    assert suffix.outputs["result"] in group.inputs["displayName"]
