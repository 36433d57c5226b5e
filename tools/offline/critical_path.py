"""The critical path of `pulumi up`: the longest chain of waits through the resource graph, in seconds.

Pulumi creates a resource as soon as everything it waits for exists, so a `pulumi up` from nothing lasts as
long as the heaviest chain of dependencies. Each resource type is weighted by `PROVISIONING_SECONDS`
(typical time until what depends on it can use it; every figure says where it comes from, and most are
estimates: replace them with measured ones after a real `pulumi up`). The result is compared with the
lower bound no ordering can beat. `scripts/plan` does not print it, since most figures are estimates; the tests use it
for what holds under any plausible figures: which resources lie on the path and which edges put them there. The
lower bound no ordering can beat:

    cluster (0 for an adopted one) -> Argo CD install -> repository secret -> first sync

Every edge of the critical path is classified:

- chain: between two resources of the lower-bound chain. The chain includes what its steps cannot do
  without: the cluster's resource group (ARM creates a cluster only inside one), the namespace the Helm
  release installs into, and Kubernetes providers, which weigh nothing;
- deliberate: the Argo CD install waiting for the federated identity credential. Issue 2 wants it: the
  repo-server must not ask Entra for a token before the credential that trusts it exists, and the
  credential's few seconds absorb its propagation. An edge only counts as deliberate when the detour it
  belongs to consists of federated credentials alone and leaves the chain from a chain resource, so it
  costs no more than the credentials' own seconds;
- unneeded: any other edge. The chain does not need it; it makes `pulumi up` longer by `cost_seconds`.

A dependency on a component counts as a dependency on each custom resource inside it (the Python SDK
already expands `depends_on=[component]` this way before the engine sees it). Components weigh 0 and are
never on the path; providers weigh 0 but carry their dependencies (a resource waits for its provider).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from heapq import heapify, heappop, heappush
from itertools import pairwise
from typing import Literal

from tools.offline.engine import ProgramRun, Resource

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
USER_ASSIGNED_IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
FEDERATED_CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
APP_FEDERATED_CREDENTIAL = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
FEDERATED_CREDENTIALS = (FEDERATED_CREDENTIAL, APP_FEDERATED_CREDENTIAL)
APPLICATION_REGISTRATION = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
CONTAINER_REGISTRY = "azure-native:containerregistry:Registry"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
EXTENSION = "azure-native:kubernetesconfiguration:Extension"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
ENTITLEMENT = "azuredevops:index/servicePrincipalEntitlement:ServicePrincipalEntitlement"
DEVOPS_GROUP = "azuredevops:index/group:Group"
GROUP_MEMBERSHIP = "azuredevops:index/groupMembership:GroupMembership"
GIT_PERMISSIONS = "azuredevops:index/gitPermissions:GitPermissions"
RANDOM_STRING = "random:index/randomString:RandomString"
PROVIDER_PREFIX = "pulumi:providers:"

ARGOCD_INSTALLS = (HELM_RELEASE, EXTENSION)
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"

# Seconds from "Pulumi starts creating it" until what depends on it can use it. Providers and components
# weigh 0 (see weight_of). "Estimate" means nobody here has measured it and no primary source gives a
# typical figure; the reasoning is given so that a measured value can replace it.
PROVISIONING_SECONDS: Mapping[str, float] = {
    # Estimate. Resource Groups - Create Or Update answers synchronously (REST reference: 200/201, no
    # long-running operation): one ARM round trip plus provider overhead.
    RESOURCE_GROUP: 2.0,
    # Estimate: 7 minutes for a 2-node system pool with Entra ID, Azure RBAC, OIDC issuer and workload
    # identity. Microsoft publishes no typical figure (the AKS quickstarts say "a few minutes"). Users
    # expect 5-15 minutes (Azure/AKS#1017); cilium/cilium#48545 (2026) put a 20-minute timeout on
    # `az aks create` after checking recent durations, i.e. typical runs stay well below that.
    MANAGED_CLUSTER: 420.0,
    # Estimate. User Assigned Identities - Create Or Update is synchronous (REST reference: 200/201);
    # Entra creates the service principal behind it within the call.
    USER_ASSIGNED_IDENTITY: 5.0,
    # The PUT is synchronous (REST reference: 200/201), and Microsoft Learn (AKS, "Deploy and configure
    # workload identity"): "It takes a few seconds for the federated identity credential to propagate
    # after it's added". 5 s = the call plus "a few seconds" (docs/facts.md#entra-workload-identity says the same).
    FEDERATED_CREDENTIAL: 5.0,
    # Estimates. Microsoft Graph creates an application, its service principal and a federated credential on the
    # application synchronously (Graph REST reference: 201 Created); the credential's propagation is assumed to be
    # the same "few seconds" as on a managed identity.
    APP_FEDERATED_CREDENTIAL: 5.0,
    APPLICATION_REGISTRATION: 5.0,
    SERVICE_PRINCIPAL: 5.0,
    # Estimate. Registries - Create is a long-running ARM operation; a Basic registry is usually ready in well
    # under a minute.
    CONTAINER_REGISTRY: 30.0,
    # 5 s for the synchronous ARM call (estimate) + 300 s propagation. Microsoft Learn (AKS, "Use Azure
    # RBAC for Kubernetes Authorization"): "New role assignments can take up to five minutes to
    # propagate and be updated by the authorization server". The documented worst case is used on
    # purpose: the Kubernetes provider waits on this assignment and gets 403 until it has propagated.
    ROLE_ASSIGNMENT: 305.0,  # ROLE_ASSIGNMENT_CALL_SECONDS when nothing waits for it (weight_of)
    # Estimate. No published figure for Microsoft.ArgoCD. The extension manager installs the community
    # chart with Helm in the cluster and waits for its pods (Microsoft Learn, "Troubleshoot Argo CD
    # extension installation errors": "Helm installation timed out while waiting for Argo CD pods to
    # become ready"), behind ARM's long-running-operation polling: assumed slower than a direct Helm install.
    EXTENSION: 300.0,
    # Estimate. The Release waits until every object of the chart is ready (pulumi-kubernetes Release
    # docs, `skipAwait`: "By default, the provider waits until all resources are in a ready state"):
    # about seven Argo CD workloads whose images are pulled onto fresh nodes.
    HELM_RELEASE: 120.0,
    # Estimate: one Kubernetes API call each; a Secret has no readiness to wait for.
    NAMESPACE: 1.0,
    SECRET: 1.0,
    # Estimate for the first sync. pulumi.com/waitFor holds the Application until Synced and Healthy.
    # A new Application is reconciled at once (not after the periodic resync): token exchange with Entra,
    # git fetch, manifest generation and apply of a small bootstrap path. The stack's timeout (default
    # 600 s) is the upper bound.
    APPLICATION: 60.0,
    # Estimates: each is one or two synchronous REST calls to dev.azure.com (Member Entitlement
    # Management, Graph, Security namespaces).
    ENTITLEMENT: 3.0,
    DEVOPS_GROUP: 3.0,
    GROUP_MEMBERSHIP: 3.0,
    GIT_PERMISSIONS: 2.0,
    # The random provider generates the value locally (pulumi-random docs); no network call.
    RANDOM_STRING: 0.0,
}
# A role assignment's propagation costs time only to what waits for it: pulumi up is done with one nothing waits
# for (a spoke's, when no Application there proves access) once ARM has answered the synchronous PUT (estimate, as above).
ROLE_ASSIGNMENT_CALL_SECONDS = 5.0
# Estimate for a custom type missing from the table (one API call); unknown_types() lists such types so
# that the table can be completed.
UNKNOWN_TYPE_SECONDS = 5.0

EdgeKind = Literal["chain", "deliberate", "unneeded"]


@dataclass(frozen=True)
class PathEdge:
    """One edge of the critical path: `target` waits for `source`."""

    source: Resource
    target: Resource
    kind: EdgeKind
    """chain, deliberate or unneeded (see the module docstring)."""
    cost_seconds: float
    """How much shorter the critical path would be without this edge (edges of one detour share a cost)."""
    reason: str
    """Why the edge got its kind, for people."""

    @property
    def names(self) -> tuple[str, str]:
        return self.source.name, self.target.name


@dataclass(frozen=True)
class CriticalPath:
    """The longest weighted chain of waits, first resource first."""

    resources: list[Resource]
    total_seconds: float
    edges: list[PathEdge]
    """One per consecutive pair in `resources`, in order."""
    deliberate_seconds: float = 0.0
    """How much shorter the path would be without all its deliberate edges."""
    unneeded_seconds: float = 0.0
    """How much shorter the path would be without all its unneeded edges."""

    def of_kind(self, kind: EdgeKind) -> list[PathEdge]:
        return [edge for edge in self.edges if edge.kind == kind]

    @property
    def urns(self) -> list[str]:
        return [resource.urn for resource in self.resources]


@dataclass(frozen=True)
class ChainStep:
    """One step of the lower-bound chain and the resources of this run that play it."""

    name: str
    resources: tuple[Resource, ...]
    seconds: float
    """The step's weight: its heaviest resource (resources of one step are created side by side)."""


