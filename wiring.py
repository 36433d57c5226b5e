"""Small derivations between the settings, the components' arguments and the stack's outputs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

import pulumi

from components.argocd import RepositoryRegistration, SecretType, chart_fullname
from components.cluster import AksCluster
from settings import AzureDevOpsSettings, Repository, Settings, stable_hash


def name_prefix(stack: str) -> str:
    """Readable start of the stack's Azure names (the cluster's DNS prefix): argocd-wi-<stack>."""
    return f"argocd-wi-{re.sub(r'[^a-z0-9-]', '-', stack.lower())}"[:40].strip("-")


def names_by_project(repositories: Sequence[Repository]) -> dict[str, list[str]]:
    """Repository names grouped by project, projects in first-seen order."""
    grouped: dict[str, list[str]] = {}
    for repo in repositories:
        grouped.setdefault(repo.project, []).append(repo.name)
    return grouped


def registrations(azure_devops: AzureDevOpsSettings, hydration_targets: Sequence[Repository] = ()) -> list[RepositoryRegistration]:
    """One credential template per project, or one repository secret per repository; then one write secret per
    repository the Source Hydrator pushes to."""
    if azure_devops.credential_templates:
        prefixes = dict.fromkeys(repo.project_prefix for repo in azure_devops.repositories)
        read = [RepositoryRegistration(_secret_name("creds", url), url, SecretType.CREDENTIAL_TEMPLATE) for url in prefixes]
    else:
        read = [RepositoryRegistration(_secret_name("repo", repo.url), repo.url) for repo in azure_devops.repositories]
    write = [
        RepositoryRegistration(_secret_name("push", repo.url), repo.url, SecretType.REPOSITORY_WRITE) for repo in hydration_targets
    ]
    return read + write


def _secret_name(kind: str, url: str) -> str:
    # Readable tail of the URL plus a hash of all of it: DNS-safe, unique, and stable across runs.
    readable = re.sub(r"[^a-z0-9]+", "-", unquote(url.lower()).split("dev.azure.com/", 1)[-1].replace("/_git/", "-")).strip("-")
    return f"{kind}-{readable[:40].strip('-')}-{stable_hash(url.lower())}"


def next_steps(settings: Settings, cluster: AksCluster) -> pulumi.Output[list[str]]:
    namespace = settings.argocd.namespace
    server = (
        "argocd-server" if settings.argocd.install_method == "extension"
        else f"{chart_fullname(settings.argocd.release_name)}-server"
    )
    return pulumi.Output.all(cluster.cluster_resource_group_name, cluster.cluster_name).apply(lambda names: [
        f"az aks get-credentials --resource-group {names[0]} --name {names[1]} && kubelogin convert-kubeconfig -l azurecli",
        f"kubectl -n {namespace} port-forward svc/{server} 8080:443   # then open https://localhost:8080",
        f"kubectl -n {namespace} get secret argocd-initial-admin-secret -o jsonpath='{{.data.password}}' | base64 -d",
        f"kubectl -n {namespace} get secrets -l argocd.argoproj.io/secret-type   # the registered repositories",
    ])
