"""Helm charts in Azure Container Registry: the registries, the chart paths Argo CD registers, and a bootstrap chart."""

from __future__ import annotations

import re
from collections import Counter

from settings.model import PROJECT, ChartSettings, ContainerRegistry, HelmChart, HelmChartRepository
from settings.reader import ConfigReader
from settings.rules import ACR, ARGO_APPLICATIONS, AZURE_NAMES, PULUMI

# ACR names: 5-50 alphanumerics (case-insensitive; the login server is lower case, so only lower case is accepted).
_REGISTRY_NAME = re.compile(r"^[a-z0-9]{5,50}$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,90}$")
# An OCI repository path: lower-case components separated by / (distribution spec), at most 200 characters here.
_REPOSITORY_PATH = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")
_CHART_NAME = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_LOGIN_SERVER = re.compile(r"^([^/]+)\.azurecr\.io/(.+)$")
PLAIN_OCI_REFUSED = (
    "<registry>.azurecr.io/<path> without oci://: Argo CD's plain OCI repositories (type oci) have no workload "
    "identity yet (argo-cd#24432), so each path is registered as a Helm repository with enableOCI "
    "(docs/facts.md#acr-helm-charts)"
)


def chart_settings(reader: ConfigReader) -> ChartSettings:
    abac = set(reader.strings("abacRegistries"))
    registries: dict[str, ContainerRegistry] = {}
    for entry in reader.strings("containerRegistries"):
        registry = _parse_registry(reader, entry, abac)
        if registry is None:
            continue
        if registry.name in registries:
            reader.fail("containerRegistries", entry, "each registry once", rule=PULUMI)
        registries[registry.name] = registry
    for name in sorted(abac - set(registries)):
        reader.fail("abacRegistries", name, "names of registries listed in containerRegistries", rule=ACR)

    repositories: list[HelmChartRepository] = []
    for entry in reader.strings("helmChartRepositories"):
        repository = _parse_chart_repository(reader, entry, registries)
        if repository is not None:
            repositories.append(repository)
    counts = Counter(repository.url for repository in repositories)
    for url in sorted(url for url, count in counts.items() if count > 1):
        reader.fail("helmChartRepositories", url, "each chart path once", rule=PULUMI)
    used = {repository.registry.name for repository in repositories}
    for name in sorted(set(registries) - used):
        reader.fail(
            "containerRegistries", name,
            "registries Argo CD reads charts from: list at least one of its chart paths in helmChartRepositories "
            "(the identity is granted pull only where it reads)", rule=ACR,
        )
    return ChartSettings(registries=tuple(registries.values()), repositories=tuple(dict.fromkeys(repositories)))


def _parse_registry(reader: ConfigReader, entry: str, abac: set[str]) -> ContainerRegistry | None:
    group, separator, name = entry.rpartition("/")
    if not _REGISTRY_NAME.match(name) or (separator and (not _RESOURCE_GROUP.match(group) or group.endswith("."))):
        reader.fail(
            "containerRegistries", entry,
            '"<name>" (a registry this stack creates) or "<resourceGroup>/<name>" (an existing one); '
            "a registry name is 5-50 lower-case letters and digits", rule=AZURE_NAMES,
        )
        return None
    if name in abac and not separator:
        reader.fail(
            "abacRegistries", name,
            "existing registries only: a registry this stack creates uses the RBAC registry permissions mode, "
            "where AcrPull applies", rule=ACR,
        )
    return ContainerRegistry(name=name, existing_resource_group=group or None, abac=name in abac)


def _parse_chart_repository(
    reader: ConfigReader, entry: str, registries: dict[str, ContainerRegistry]
) -> HelmChartRepository | None:
    if "://" in entry:
        reader.fail("helmChartRepositories", entry, PLAIN_OCI_REFUSED, rule=ACR)
        return None
    match = _LOGIN_SERVER.match(entry.rstrip("/"))
    if not match or not _REPOSITORY_PATH.match(match.group(2)) or len(match.group(2)) > 200:
        reader.fail(
            "helmChartRepositories", entry, "<registry>.azurecr.io/<path>, the path in lower case (e.g. contoso.azurecr.io/charts)",
            rule=ACR,
        )
        return None
    registry = registries.get(match.group(1))
    if registry is None:
        reader.fail("helmChartRepositories", entry, "a path in one of the registries listed in containerRegistries", rule=ACR)
        return None
    return HelmChartRepository(registry=registry, path=match.group(2))


def bootstrap_chart(reader: ConfigReader, charts: ChartSettings, wanted: str, revision: str, pushed: bool) -> HelmChart | None:
    """The chart the bootstrap Application syncs: <registry>.azurecr.io/<path>/<chart>, in a registered chart path.

    A registry this stack creates holds no chart before the stack's first `pulumi up`, so the wait would time out
    minutes in: such a chart is refused until the user says it has been pushed (bootstrapChartPushed)."""
    repository_url, _, chart = wanted.rstrip("/").rpartition("/")
    repository = next((r for r in charts.repositories if r.url == repository_url), None)
    if repository is None or not _CHART_NAME.match(chart):
        reader.fail(
            "bootstrapChart", wanted,
            "<registry>.azurecr.io/<path>/<chart> where <registry>.azurecr.io/<path> is one of helmChartRepositories", rule=ACR,
        )
        return None
    if revision == "HEAD" or not re.match(r"^v?[0-9]", revision):
        reader.refuse(
            f"{PROJECT}:bootstrapTargetRevision = {revision!r}: with bootstrapChart, the chart version to sync "
            "(e.g. 1.2.0); a chart has no HEAD", rule=ARGO_APPLICATIONS
        )
    registry = repository.registry
    if registry.existing_resource_group is None and not pushed:
        reader.fail(
            "bootstrapChart", wanted,
            f"a chart already in its registry: {registry.name} is created by this stack, so on its first pulumi up no "
            "chart can be there and the bootstrap wait would time out. Run pulumi up without bootstrapApplication (or "
            f"with bootstrapPath), push the chart (helm push <chart>.tgz oci://{repository.url}), then set "
            f"{PROJECT}:bootstrapChartPushed to true; or take the chart from an existing registry", rule=ACR,
        )
    return HelmChart(repository=repository, chart=chart)