@dataclass(frozen=True)
class LowerBound:
    """cluster -> Argo CD install -> repository secret -> first sync, with what each step cannot do without."""

    steps: list[ChainStep]
    total_seconds: float

    @property
    def resources(self) -> list[Resource]:
        return [resource for step in self.steps for resource in step.resources]


def weight_of(resource: Resource, waited_for: bool = True) -> float:
    """Seconds the resource adds to a chain of waits: 0 for components and providers."""
    if not resource.custom or resource.type.startswith(PROVIDER_PREFIX):
        return 0.0
    if resource.type == ROLE_ASSIGNMENT and not waited_for:
        return ROLE_ASSIGNMENT_CALL_SECONDS
    return PROVISIONING_SECONDS.get(resource.type, UNKNOWN_TYPE_SECONDS)


def unknown_types(run: ProgramRun) -> list[str]:
    """Custom resource types of the run that PROVISIONING_SECONDS does not know (weighted by a guess)."""
    return sorted({
        r.type for r in run.resources
        if r.custom and not r.type.startswith(PROVIDER_PREFIX) and r.type not in PROVISIONING_SECONDS
    })


def dependency_graph(run: ProgramRun) -> dict[str, list[str]]:
    """For each custom resource (providers included), the URNs of the custom resources it waits for.

    Dependencies on components are expanded to every custom resource inside them; URNs the run did not
    record (the stack, default providers) are dropped.
    """
    by_urn = run.index
    children: dict[str, list[str]] = defaultdict(list)
    for r in run.resources:
        if r.parent in by_urn:
            children[r.parent].append(r.urn)

    def expand(urn: str) -> set[str]:
        found: set[str] = set()
        todo = [urn]
        while todo:
            current = by_urn.get(todo.pop())
            if current is None:
                continue
            if current.custom:
                found.add(current.urn)
            else:
                todo.extend(children[current.urn])
        return found

    graph: dict[str, list[str]] = {}
    for r in run.resources:
        if r.custom:
            waits = set().union(*(expand(urn) for urn in run.direct_dependencies(r))) - {r.urn}
            graph[r.urn] = sorted(waits)
    return graph


