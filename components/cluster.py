"""The AKS cluster, new or adopted, with the OIDC issuer and workload identity on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.containerservice as containerservice
import pulumi_azure_native.containerservice.outputs as containerservice_outputs
import pulumi_azure_native.resources as resources
import pulumi_kubernetes as kubernetes

from components.kubeconfig import exec_kubeconfig

# Built-in role "Azure Kubernetes Service RBAC Cluster Admin" (docs/facts.md#azure-rbac).
AKS_RBAC_CLUSTER_ADMIN_ROLE = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"


class ExistingClusterError(RuntimeError):
    """The cluster to adopt cannot serve workload identity as it is."""


@dataclass(frozen=True)
class ExistingClusterFacts:
    """What the program needs from a cluster it adopts (looked up once, before any resource)."""

    id: str
    name: str
    resource_group: str
    issuer_url: str
    node_count: int
    """Nodes across the cluster's agent pools (the extension's HA mode needs 4)."""


def look_up_existing_cluster(resource_group: str, name: str) -> ExistingClusterFacts:
    """Read an existing cluster and refuse it, naming the `az aks update` flags, if it lacks what we need."""
    found = containerservice.get_managed_cluster(resource_group_name=resource_group, resource_name=name)
    oidc = found.oidc_issuer_profile
    workload_identity = found.security_profile.workload_identity if found.security_profile else None
    missing = []
    if not (oidc and oidc.enabled and oidc.issuer_url):
        missing.append("--enable-oidc-issuer")
    if not (workload_identity and workload_identity.enabled):
        missing.append("--enable-workload-identity")
    if missing:
        raise ExistingClusterError(
            f"AKS cluster {resource_group}/{name} cannot serve Entra Workload ID yet; run "
            f"`az aks update --resource-group {resource_group} --name {name} {' '.join(missing)}` "
            "and then pulumi up again (nothing was created)"
        )
    assert oidc is not None and oidc.issuer_url is not None  # checked above; narrows the Optional types
    return ExistingClusterFacts(
        id=found.id,
        name=found.name,
        resource_group=resource_group,
        issuer_url=oidc.issuer_url,
        node_count=sum(int(pool.count or 0) for pool in found.agent_pool_profiles or []),
    )


@dataclass(frozen=True)
class AksClusterArgs:
    location: str
    """Azure region of the resource group (and of a new cluster)."""
    name_prefix: str
    """Readable, stack-specific start of the Azure names (Azure adds a random suffix)."""
    kubelogin_mode: str
    """kubelogin --login mode used by the Kubernetes provider (azurecli, workloadidentity, msi)."""
    node_count: int = 2
    """Nodes in the system pool of a new cluster."""
    node_vm_size: str = "Standard_D4ds_v5"
    """VM size of the system pool of a new cluster."""
    system_pool_name: str = "system"
    """Name of the system pool of a new cluster."""
    kubernetes_version: str | None = None
    """Kubernetes version of a new cluster; None takes the AKS default."""
    admin_group_object_ids: Sequence[str] = ()
    """Entra groups that are cluster admins from the start."""
    existing: ExistingClusterFacts | None = None
    """Adopt this cluster instead of creating one."""
    protect: bool = False
    """Protect a new cluster from deletion."""
    grant_deployer_cluster_admin: bool = True
    """Give whoever runs pulumi up cluster admin through Azure RBAC (off when they already hold it)."""
    deployer_principal_type: str = "User"
    """Kind of principal running pulumi up (User, ServicePrincipal); Azure refuses a mismatch."""
    long_term_support: bool = False
    """Premium tier with AKS long-term support for a new cluster (older minors stay patched for two years)."""


class AksCluster(pulumi.ComponentResource):
    """A resource group for the stack and an AKS cluster (created or adopted) that Argo CD runs on."""

    resource_group_name: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    cluster_id: pulumi.Output[str]
    cluster_resource_group_name: pulumi.Output[str]
    oidc_issuer_url: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    provider: kubernetes.Provider
    created_cluster: containerservice.ManagedCluster | None
    """The cluster when this stack created it; None for an adopted one."""

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("argocd-wi:cluster:AksCluster", name, None, opts)
        group = resources.ResourceGroup(
            f"{name}-rg",
            location=args.location,
            tags={"purpose": "argocd-workload-identity"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.resource_group_name = group.name

        self.created_cluster = None
        if args.existing is None:
            cluster = self.created_cluster = self._create_cluster(name, args, group)
            self.cluster_name = cluster.name
            self.cluster_id = cluster.id
            self.cluster_resource_group_name = group.name
            self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(_issuer_url_of)
            # The resource group already holds the cluster, so granting there lets the assignment propagate
            # while AKS is still being built (minutes) instead of delaying Argo CD after it (docs/facts.md#azure-rbac:
            # Azure RBAC changes take several minutes).
            admin_scope: pulumi.Input[str] = group.id
        else:
            self.cluster_name = pulumi.Output.from_input(args.existing.name)
            self.cluster_id = pulumi.Output.from_input(args.existing.id)
            self.cluster_resource_group_name = pulumi.Output.from_input(args.existing.resource_group)
            self.oidc_issuer_url = pulumi.Output.from_input(args.existing.issuer_url)
            admin_scope = args.existing.id

        deployer_is_admin = (
            [self._grant_deployer_cluster_admin(name, admin_scope, args.deployer_principal_type)]
            if args.grant_deployer_cluster_admin else []
        )
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=self.cluster_resource_group_name,
            resource_name=self.cluster_name,
        )
        self.kubeconfig = pulumi.Output.secret(
            credentials.kubeconfigs.apply(lambda configs: exec_kubeconfig(configs[0].value, args.kubelogin_mode))
        )
        self.provider = kubernetes.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            delete_unreachable=True,
            # Nothing may talk to the cluster before the deployer's role exists: the kubeconfig alone
            # does not carry that ordering.
            opts=pulumi.ResourceOptions(parent=self, depends_on=deployer_is_admin),
        )
        self.register_outputs({
            "resource_group_name": self.resource_group_name,
            "cluster_name": self.cluster_name,
            "cluster_id": self.cluster_id,
            "oidc_issuer_url": self.oidc_issuer_url,
            "kubeconfig": self.kubeconfig,
        })

    def _create_cluster(
        self, name: str, args: AksClusterArgs, group: resources.ResourceGroup
    ) -> containerservice.ManagedCluster:
        return containerservice.ManagedCluster(
            f"{name}-aks",
            resource_group_name=group.name,
            location=args.location,
            dns_prefix=args.name_prefix,
            kubernetes_version=args.kubernetes_version,
            # Long-term support needs the Premium tier; without it both are left to AKS (Free tier, community support).
            sku=containerservice.ManagedClusterSKUArgs(
                name=containerservice.ManagedClusterSKUName.BASE, tier=containerservice.ManagedClusterSKUTier.PREMIUM
            ) if args.long_term_support else None,
            support_plan=containerservice.KubernetesSupportPlan.AKS_LONG_TERM_SUPPORT if args.long_term_support else None,
            identity=containerservice.ManagedClusterIdentityArgs(type=containerservice.ResourceIdentityType.SYSTEM_ASSIGNED),
            agent_pool_profiles=[containerservice.ManagedClusterAgentPoolProfileArgs(
                name=args.system_pool_name,
                mode=containerservice.AgentPoolMode.SYSTEM,
                count=args.node_count,
                vm_size=args.node_vm_size,
                os_type=containerservice.OSType.LINUX,
            )],
            oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
            ),
            aad_profile=containerservice.ManagedClusterAADProfileArgs(
                managed=True,
                enable_azure_rbac=True,
                admin_group_object_ids=list(args.admin_group_object_ids) or None,
            ),
            enable_rbac=True,
            disable_local_accounts=True,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )

    def _grant_deployer_cluster_admin(
        self, name: str, scope: pulumi.Input[str], principal_type: str
    ) -> authorization.RoleAssignment:
        """Let whoever runs `pulumi up` (user, CI identity) install Argo CD through Azure RBAC."""
        deployer = authorization.get_client_config_output()
        return authorization.RoleAssignment(
            f"{name}-deployer-cluster-admin",
            scope=scope,
            principal_id=deployer.object_id,
            # The SDK would default to User, which Azure rejects for a CI service principal.
            principal_type=principal_type,
            role_definition_id=deployer.subscription_id.apply(
                lambda subscription: f"/subscriptions/{subscription}/providers/Microsoft.Authorization/"
                f"roleDefinitions/{AKS_RBAC_CLUSTER_ADMIN_ROLE}"
            ),
            description="Lets the principal running pulumi up manage Argo CD on the cluster.",
            opts=pulumi.ResourceOptions(parent=self),
        )


def _issuer_url_of(profile: containerservice_outputs.ManagedClusterOIDCIssuerProfileResponse | None) -> str:
    # The profile is Optional in the SDK; with enabled=True AKS always returns the issuer URL.
    if profile is None or not profile.issuer_url:
        raise ExistingClusterError("AKS returned no OIDC issuer URL although the issuer is enabled")
    return profile.issuer_url
