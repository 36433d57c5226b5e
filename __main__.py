"""Argo CD on AKS reading private Azure DevOps repositories through Entra Workload ID: no PAT anywhere.

settings -> cluster (OIDC issuer) -> identity (client ID, principal ID) -> Azure DevOps grants and Argo CD.
"""

import pulumi
import pulumi_azure_native.resources as resources

from components.cluster import AksCluster
from components.devops_access import AzureDevOpsAccess
from components.entra_sso import EntraSingleSignOn
from components.registry_access import ContainerRegistryAccess
from components.workload_identity import WorkloadIdentity
from settings import load_settings
from wiring import (
    bootstrap_args,
    cluster_args,
    connect_spokes,
    devops_args,
    fleet_identity_args,
    formerly,
    identity_args,
    install_argocd,
    look_up_adopted_clusters,
    next_steps,
    registry_access_args,
    single_sign_on_app_args,
    single_sign_on_args,
)

settings = load_settings()
# Before any resource: each cluster the stack adopts is read once, and one that cannot serve stops here, by name.
adopted = look_up_adopted_clusters(settings)

# The stack's own resource group (the identity, and a new cluster). It was the cluster component's child before
# the components became a package; the alias keeps it, and so everything in it, from being replaced.
group = resources.ResourceGroup(
    "resource-group",
    location=settings.cluster.location,
    tags={"purpose": "argocd-workload-identity"},
    opts=pulumi.ResourceOptions(protect=settings.protect, aliases=[
        pulumi.Alias(name="cluster-rg", parent=pulumi.create_urn("cluster", "argocd-wi:cluster:AksCluster")),
    ]),
)
hub = cluster_args(settings, group.name, group.id, adopted.hub)
cluster = AksCluster("cluster", hub, formerly("argocd-wi:cluster:AksCluster"))
identity = WorkloadIdentity(
    "argocd-wi", identity_args(settings, group.name, cluster.oidc_issuer_url), formerly("argocd-wi:identity:WorkloadIdentity"),
)
devops = AzureDevOpsAccess("devops", devops_args(settings, identity.principal_id), formerly("argocd-wi:devops:AzureDevOpsAccess"))
# Helm charts in ACR, Entra sign-in and a fleet exist only when configured: a stack without them gets no new resource.
registries = (
    ContainerRegistryAccess("registries", registry_access_args(settings, group.name, identity.principal_id))
    if settings.charts.registries else None
)
sign_in_app = (
    EntraSingleSignOn("sso", single_sign_on_app_args(settings, cluster.oidc_issuer_url))
    if settings.argocd.single_sign_on else None
)
# Fleet: a second identity for the application-controller and server, which reach the spokes (docs/fleet.md).
fleet_identity = (
    WorkloadIdentity(
        "argocd-fleet", fleet_identity_args(settings, settings.fleet, group.name, cluster.oidc_issuer_url),
        formerly("argocd-wi:identity:WorkloadIdentity"),
    )
    if settings.fleet else None
)

bootstrap = bootstrap_args(settings, devops.descriptor, registries.grants_ready if registries else None)
argocd = install_argocd(
    settings, cluster, identity.client_id, bootstrap, single_sign_on_args(settings, sign_in_app),
    fleet_identity.client_id if fleet_identity else None,
)
spokes = connect_spokes(settings, hub, cluster, fleet_identity, argocd, bootstrap, adopted.spokes)

pulumi.export("clusterName", cluster.cluster_name)
pulumi.export("clusterResourceGroup", cluster.cluster_resource_group_name)
pulumi.export("apiServerUrl", cluster.api_server_url)
pulumi.export("clusterCaData", cluster.certificate_authority_data)
pulumi.export("oidcIssuerUrl", cluster.oidc_issuer_url)
pulumi.export("identityName", identity.identity_name)
pulumi.export("identityResourceGroup", group.name)
pulumi.export("identityClientId", identity.client_id)
pulumi.export("identityPrincipalId", identity.principal_id)
pulumi.export("tenantId", identity.tenant_id)
pulumi.export("azureDevOpsEntitlementId", devops.entitlement_id)
pulumi.export("azureDevOpsOrgUrl", settings.azure_devops.organization_url)
pulumi.export("argocdInstallMethod", settings.argocd.install_method)
pulumi.export("argocdNamespace", argocd.namespace)
pulumi.export("repoServerServiceAccount", settings.argocd.repo_server.name)
pulumi.export("commitServerServiceAccount", settings.argocd.commit_server.name if settings.argocd.commit_server else None)
pulumi.export("repositoryUrls", argocd.repository_urls)
pulumi.export("readRepositories", [repo.url for repo in settings.azure_devops.repositories])
pulumi.export("writeRepositories", [repo.url for repo in settings.argocd.hydration_targets])
pulumi.export("helmChartRepositories", [repo.url for repo in settings.charts.repositories])
pulumi.export("singleSignOnClientId", sign_in_app.client_id if sign_in_app else None)
pulumi.export("bootstrapApplication", "bootstrap" if settings.argocd.bootstrap else None)
pulumi.export("nextSteps", next_steps(settings, cluster, argocd))
if fleet_identity:
    pulumi.export("fleetIdentityClientId", fleet_identity.client_id)
    pulumi.export("fleetIdentityPrincipalId", fleet_identity.principal_id)
    pulumi.export("spokeServers", {name: access.server for name, access in spokes.items()})