def lower_bound(run: ProgramRun) -> LowerBound:
    """The chain no ordering can beat, weighted like the critical path."""
    customs = [r for r in run.resources if r.custom]
    by_urn = {r.urn: r for r in customs}
    clusters = [r for r in customs if r.type == MANAGED_CLUSTER]
    installs = [r for r in customs if r.type in ARGOCD_INSTALLS]
    steps_and_members: list[tuple[str, list[Resource]]] = [
        ("resource group of the cluster", _direct(clusters, by_urn, RESOURCE_GROUP)),
        ("cluster", clusters),
        ("Argo CD namespace", _direct(installs, by_urn, NAMESPACE)),
        ("Argo CD install", installs),
        ("repository secret", [r for r in customs if r.type == SECRET and _is_repository_secret(r)]),
        ("first sync", [r for r in customs if r.type == APPLICATION]),
    ]
    steps = [
        ChainStep(name, tuple(members), max((weight_of(r) for r in members), default=0.0))
        for name, members in steps_and_members
    ]
    return LowerBound(steps=steps, total_seconds=sum(step.seconds for step in steps))


def critical_path(run: ProgramRun) -> CriticalPath:
    """The longest weighted path through the run's dependency graph, each edge classified."""
    graph = dependency_graph(run)
    by_urn = run.index
    order = _topological_order(graph)
    if not order:
        return CriticalPath(resources=[], total_seconds=0.0, edges=[])
    chain = {r.urn for r in lower_bound(run).resources}
    on_chain = {urn for urn in graph if urn in chain or by_urn[urn].type.startswith(PROVIDER_PREFIX)}
    waited_for = {dependency for waits in graph.values() for dependency in waits}
    weights = {urn: weight_of(by_urn[urn], urn in waited_for) for urn in graph}

    finish, best = _longest_paths(order, graph, weights, on_chain)
    position = {urn: index for index, urn in enumerate(order)}
    end: str | None = max(order, key=lambda urn: (finish[urn], urn in on_chain, -position[urn]))
    total = finish[end] if end is not None else 0.0
    path: list[str] = []
    while end is not None:
        path.append(end)
        end = best[end]
    path.reverse()

    def saving(skip: set[tuple[str, str]]) -> float:
        without, _ = _longest_paths(order, graph, weights, on_chain, skip)
        return round(total - max(without.values()), 3)

    pairs = list(pairwise(path))
    kinds = _classify(path, by_urn, on_chain)
    edges = [
        PathEdge(by_urn[source], by_urn[target], kind, saving({(source, target)}), reason)
        for (source, target), (kind, reason) in zip(pairs, kinds, strict=True)
    ]
    return CriticalPath(
        resources=[by_urn[urn] for urn in path],
        total_seconds=total,
        edges=edges,
        deliberate_seconds=saving({pair for pair, (kind, _) in zip(pairs, kinds, strict=True) if kind == "deliberate"}),
        unneeded_seconds=saving({pair for pair, (kind, _) in zip(pairs, kinds, strict=True) if kind == "unneeded"}),
    )


