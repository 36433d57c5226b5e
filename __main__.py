"""Argo CD on AKS reading private Azure DevOps repositories through Entra Workload ID: no PAT anywhere.

settings -> cluster (OIDC issuer) -> identity (client ID, principal ID) -> Azure DevOps grants and Argo CD.
"""

import pulumi
import pulumi_azure_native.resources as resources

from components.argocd_extension import ArgoCdExtension
from components.argocd_release import ArgoCdRelease
from components.cluster import AksCluster, look_up_existing_cluster
from components.devops_access import AzureDevOpsAccess
from components.entra_sso import EntraSingleSignOn
from components.registry_access import ContainerRegistryAccess
from components.spoke_access import SpokeAccess, look_up_spoke_cluster
from components.workload_identity import WorkloadIdentity
from settings import AdoptedSpoke, ExtensionInstall, HelmInstall, check_existing_cluster_capacity, load_settings
from wiring import (
    argocd_extension_args,
    argocd_release_args,
    bootstrap_args,
    cluster_args,
    devops_args,
    fleet_identity_args,
    fleet_service_accounts,
    identity_args,
    next_steps,
    registry_access_args,
    single_sign_on_app_args,
    single_sign_on_args,
    spoke_args,
)

settings = load_settings()
if settings.cluster.existing:
    # Before any resource: a cluster without workload identity, or too small for the extension's HA mode, stops here.
    existing = look_up_existing_cluster(settings.cluster.existing.resource_group, settings.cluster.existing.name)
    check_existing_cluster_capacity(settings, existing.node_count)
fleet = settings.fleet
# Before any resource: a spoke to adopt that does not authorize with Azure RBAC stops here, by name.
adopted_spokes = {
    spoke.name: look_up_spoke_cluster(spoke.source.resource_group, spoke.source.cluster_name)
    for spoke in (fleet.spokes if fleet else ()) if isinstance(spoke.source, AdoptedSpoke)
}

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
cluster = AksCluster("cluster", cluster_args(settings, group.name, group.id))
identity = WorkloadIdentity("argocd-wi", identity_args(settings, group.name, cluster.oidc_issuer_url))
devops = AzureDevOpsAccess("devops", devops_args(settings, identity.principal_id))
# Helm charts in ACR and Entra sign-in exist only when configured: a stack without them gets no new resource.
registries = (
    ContainerRegistryAccess("registries", registry_access_args(settings, group.name, identity.principal_id))
    if settings.charts.registries else None
)
sign_in_app = (
    EntraSingleSignOn("sso", single_sign_on_app_args(settings, cluster.oidc_issuer_url))
    if settings.argocd.single_sign_on else None
)
sign_in = single_sign_on_args(settings, sign_in_app)
# Fleet: a second identity for the application-controller and server, which reach the spokes (README, Fleet).
fleet_identity = (
    WorkloadIdentity("argocd-fleet", fleet_identity_args(settings, fleet, group.name, cluster.oidc_issuer_url))
    if fleet else None
)

# On a cluster this stack created, destroy deletes the cluster and skips the Kubernetes objects inside it.
argocd_opts = pulumi.ResourceOptions(providers=[cluster.provider], deleted_with=cluster.created_cluster)
bootstrap = bootstrap_args(settings, devops.descriptor, registries.grants_ready if registries else None)
argocd: ArgoCdRelease | ArgoCdExtension
match settings.argocd.install:
    case HelmInstall() as helm:
        fleet_accounts = fleet_service_accounts(fleet, fleet_identity.client_id) if fleet and fleet_identity else None
        argocd = ArgoCdRelease(
            "argocd", argocd_release_args(settings, helm, identity.client_id, bootstrap, sign_in, fleet_accounts), argocd_opts
        )
    case ExtensionInstall() as extension:
        argocd = ArgoCdExtension(
            "argocd", argocd_extension_args(settings, extension, cluster, identity.client_id, bootstrap, sign_in), argocd_opts
        )

# Fleet: one component per spoke, all in parallel; the hub's objects (cluster Secret, Application) go through the
# hub's provider and wait for Argo CD.
spokes: list[SpokeAccess] = []
if fleet and fleet_identity:
    # A spoke's Application needs Argo CD's CRDs (the release), not the hub's own bootstrap: spokes sync in parallel.
    installed = argocd.release if isinstance(argocd, ArgoCdRelease) else argocd
    # No deleted_with: the spokes outlive the hub's cluster, so destroy removes each role assignment, created spoke
    # cluster and spoke Application (whose finalizer cleans the spoke) for real.
    spoke_opts = pulumi.ResourceOptions(providers=[cluster.provider], depends_on=[installed])
    hub_cluster = cluster_args(settings, group.name, group.id)
    spokes = [
        SpokeAccess(
            f"spoke-{spoke.name}",
            spoke_args(
                settings, fleet, spoke, hub_cluster, fleet_identity, argocd.namespace, bootstrap, adopted_spokes.get(spoke.name)
            ),
            spoke_opts,
        )
        for spoke in fleet.spokes
    ]

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
pulumi.export("nextSteps", next_steps(settings, cluster))
if fleet and fleet_identity:
    pulumi.export("fleetIdentityClientId", fleet_identity.client_id)
    pulumi.export("fleetIdentityPrincipalId", fleet_identity.principal_id)
    pulumi.export("spokeServers", {spoke.name: access.server for spoke, access in zip(fleet.spokes, spokes, strict=True)})
