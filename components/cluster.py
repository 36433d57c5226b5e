"""The AKS cluster, new or adopted, with the OIDC issuer and workload identity on."""

from dataclasses import dataclass
from typing import NotRequired, TypedDict

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.containerservice as containerservice
import pulumi_azure_native.containerservice.outputs as containerservice_outputs
import pulumi_kubernetes as kubernetes

from components.kubeconfig import cluster_endpoint, exec_kubeconfig
from components.roles import AKS_RBAC_CLUSTER_ADMIN, role_definition_id
from components.vocabulary import KubeloginMode, PrincipalType, type_token


class ExistingClusterError(RuntimeError):
    """A cluster to adopt cannot serve as it is: the message names the `az aks update` flags that fix it."""


@dataclass(frozen=True)
class ClusterFacts:
    """What the program needs from an AKS cluster it adopts, hub or spoke: read once, before any resource."""

    id: str
    name: str
    resource_group: str
    issuer_url: str | None
    """The OIDC issuer, when the cluster has one."""
    workload_identity: bool
    azure_rbac: bool
    """Entra ID with Azure RBAC for Kubernetes authorization: what a spoke needs for the fleet identity's role."""
    node_count: int
    """Nodes across the cluster's agent pools (the extension's HA mode needs 4)."""

    def fixes_for_workload_identity(self) -> list[str]:
        """The `az aks update` flags the cluster lacks to serve Entra Workload ID."""
        return [flag for flag, ok in (("--enable-oidc-issuer", bool(self.issuer_url)),
                                      ("--enable-workload-identity", self.workload_identity)) if not ok]

    def fixes_for_azure_rbac(self) -> list[str]:
        """The `az aks update` flags the cluster lacks for a role assignment to let Argo CD in."""
        return [] if self.azure_rbac else ["--enable-aad", "--enable-azure-rbac"]

    def refuse_unless(self, flags: list[str], why: str) -> None:
        if flags:
            raise ExistingClusterError(
                f"AKS cluster {self.resource_group}/{self.name} {why}; run `az aks update --resource-group "
                f"{self.resource_group} --name {self.name} {' '.join(flags)}` and then pulumi up again (nothing was created)"
            )


def look_up_cluster(resource_group: str, name: str) -> ClusterFacts:
    """One read of an AKS cluster to adopt (the program looks each one up once, hub and spokes alike)."""
    found = containerservice.get_managed_cluster(resource_group_name=resource_group, resource_name=name)
    oidc = found.oidc_issuer_profile
    workload_identity = found.security_profile.workload_identity if found.security_profile else None
    aad = found.aad_profile
    return ClusterFacts(
        id=found.id,
        name=found.name,
        resource_group=resource_group,
        issuer_url=oidc.issuer_url if oidc and oidc.enabled and oidc.issuer_url else None,
        workload_identity=bool(workload_identity and workload_identity.enabled),
        azure_rbac=bool(aad and aad.managed and aad.enable_azure_rbac),
        node_count=sum(pool.count or 0 for pool in found.agent_pool_profiles or []),
    )


class ExistingClusterArgs(TypedDict):
    """An AKS cluster to adopt, as the caller looked it up: never changed or deleted."""

    id: str
    """Azure resource ID of the cluster: the deployer's cluster-admin scope."""
    resource_group_name: str
    """Resource group of the cluster."""
    name: str
    """Name of the cluster."""
    oidc_issuer_url: str
    """The cluster's OIDC issuer URL (OIDC issuer and workload identity must be on)."""