def unneeded_edges(run: ProgramRun) -> list[PathEdge]:
    """Edges of the critical path that neither the lower-bound chain nor the deliberate credential wait need."""
    return critical_path(run).of_kind("unneeded")


def deliberate_edges(run: ProgramRun) -> list[PathEdge]:
    """Edges of the critical path that are off the chain on purpose (the install waiting for the credential)."""
    return critical_path(run).of_kind("deliberate")


def summary(run: ProgramRun) -> list[str]:
    """The critical path against the lower bound, in lines for people (used by the benchmark)."""
    path, bound = critical_path(run), lower_bound(run)
    lines = [
        f"critical path {path.total_seconds:.0f} s, lower bound {bound.total_seconds:.0f} s "
        f"(+{path.total_seconds - bound.total_seconds:.0f} s: deliberate edges cost {path.deliberate_seconds:.0f} s, "
        f"unneeded edges {path.unneeded_seconds:.0f} s)",
        "  path: " + " -> ".join(f"{r.name} ({weight_of(r):.0f} s)" for r in path.resources),
        "  lower bound: " + " -> ".join(
            f"{step.name} ({step.seconds:.0f} s)" for step in bound.steps if step.resources
        ),
    ]
    for edge in path.edges:
        if edge.kind != "chain":
            lines.append(f"  {edge.kind}: {edge.source.name} -> {edge.target.name} "
                         f"(costs {edge.cost_seconds:.0f} s): {edge.reason}")
    if not path.of_kind("unneeded"):
        lines.append("  unneeded edges on the critical path: none")
    for type_ in unknown_types(run):
        lines.append(f"  note: {type_} is not in PROVISIONING_SECONDS; weighted {UNKNOWN_TYPE_SECONDS:.0f} s")
    return lines


