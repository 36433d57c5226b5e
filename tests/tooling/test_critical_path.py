"""The critical path of `pulumi up` (tools/offline/critical_path.py): the dev stack waits only for what it must."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from harness import (
    APPLICATION,
    CLUSTER,
    CREDENTIAL,
    ENTITLEMENT,
    IDENTITY,
    NAMESPACE,
    ORG,
    RELEASE,
    RESOURCE_GROUP,
    ROLE_ASSIGNMENT,
    SECRET,
    run_program,
)
from tools.offline.critical_path import (
    PROVISIONING_SECONDS,
    critical_path,
    deliberate_edges,
    lower_bound,
    unknown_types,
    unneeded_edges,
    weight_of,
)
from tools.offline.engine import ProgramRun, Resource

FIRST_REPOSITORY = f"{ORG}/gitops/_git/cluster-config"
OFF_THE_PATH = (IDENTITY, ROLE_ASSIGNMENT, "azuredevops:")


def _with_dependency(run: ProgramRun, dependant: str, dependency: str) -> ProgramRun:
    """A copy of `run` in which `dependant` also waits for `dependency` (as a depends_on would make it)."""
    extra = next(r for r in run.resources if r.name == dependency).urn
    resources = [
        dataclasses.replace(r, dependencies=r.dependencies | {extra}) if r.name == dependant else r
        for r in run.resources
    ]
    return dataclasses.replace(run, resources=resources)


def _resource(name: str, type_: str, *, custom: bool = True, parent: str | None = None,
              depends_on: tuple[str, ...] = (), inputs: dict[str, Any] | None = None) -> Resource:
    return Resource(
        urn=f"urn:pulumi:test::p::{type_}::{name}", type=type_, name=name, custom=custom, parent=parent,
        provider=None, inputs=inputs or {}, outputs={}, dependencies=set(depends_on), options={},
    )


def _run(*resources: Resource) -> ProgramRun:
    return ProgramRun(resources=list(resources), stack_outputs={}, secret_outputs=set(), invokes=[],
                      placeholders={}, stack="test", config={})


def test_dev_critical_path_is_the_lower_bound_plus_only_the_deliberate_credential_wait(dev: ProgramRun) -> None:
    path = critical_path(dev)

    assert unneeded_edges(dev) == []
    assert path.total_seconds == lower_bound(dev).total_seconds + path.deliberate_seconds
    credentials = [r for r in path.resources if r.type == CREDENTIAL]
    assert 0 < path.deliberate_seconds <= sum(weight_of(r) for r in credentials)


def test_dev_critical_path_runs_cluster_credential_helm_release_secret_first_sync(dev: ProgramRun) -> None:
    types = [r.type for r in critical_path(dev).resources]

    assert types == [RESOURCE_GROUP, CLUSTER, CREDENTIAL, RELEASE, SECRET, APPLICATION]


def test_only_the_edges_into_and_out_of_the_credential_are_deliberate(dev: ProgramRun) -> None:
    deliberate = [(edge.source.type, edge.target.type) for edge in deliberate_edges(dev)]

    assert deliberate == [(CLUSTER, CREDENTIAL), (CREDENTIAL, RELEASE)]


def test_identity_azure_devops_grants_and_role_assignment_are_off_the_dev_critical_path(dev: ProgramRun) -> None:
    on_path = [r.name for r in critical_path(dev).resources if r.type.startswith(OFF_THE_PATH)]

    assert on_path == []


def test_lower_bound_is_cluster_install_secret_first_sync_with_what_they_cannot_do_without(dev: ProgramRun) -> None:
    steps = {step.name: [r.type for r in step.resources] for step in lower_bound(dev).steps}

    assert steps["resource group of the cluster"] == [RESOURCE_GROUP]
    assert steps["cluster"] == [CLUSTER]
    assert steps["Argo CD namespace"] == [NAMESPACE]
    assert steps["Argo CD install"] == [RELEASE]
    assert set(steps["repository secret"]) == {SECRET} and len(steps["repository secret"]) == 2
    assert steps["first sync"] == [APPLICATION]


def test_a_needless_depends_on_puts_the_grants_on_the_critical_path_as_unneeded_edges(dev: ProgramRun) -> None:
    # Someone makes the cluster wait for the Azure DevOps entitlement: nothing needs that order.
    run = _with_dependency(dev, "cluster-aks", "devops-entitlement")
    entitlement = run.one(ENTITLEMENT)

    unneeded = [edge.names for edge in unneeded_edges(run)]

    assert (entitlement.name, "cluster-aks") in unneeded
    assert critical_path(run).unneeded_seconds == critical_path(run).total_seconds - critical_path(dev).total_seconds
    assert critical_path(run).unneeded_seconds >= PROVISIONING_SECONDS[ENTITLEMENT]


def test_a_cluster_that_waits_for_the_deployers_role_assignment_pays_its_propagation(dev: ProgramRun) -> None:
    # The assignment is scoped to the resource group precisely so that it propagates while AKS is built.
    run = _with_dependency(dev, "cluster-aks", "cluster-deployer-cluster-admin")

    edges = unneeded_edges(run)

    assert [edge.names for edge in edges] == [
        ("resource-group", "cluster-deployer-cluster-admin"), ("cluster-deployer-cluster-admin", "cluster-aks"),
    ]
    assert critical_path(run).unneeded_seconds == PROVISIONING_SECONDS[ROLE_ASSIGNMENT]


def test_serialised_credentials_of_the_source_hydrator_stay_deliberate() -> None:
    run = run_program("dev", overrides={"sourceHydrator": True, "hydrationRepositories": [FIRST_REPOSITORY]})
    path = critical_path(run)

    assert unneeded_edges(run) == []
    assert [r.type for r in path.resources].count(CREDENTIAL) == 2
    assert path.deliberate_seconds <= 2 * PROVISIONING_SECONDS[CREDENTIAL]


def test_extension_install_path_is_at_the_lower_bound_too() -> None:
    run = run_program("dev", overrides={"argocdInstallMethod": "extension"})

    assert unneeded_edges(run) == []
    assert critical_path(run).total_seconds == lower_bound(run).total_seconds + critical_path(run).deliberate_seconds


def test_a_dependency_on_a_component_waits_for_every_resource_inside_it() -> None:
    component = _resource("platform", "test:index:Platform", custom=False)
    slow = _resource("aks", CLUSTER, parent=component.urn)
    quick = _resource("ns", NAMESPACE, parent=component.urn)
    release = _resource("release", RELEASE, depends_on=(component.urn,))

    path = critical_path(_run(component, slow, quick, release))

    assert [r.name for r in path.resources] == ["aks", "release"]
    assert path.total_seconds == PROVISIONING_SECONDS[CLUSTER] + PROVISIONING_SECONDS[RELEASE]


def test_components_and_providers_weigh_nothing_but_pass_their_waits_on() -> None:
    cluster = _resource("aks", CLUSTER)
    provider = _resource("k8s", "pulumi:providers:kubernetes", depends_on=(cluster.urn,))
    namespace = _resource("ns", NAMESPACE, depends_on=(provider.urn,))
    release = _resource("release", RELEASE, depends_on=(provider.urn, namespace.urn))

    path = critical_path(_run(cluster, provider, namespace, release))

    assert weight_of(provider) == 0
    assert [r.name for r in path.resources] == ["aks", "k8s", "ns", "release"]
    assert [edge.kind for edge in path.edges] == ["chain", "chain", "chain"]


@pytest.mark.parametrize("overrides", [
    {},
    {"argocdInstallMethod": "extension"},
    {"accessModel": "readers"},
    {"credentialTemplates": True, "sourceHydrator": True, "hydrationRepositories": [FIRST_REPOSITORY]},
], ids=["dev", "extension", "readers", "templates-hydrator"])
def test_every_resource_type_the_program_creates_has_a_documented_weight(overrides: dict[str, Any]) -> None:
    assert unknown_types(run_program("dev", overrides=overrides)) == []
