"""The fleet section: spoke clusters the hub's Argo CD deploys to, and who it reaches them as.

`spokes` is a list of objects; the CLI hands it to the program as one JSON string. Every entry and every field is
checked here, with the hub's keys it depends on (install method, chart version, bootstrap), before any resource.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from components.vocabulary import SpokeAccessRole
from policy.facts import MIN_FLEET_ARGO_CD_CHART, at_least
from settings.model import (
    PROJECT,
    AdoptedSpoke,
    ArgoCdSettings,
    ClusterSettings,
    CreatedSpoke,
    FleetSettings,
    HelmInstall,
    ServiceAccount,
    Spoke,
)
from settings.reader import ConfigReader, has_invisible_characters
from settings.rules import (
    AZURE_NAMES,
    EXTENSION,
    FLEET,
    KUBERNETES_NAMES,
    PULUMI,
    is_azure_region,
    is_cluster_name,
    is_dns_label,
    is_dns_subdomain,
    is_resource_group_name,
)

SPOKE_FIELDS = {"name", "existing", "location", "labels", "bootstrap"}
EXISTING_FIELDS = {"resourceGroup", "clusterName"}
# Spoke names become Azure and Kubernetes names with a prefix (spoke-<name>-...), so shorter than a DNS label.
MAX_SPOKE_NAME = 40
# Kubernetes label syntax (apimachinery validation): optional DNS-subdomain prefix, a name of at most 63 characters.
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)$")
# Argo CD's own labels on a cluster Secret; a spoke label must not override them.
_RESERVED_LABEL_PREFIX = "argocd.argoproj.io/"
_SPOKE_FORM = (
    '{name: <label>, existing: {resourceGroup: <group>, clusterName: <cluster>}} to adopt, or '
    '{name: <label>, location: <region>} to create; optional labels: {key: value} and bootstrap: true'
)


def fleet_settings(reader: ConfigReader, cluster: ClusterSettings, argocd: ArgoCdSettings) -> FleetSettings | None:
    """The fleet, or None without spokes. The fleet-wide keys are checked either way: a typo is refused now."""
    access_role = reader.choice("spokeAccessRole", SpokeAccessRole)

    def account(key: str, role: str) -> ServiceAccount:
        name = reader.matching(key, reader.text(key), is_dns_subdomain, "a DNS-1123 subdomain (a-z, 0-9, -, .)", rule=KUBERNETES_NAMES)
        return ServiceAccount(argocd.namespace, name, key=role)

    controller = account("controllerServiceAccount", "application-controller")
    # argocd-server's account is the one single sign-on trusts too: one name, read once (settings/sections.py).
    server = argocd.server
    spokes = tuple(spoke for entry in reader.objects("spokes") if (spoke := _spoke(reader, entry, argocd)) is not None)
    if not spokes:
        return None
    _refuse_duplicates(reader, spokes, cluster)
    install = argocd.install
    if not isinstance(install, HelmInstall):
        reader.fail(
            "argocdInstallMethod", argocd.install_method,
            "helm with spokes: the program must label and annotate the application-controller and server, which "
            "the AKS extension's settings do not offer", rule=EXTENSION,
        )
    elif not at_least(install.chart_version, MIN_FLEET_ARGO_CD_CHART):
        reader.fail(
            "argocdChartVersion", install.chart_version,
            f"{MIN_FLEET_ARGO_CD_CHART} or newer with spokes (Argo CD v3.2.0+): argocd-k8s-auth azure, which reaches the spokes, broke "
            "in earlier releases (argo-cd#22122, #22884, #23878)", rule=FLEET,
        )
    taken = {argocd.repo_server.name: "repoServerServiceAccount", server.name: "serverServiceAccount"}
    if isinstance(install, HelmInstall) and install.commit_server:
        taken[install.commit_server.name] = "commitServerServiceAccount"
    if controller.name in taken:
        reader.fail(
            "controllerServiceAccount", controller.name,
            f"a name other than {taken[controller.name]}'s: each component its own account", rule=FLEET,
        )
    return FleetSettings(spokes=spokes, access_role=access_role, controller=controller, server=server)


def _spoke(reader: ConfigReader, entry: dict[str, Any], argocd: ArgoCdSettings) -> Spoke | None:
    """One spoke, or None after recording why the entry is refused."""
    name = entry.get("name")
    where = f"spokes[{name!r}]" if isinstance(name, str) else "spokes"
    problems_before = len(reader.problems)

    def refuse(field: str, value: object, accepted: str, rule: str = FLEET) -> None:
        reader.refuse(f"{PROJECT}:{where}.{field} = {str(value)[:120]!r}: expected {accepted}", rule=rule)

    unknown = sorted(set(entry) - SPOKE_FIELDS)
    if unknown:
        refuse("fields", unknown, f"only {sorted(SPOKE_FIELDS)}: {_SPOKE_FORM}")
    if not (isinstance(name, str) and is_dns_label(name) and len(name) <= MAX_SPOKE_NAME and name != "in-cluster"):
        refuse("name", name, f"a DNS-1123 label of at most {MAX_SPOKE_NAME} characters (not in-cluster)", KUBERNETES_NAMES)
    source = _source(entry, refuse)
    labels = _labels(entry.get("labels", {}), refuse)
    bootstrap = entry.get("bootstrap", False)
    if not isinstance(bootstrap, bool):
        refuse("bootstrap", bootstrap, "true or false")
    elif bootstrap and argocd.bootstrap is None:
        refuse("bootstrap", bootstrap, "false unless bootstrapApplication is true (the spoke syncs the same source)")
    if len(reader.problems) != problems_before or source is None:
        return None
    assert isinstance(name, str)  # checked above; narrows the type
    return Spoke(name=name, source=source, labels=labels, bootstrap=bool(bootstrap))


def _source(entry: dict[str, Any], refuse: Any) -> AdoptedSpoke | CreatedSpoke | None:
    existing, location = entry.get("existing"), entry.get("location")
    if (existing is None) == (location is None):
        refuse("existing/location", {k: entry.get(k) for k in ("existing", "location")}, f"exactly one of them: {_SPOKE_FORM}")
        return None
    if location is not None:
        if not (isinstance(location, str) and is_azure_region(location)):
            refuse("location", location, "an Azure region name in lower case without spaces, e.g. northeurope", AZURE_NAMES)
            return None
        return CreatedSpoke(location=location)
    if not isinstance(existing, dict) or set(existing) != EXISTING_FIELDS:
        refuse("existing", existing, "{resourceGroup: <group>, clusterName: <cluster>}")
        return None
    group, cluster = existing["resourceGroup"], existing["clusterName"]
    valid = True
    if not (isinstance(group, str) and is_resource_group_name(group)):
        refuse("existing.resourceGroup", group, "an Azure resource group name (1-90 letters, digits, -_.())", AZURE_NAMES)
        valid = False
    if not (isinstance(cluster, str) and is_cluster_name(cluster)):
        refuse("existing.clusterName", cluster, "an AKS cluster name (1-63 letters, digits, - and _)", AZURE_NAMES)
        valid = False
    return AdoptedSpoke(resource_group=group, cluster_name=cluster) if valid else None


def _labels(labels: Any, refuse: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(labels, dict):
        refuse("labels", labels, "a mapping of label keys to string values")
        return ()
    for key, value in labels.items():
        if not _is_label_key(key) or key.startswith(_RESERVED_LABEL_PREFIX):
            refuse(f"labels.{key}", value, f"Kubernetes label keys ([prefix/]name), none under {_RESERVED_LABEL_PREFIX}",
                   KUBERNETES_NAMES)
        elif not (isinstance(value, str) and _LABEL_VALUE.match(value) and not has_invisible_characters(value)):
            refuse(f"labels.{key}", value, "a string label value (at most 63 letters, digits, -_.), quoted in YAML",
                   KUBERNETES_NAMES)
    return tuple(sorted((str(key), str(value)) for key, value in labels.items()))


def _is_label_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    prefix, _, name = key.rpartition("/")
    return (not prefix or is_dns_subdomain(prefix)) and bool(_LABEL_NAME.match(name))


def _refuse_duplicates(reader: ConfigReader, spokes: tuple[Spoke, ...], cluster: ClusterSettings) -> None:
    names = Counter(spoke.name for spoke in spokes)
    for name in sorted(n for n, count in names.items() if count > 1):
        reader.refuse(f"{PROJECT}:spokes names {name!r} more than once: each spoke once", rule=PULUMI)
    adopted = Counter(
        (spoke.source.resource_group.lower(), spoke.source.cluster_name.lower())
        for spoke in spokes if isinstance(spoke.source, AdoptedSpoke)
    )
    for group, name in sorted(key for key, count in adopted.items() if count > 1):
        reader.refuse(f"{PROJECT}:spokes adopts {group}/{name} more than once: each cluster once", rule=PULUMI)
    hub = cluster.existing
    if hub and (hub.resource_group.lower(), hub.name.lower()) in adopted:
        reader.refuse(
            f"{PROJECT}:spokes adopts the hub cluster {hub.resource_group}/{hub.name}: Argo CD already deploys there "
            "(https://kubernetes.default.svc)", rule=FLEET
        )
