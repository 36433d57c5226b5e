"""Argo CD on AKS reading private Azure DevOps repositories through Entra Workload ID: no PAT anywhere.

settings -> cluster (OIDC issuer) -> identity (client ID, principal ID) -> Azure DevOps grants and Argo CD.
"""

import gc
import re
from urllib.parse import unquote

import pulumi

from components.argocd import (
    ArgoCd,
    ArgoCdArgs,
    BootstrapApplication,
    ExtensionInstall,
    HelmInstall,
    RepositoryRegistration,
)
from components.cluster import AksCluster, AksClusterArgs, look_up_existing_cluster
from components.devops_access import AzureDevOpsAccess, AzureDevOpsAccessArgs
from components.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from settings import AzureDevOpsSettings, Settings, check_existing_cluster_capacity, load_settings, stable_hash


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


# Everything below builds one object graph that lives until the program ends. The collector's full passes
# over it and over the SDK modules free nothing and took a third of the evaluation at 300 repositories
# (bench/RESULTS.md); young objects are still collected as usual.
gc.freeze()
gc.set_threshold(700, 10, 100)  # CPython's defaults, but a full pass at most every 100 middle ones (not 10)

settings = load_settings()
existing = settings.cluster.existing
adopted = look_up_existing_cluster(existing.resource_group, existing.name) if existing else None
if adopted:
    check_existing_cluster_capacity(settings, adopted.node_count)

cluster = AksCluster("cluster", AksClusterArgs(
    location=settings.cluster.location,
    name_prefix=f"argocd-wi-{re.sub(r'[^a-z0-9-]', '-', settings.stack.lower())}"[:40].strip("-"),
    kubelogin_mode=settings.cluster.kubelogin_mode,
    node_count=settings.cluster.node_count,
    node_vm_size=settings.cluster.node_vm_size,
    system_pool_name=settings.cluster.system_pool_name,
    kubernetes_version=settings.cluster.kubernetes_version,
    admin_group_object_ids=settings.cluster.admin_group_object_ids,
    existing=adopted,
    grant_deployer_cluster_admin=settings.cluster.grant_deployer_cluster_admin,
    deployer_principal_type=settings.cluster.deployer_principal_type,
    protect=settings.protect,
))

identity = WorkloadIdentity("argocd-wi", WorkloadIdentityArgs(
    resource_group_name=cluster.resource_group_name,
    location=settings.cluster.location,
    issuer_urls={"cluster": cluster.oidc_issuer_url}
    | {f"issuer-{stable_hash(url)}": url for url in settings.additional_issuers},
    subjects={account.key: account.subject for account in settings.trusted_service_accounts},
    protect=settings.protect,
))

AzureDevOpsAccess("devops", AzureDevOpsAccessArgs(
    organization_url=settings.azure_devops.organization_url,
    principal_id=identity.principal_id,
    access_model=settings.azure_devops.access_model,
    repositories_by_project={
        project: [repo.name for repo in settings.azure_devops.repositories if repo.project == project]
        for project in settings.azure_devops.projects
    },
    license_type=settings.azure_devops.license_type,
    group_label=settings.stack,
))

argocd_settings = settings.argocd
argocd = ArgoCd("argocd", ArgoCdArgs(
    namespace=argocd_settings.namespace,
    client_id=identity.client_id,
    repo_server_service_account=argocd_settings.repo_server.name,
    commit_server_service_account=argocd_settings.commit_server.name if argocd_settings.commit_server else None,
    registrations=registrations(settings.azure_devops),
    kubernetes_provider=cluster.provider,
    identity_credentials=identity.credentials,
    helm=HelmInstall(argocd_settings.release_name, argocd_settings.chart_version)
    if argocd_settings.install_method == "helm" else None,
    extension=ExtensionInstall(
        cluster_name=cluster.cluster_name,
        cluster_resource_group_name=cluster.cluster_resource_group_name,
        release_train=argocd_settings.extension.release_train,
        version=argocd_settings.extension.version,
        high_availability=argocd_settings.extension.high_availability,
        extra_settings=dict(argocd_settings.extension.extra),
    ) if argocd_settings.install_method == "extension" else None,
    bootstrap=BootstrapApplication(
        repository_url=argocd_settings.bootstrap.repository.url,
        path=argocd_settings.bootstrap.path,
        timeout_seconds=argocd_settings.bootstrap.timeout_seconds,
    ) if argocd_settings.bootstrap else None,
))

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
pulumi.export("identityClientId", identity.client_id)
pulumi.export("argocdInstallMethod", argocd_settings.install_method)
pulumi.export("argocdNamespace", argocd.namespace)
pulumi.export("repositoryUrls", argocd.repository_urls)
pulumi.export("nextSteps", next_steps(settings, cluster))