# ----------------------------------------------------------------------------------------------------


def _direct(dependants: Iterable[Resource], by_urn: Mapping[str, Resource], type_: str) -> list[Resource]:
    """Resources of `type_` that any of `dependants` waits for directly."""
    found: dict[str, Resource] = {}
    for dependant in dependants:
        for urn in sorted(dependant.dependencies):
            resource = by_urn.get(urn)
            if resource is not None and resource.type == type_:
                found[urn] = resource
    return list(found.values())


def _is_repository_secret(secret: Resource) -> bool:
    labels = (secret.inputs.get("metadata") or {}).get("labels") or {}
    return labels.get(SECRET_TYPE_LABEL) in ("repository", "repo-creds")


def _topological_order(graph: Mapping[str, list[str]]) -> list[str]:
    """Custom URNs, each after everything it waits for; URN order breaks ties (registration order varies by run)."""
    sorter = TopologicalSorter(graph)
    try:
        sorter.prepare()
    except CycleError as cycle:
        raise ValueError("the dependency graph has a cycle: " + " -> ".join(cycle.args[1])) from cycle
    ready = list(sorter.get_ready())
    heapify(ready)
    order: list[str] = []
    while ready:
        urn = heappop(ready)
        order.append(urn)
        sorter.done(urn)
        for dependant in sorter.get_ready():
            heappush(ready, dependant)
    return order


def _longest_paths(
    order: list[str],
    graph: Mapping[str, list[str]],
    weights: Mapping[str, float],
    on_chain: set[str],
    skip: set[tuple[str, str]] | None = None,
) -> tuple[dict[str, float], dict[str, str | None]]:
    """Finish time of each resource if everything starts as early as it can, and the wait that decides it.

    On a tie the chain wins, so an off-chain edge is only ever on the path when it really costs time.
    """
    position = {urn: index for index, urn in enumerate(order)}
    finish: dict[str, float] = {}
    best: dict[str, str | None] = {}
    for urn in order:
        preds = [p for p in graph[urn] if not skip or (p, urn) not in skip]
        chosen = max(preds, key=lambda p: (finish[p], p in on_chain, -position[p]), default=None)
        finish[urn] = weights[urn] + (finish[chosen] if chosen is not None else 0.0)
        best[urn] = chosen
    return finish, best


def _classify(
    path: list[str], by_urn: Mapping[str, Resource], on_chain: set[str]
) -> list[tuple[EdgeKind, str]]:
    """Kind and reason of each consecutive edge of `path`."""
    kinds: list[tuple[EdgeKind, str]] = [("chain", "part of the lower-bound chain")] * (len(path) - 1)
    index = 0
    while index < len(path):
        if path[index] in on_chain:
            index += 1
            continue
        end = index
        while end + 1 < len(path) and path[end + 1] not in on_chain:
            end += 1
        detour = [by_urn[urn] for urn in path[index:end + 1]]
        entry = path[index - 1] if index > 0 else None
        exit_ = path[end + 1] if end + 1 < len(path) else None
        deliberate = (
            entry is not None
            and exit_ is not None
            and by_urn[exit_].type in ARGOCD_INSTALLS
            and all(r.type in FEDERATED_CREDENTIALS for r in detour)
        )
        names = ", ".join(r.name for r in detour)
        kind: EdgeKind
        if deliberate:
            kind, reason = "deliberate", (
                f"by design, the Argo CD install waits for the federated credential ({names}): "
                "it takes seconds, and its propagation happens while Argo CD installs"
            )
        else:
            kind, reason = "unneeded", f"the lower-bound chain does not need to wait for {names}"
        for edge_index in range(max(index - 1, 0), min(end + 1, len(path) - 1)):
            kinds[edge_index] = (kind, reason)
        index = end + 1
    return kinds

