"""Small derivations between the settings, the components' arguments and the stack's outputs."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pulumi

from components.argocd import RepositoryRegistration
from components.cluster import AksCluster
from settings import AzureDevOpsSettings, Settings, stable_hash


def name_prefix(stack: str) -> str:
    """Readable start of the stack's Azure names (the cluster's DNS prefix): argocd-wi-<stack>."""
    return f"argocd-wi-{re.sub(r'[^a-z0-9-]', '-', stack.lower())}"[:40].strip("-")


def registrations(azure_devops: AzureDevOpsSettings) -> list[RepositoryRegistration]:
    """One credential template per project, or one repository secret per repository."""
    if azure_devops.credential_templates:
        prefixes = dict.fromkeys(repo.project_prefix for repo in azure_devops.repositories)
        return [RepositoryRegistration(_secret_name("creds", url), url, template=True) for url in prefixes]
    return [RepositoryRegistration(_secret_name("repo", repo.url), repo.url) for repo in azure_devops.repositories]


def _secret_name(kind: str, url: str) -> str:
    # Readable tail of the URL plus a hash of all of it: DNS-safe, unique, and stable across runs.
    readable = re.sub(r"[^a-z0-9]+", "-", unquote(url.lower()).split("dev.azure.com/", 1)[-1].replace("/_git/", "-")).strip("-")
    return f"{kind}-{readable[:40].strip('-')}-{stable_hash(url.lower())}"


def next_steps(settings: Settings, cluster: AksCluster) -> pulumi.Output[list[str]]:
    namespace = settings.argocd.namespace
    release = settings.argocd.release_name
    # The chart names its objects after the release only when the release name contains its nameOverride "argocd",
    # otherwise "<release>-argocd-..." (argo-helm charts/argo-cd/templates/_common.tpl, argo-cd.fullname).
    fullname = release if "argocd" in release else f"{release}-argocd"
    server = "argocd-server" if settings.argocd.install_method == "extension" else f"{fullname}-server"
    return pulumi.Output.all(cluster.cluster_resource_group_name, cluster.cluster_name).apply(lambda names: [
        f"az aks get-credentials --resource-group {names[0]} --name {names[1]} && kubelogin convert-kubeconfig -l azurecli",
        f"kubectl -n {namespace} port-forward svc/{server} 8080:443   # then open https://localhost:8080",
        f"kubectl -n {namespace} get secret argocd-initial-admin-secret -o jsonpath='{{.data.password}}' | base64 -d",
        f"kubectl -n {namespace} get secrets -l argocd.argoproj.io/secret-type   # the registered repositories",
    ])
