"""Facts the policy pack and the program both enforce, written once: the pack imports this module from its own folder
(`facts`), the program from the repository's root (`policy.facts`). Standard library only, as both need."""

from __future__ import annotations

import re

# Argo CD is safe for Azure DevOps workload identity from v3.0.13, v3.1.1 and v3.2.0 on (argo-cd#23100, #23348,
# #23478; docs/facts.md#argo-cd-versions-and-bugs). No chart ever shipped v3.0.13; chart 8.3.0 ships v3.1.0 and 8.3.1
# is the first to ship v3.1.1 (argo-helm charts/argo-cd/Chart.yaml history).
MIN_SAFE_ARGO_CD_CHART = "8.3.1"
# Spokes are reached through `argocd-k8s-auth azure`, which broke in v2.14.3 (argo-cd#22122) and v3.0.0 (#22884,
# fixed by #23004 in v3.0.7/v3.1.0) and is reported broken again from v3.0.11 (#23878, open). Chart 9.1.0 ships
# v3.2.0, the first release after #23878 with a newer kubelogin (docs/facts.md#argo-cd-cluster-secrets-for-aks-fleet).
MIN_FLEET_ARGO_CD_CHART = "9.1.0"

# Settings of the 0.0.x AKS Argo CD extension, and what 1.0.0-preview replaced each with
# (docs/facts.md#aks-argo-cd-extension).
LEGACY_EXTENSION_SETTINGS = {
    "workloadIdentity.enable": "azure.workloadIdentity.enabled",
    "workloadIdentity.clientId": "azure.workloadIdentity.clientId",
    "deployWithHighAvailability": "redis-ha.enabled",
    "namespaceInstall": "(none: 1.0.0-preview always installs into the argocd namespace)",
}

# A semantic version as Helm accepts a chart's (semver.org 2.0.0): a pre-release and build metadata allowed.
_VERSION = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def release_key(version: str) -> tuple[int, int, int, int] | None:
    """Orders exact versions, a pre-release before its release (semver.org, rule 11); None when `version` is not one."""
    match = _VERSION.match(version.strip())
    if match is None:
        return None
    major, minor, patch, prerelease = match.group(1, 2, 3, 4)
    return int(major), int(minor), int(patch), 0 if prerelease else 1


def at_least(version: str, floor: str) -> bool:
    """`version` is an exact version no older than `floor`."""
    key, minimum = release_key(version), release_key(floor)
    assert minimum is not None, f"{floor!r} is not an exact version"
    return key is not None and key >= minimum