class AksClusterArgs(TypedDict):
    """Where and how the cluster runs. Every field is required unless marked otherwise: the defaults live with the
    caller (this program: Pulumi.yaml's config schema)."""

    location: str
    """Azure region of a new cluster."""
    resource_group_name: pulumi.Input[str]
    """Resource group a new cluster is created in."""
    resource_group_id: pulumi.Input[str]
    """ID of that resource group: the deployer's cluster-admin role is granted there while a new cluster is built."""
    name_prefix: str
    """Readable, stack-specific start of the Azure names (the DNS prefix of a new cluster)."""
    kubelogin_mode: KubeloginMode
    """How kubelogin gets the Entra token for the Kubernetes provider."""
    node_count: int
    """Nodes in the system pool of a new cluster."""
    node_vm_size: str
    """VM size of the system pool of a new cluster."""
    system_pool_name: str
    """Name of the system pool of a new cluster."""
    kubernetes_version: NotRequired[str]
    """Kubernetes version of a new cluster; absent takes the AKS default."""
    long_term_support: bool
    """Premium tier with AKS long-term support for a new cluster."""
    admin_group_object_ids: NotRequired[list[str]]
    """Entra groups that are cluster admins from the start."""
    existing_cluster: NotRequired[ExistingClusterArgs]
    """Adopt this cluster instead of creating one."""
    grant_deployer_cluster_admin: bool
    """Give whoever runs pulumi up cluster admin through Azure RBAC (false when they already hold it)."""
    deployer_principal_type: PrincipalType
    """Kind of principal running pulumi up; Azure refuses a role assignment whose type does not match."""
    protect: bool
    """Protect a new cluster from deletion."""


class AksCluster(pulumi.ComponentResource):
    """An AKS cluster, created or adopted, that Argo CD runs on, with the OIDC issuer and workload identity on."""

    cluster_name: pulumi.Output[str]
    """Name of the cluster."""
    cluster_id: pulumi.Output[str]
    """Azure resource ID of the cluster."""
    cluster_resource_group_name: pulumi.Output[str]
    """Resource group of the cluster."""
    oidc_issuer_url: pulumi.Output[str]
    """The cluster's OIDC issuer: what a federated identity credential must trust."""
    kubeconfig: pulumi.Output[str]
    """Kubeconfig that runs kubelogin: the cluster's address and CA, no token or key (a secret all the same)."""
    api_server_url: pulumi.Output[str]
    """The cluster's API server URL (not a secret)."""
    certificate_authority_data: pulumi.Output[str]
    """The API server's CA certificate, base64 (public, not a secret): with the URL, all a kubelogin kubeconfig needs."""

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("AksCluster"), name, None, opts)
        existing = args.get("existing_cluster")
        self.created_cluster: containerservice.ManagedCluster | None = None
        """The cluster when this component created it (Python callers pass it as deleted_with); None when adopted."""
        if existing is None:
            cluster = self.created_cluster = create_managed_cluster(self, f"{name}-aks", args)
            self.cluster_name = cluster.name
            self.cluster_id = cluster.id
            self.cluster_resource_group_name = pulumi.Output.from_input(args["resource_group_name"])
            self.oidc_issuer_url = cluster.oidc_issuer_profile.apply(_issuer_url_of)
            # The resource group already holds the cluster, so granting there lets the assignment propagate
            # while AKS is still being built (minutes) instead of delaying Argo CD after it (docs/facts.md#azure-rbac:
            # Azure RBAC changes take several minutes).
            admin_scope: pulumi.Input[str] = args["resource_group_id"]
        else:
            self.cluster_name = pulumi.Output.from_input(existing["name"])
            self.cluster_id = pulumi.Output.from_input(existing["id"])
            self.cluster_resource_group_name = pulumi.Output.from_input(existing["resource_group_name"])
            self.oidc_issuer_url = pulumi.Output.from_input(existing["oidc_issuer_url"])
            admin_scope = existing["id"]

        deployer_is_admin = (
            [self._grant_deployer_cluster_admin(name, admin_scope, args["deployer_principal_type"])]
            if args["grant_deployer_cluster_admin"] else []
        )
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=self.cluster_resource_group_name,
            resource_name=self.cluster_name,
        )
        # The listing is a secret as a whole; the address and the CA certificate in it are not.
        endpoint = credentials.kubeconfigs.apply(lambda configs: cluster_endpoint(configs[0].value))
        self.api_server_url = pulumi.Output.unsecret(endpoint.apply(lambda found: found.server))
        self.certificate_authority_data = pulumi.Output.unsecret(endpoint.apply(lambda found: found.certificate_authority_data))
        login_mode = args["kubelogin_mode"]
        self.kubeconfig = pulumi.Output.secret(endpoint.apply(lambda found: exec_kubeconfig(found, login_mode)))
        self.provider: kubernetes.Provider = kubernetes.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            delete_unreachable=True,
            # Nothing may talk to the cluster before the deployer's role exists: the kubeconfig alone
            # does not carry that ordering.
            opts=pulumi.ResourceOptions(parent=self, depends_on=deployer_is_admin),
        )
        """Kubernetes provider for the cluster (Python callers; other languages build one from kubeconfig)."""
        self.register_outputs({
            "cluster_name": self.cluster_name,
            "cluster_id": self.cluster_id,
            "cluster_resource_group_name": self.cluster_resource_group_name,
            "oidc_issuer_url": self.oidc_issuer_url,
            "kubeconfig": self.kubeconfig,
            "api_server_url": self.api_server_url,
            "certificate_authority_data": self.certificate_authority_data,
        })

    def _grant_deployer_cluster_admin(
        self, name: str, scope: pulumi.Input[str], principal_type: PrincipalType
    ) -> authorization.RoleAssignment:
        """Let whoever runs `pulumi up` (user, CI identity) install Argo CD through Azure RBAC."""
        deployer = authorization.get_client_config_output()
        return authorization.RoleAssignment(
            f"{name}-deployer-cluster-admin",
            scope=scope,
            principal_id=deployer.object_id,
            # The SDK would default to User, which Azure rejects for a CI service principal.
            principal_type=principal_type,
            role_definition_id=role_definition_id(scope, AKS_RBAC_CLUSTER_ADMIN),
            description="Lets the principal running pulumi up manage Argo CD on the cluster.",
            opts=pulumi.ResourceOptions(parent=self),
        )


