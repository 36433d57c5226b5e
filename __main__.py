"""Argo CD on AKS reading private Azure DevOps repositories through Entra Workload ID: no PAT anywhere.

settings -> cluster (OIDC issuer) -> identity (client ID, principal ID) -> Azure DevOps grants and Argo CD.
"""

import pulumi

from components.argocd import (
    ArgoCd,
    ArgoCdArgs,
    BootstrapApplication,
    ExtensionInstall,
    HelmInstall,
)
from components.cluster import AksCluster, AksClusterArgs, look_up_existing_cluster
from components.devops_access import AzureDevOpsAccess, AzureDevOpsAccessArgs
from components.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from settings import check_existing_cluster_capacity, load_settings, stable_hash
from wiring import name_prefix, names_by_project, next_steps, registrations

settings = load_settings()
existing = settings.cluster.existing
adopted = look_up_existing_cluster(existing.resource_group, existing.name) if existing else None
if adopted:
    check_existing_cluster_capacity(settings, adopted.node_count)

cluster = AksCluster("cluster", AksClusterArgs(
    location=settings.cluster.location,
    name_prefix=name_prefix(settings.stack),
    kubelogin_mode=settings.cluster.kubelogin_mode,
    node_count=settings.cluster.node_count,
    node_vm_size=settings.cluster.node_vm_size,
    system_pool_name=settings.cluster.system_pool_name,
    kubernetes_version=settings.cluster.kubernetes_version,
    admin_group_object_ids=settings.cluster.admin_group_object_ids,
    existing=adopted,
    grant_deployer_cluster_admin=settings.cluster.grant_deployer_cluster_admin,
    deployer_principal_type=settings.cluster.deployer_principal_type,
    long_term_support=settings.cluster.long_term_support,
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

argocd_settings = settings.argocd
devops = AzureDevOpsAccess("devops", AzureDevOpsAccessArgs(
    organization_url=settings.azure_devops.organization_url,
    principal_id=identity.principal_id,
    access_model=settings.azure_devops.access_model,
    repositories_by_project=names_by_project(settings.azure_devops.repositories),
    license_type=settings.azure_devops.license_type,
    group_label=settings.stack,
    push_repositories_by_project=names_by_project(argocd_settings.hydration_targets),
    hydrator_creates_branches=argocd_settings.hydrator_creates_branches,
))

argocd = ArgoCd("argocd", ArgoCdArgs(
    namespace=argocd_settings.namespace,
    client_id=identity.client_id,
    repo_server_service_account=argocd_settings.repo_server.name,
    commit_server_service_account=argocd_settings.commit_server.name if argocd_settings.commit_server else None,
    registrations=registrations(settings.azure_devops, argocd_settings.hydration_targets),
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
        target_revision=argocd_settings.bootstrap.target_revision,
    ) if argocd_settings.bootstrap else None,
    access_grants=[devops],
    deleted_with=cluster.created_cluster,
))

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("clusterResourceGroup", cluster.cluster_resource_group_name)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
pulumi.export("identityName", identity.identity_name)
pulumi.export("identityResourceGroup", cluster.resource_group_name)
pulumi.export("identityClientId", identity.client_id)
pulumi.export("identityPrincipalId", identity.principal_id)
pulumi.export("tenantId", identity.tenant_id)
pulumi.export("azureDevOpsOrgUrl", settings.azure_devops.organization_url)
pulumi.export("argocdInstallMethod", argocd_settings.install_method)
pulumi.export("argocdNamespace", argocd.namespace)
pulumi.export("repoServerServiceAccount", argocd_settings.repo_server.name)
pulumi.export("commitServerServiceAccount", argocd_settings.commit_server.name if argocd_settings.commit_server else None)
pulumi.export("repositoryUrls", argocd.repository_urls)
pulumi.export("readRepositories", [repo.url for repo in settings.azure_devops.repositories])
pulumi.export("writeRepositories", [repo.url for repo in argocd_settings.hydration_targets])
pulumi.export("bootstrapApplication", "bootstrap" if argocd_settings.bootstrap else None)
pulumi.export("nextSteps", next_steps(settings, cluster))