def create_managed_cluster(owner: pulumi.Resource, resource_name: str, args: AksClusterArgs) -> containerservice.ManagedCluster:
    """A new cluster with the secure defaults: OIDC issuer, workload identity, Entra ID with Azure RBAC, no local
    accounts. The hub and every spoke this program creates are built here."""
    long_term_support = args["long_term_support"]
    return containerservice.ManagedCluster(
        resource_name,
        resource_group_name=args["resource_group_name"],
        location=args["location"],
        dns_prefix=args["name_prefix"],
        kubernetes_version=args.get("kubernetes_version"),
        # Long-term support needs the Premium tier; without it both are left to AKS (Free tier, community support).
        sku=containerservice.ManagedClusterSKUArgs(
            name=containerservice.ManagedClusterSKUName.BASE, tier=containerservice.ManagedClusterSKUTier.PREMIUM
        ) if long_term_support else None,
        support_plan=containerservice.KubernetesSupportPlan.AKS_LONG_TERM_SUPPORT if long_term_support else None,
        identity=containerservice.ManagedClusterIdentityArgs(type=containerservice.ResourceIdentityType.SYSTEM_ASSIGNED),
        agent_pool_profiles=[containerservice.ManagedClusterAgentPoolProfileArgs(
            name=args["system_pool_name"],
            mode=containerservice.AgentPoolMode.SYSTEM,
            count=args["node_count"],
            vm_size=args["node_vm_size"],
            os_type=containerservice.OSType.LINUX,
        )],
        oidc_issuer_profile=containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
        security_profile=containerservice.ManagedClusterSecurityProfileArgs(
            workload_identity=containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
        ),
        aad_profile=containerservice.ManagedClusterAADProfileArgs(
            managed=True,
            enable_azure_rbac=True,
            admin_group_object_ids=args.get("admin_group_object_ids") or None,
        ),
        enable_rbac=True,
        disable_local_accounts=True,
        opts=pulumi.ResourceOptions(parent=owner, protect=args["protect"]),
    )


def _issuer_url_of(profile: containerservice_outputs.ManagedClusterOIDCIssuerProfileResponse | None) -> str:
    # The profile is Optional in the SDK; with enabled=True AKS always returns the issuer URL.
    if profile is None or not profile.issuer_url:
        raise ExistingClusterError("AKS returned no OIDC issuer URL although the issuer is enabled")
    return profile.issuer_url
