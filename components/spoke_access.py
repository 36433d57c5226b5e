"""One spoke cluster the hub's Argo CD deploys to: adopted or created, reachable by the fleet identity through Azure
RBAC, and registered with Argo CD by a cluster Secret that holds no credential (docs/facts.md#argo-cd-cluster-secrets-for-aks-fleet)."""


import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.containerservice as containerservice
import pulumi_kubernetes.core.v1 as core

from components.argocd_registration import (
    SECRET_TYPE_LABEL,
    BootstrapArgs,
    create_bootstrap_application,
)
from components.cluster import AksClusterArgs, create_managed_cluster
from components.kubeconfig import AKS_ENTRA_SERVER_APP_ID, cluster_endpoint
from components.roles import AKS_RBAC_ADMIN, AKS_RBAC_CLUSTER_ADMIN, AKS_RBAC_WRITER, role_definition_id
from components.vocabulary import PrincipalType, SpokeAccessRole, type_token

# The built-in role each access role stands for (Kubernetes authorization through Azure RBAC).
SPOKE_ROLE_DEFINITIONS = {
    SpokeAccessRole.CLUSTER_ADMIN: AKS_RBAC_CLUSTER_ADMIN,
    SpokeAccessRole.ADMIN: AKS_RBAC_ADMIN,
    SpokeAccessRole.WRITER: AKS_RBAC_WRITER,
}
# What Argo CD runs to get an Entra token for a spoke: argocd-k8s-auth wraps kubelogin's get-token.
EXEC_COMMAND = "argocd-k8s-auth"
EXEC_API_VERSION = "client.authentication.k8s.io/v1beta1"
CLUSTER_SECRET_TYPE = "cluster"
# Annotations on the cluster Secret: where the spoke lives and what the hub may do there, for templates and people.
RESOURCE_ID_ANNOTATION = "argocd-aks-wi/azure-resource-id"
ACCESS_ROLE_ANNOTATION = "argocd-aks-wi/access-role"


class AdoptedClusterArgs(TypedDict):
    """A spoke cluster that exists: never changed or deleted. The caller looks it up (cluster.look_up_cluster) before
    any resource, so that a cluster without Azure RBAC stops pulumi up before anything is created."""

    id: str
    """Azure resource ID of the cluster: the role assignment's scope."""
    resource_group_name: str
    """Resource group of the cluster."""
    name: str
    """Name of the cluster."""


class SpokeAccessArgs(TypedDict):
    """One spoke: where it is (adopted or created), who may reach it with which role, and how Argo CD knows it."""

    display_name: str
    """Argo CD's name for the cluster (the Secret's `name`, what Applications and generators see)."""
    existing_cluster: NotRequired[AdoptedClusterArgs]
    """Adopt this cluster; exactly one of existing_cluster and new_cluster."""
    new_cluster: NotRequired[AksClusterArgs]
    """Create the spoke with these settings (the hub's secure defaults)."""
    principal_id: pulumi.Input[str]
    """Object (principal) ID of the fleet identity: what the role assignment grants to."""
    client_id: pulumi.Input[str]
    """Client ID of the fleet identity: what argocd-k8s-auth asks Entra for a token as."""
    tenant_id: pulumi.Input[str]
    """Entra tenant of the fleet identity."""
    access_role: SpokeAccessRole
    """Built-in role on the spoke cluster's scope, and nothing wider."""
    argocd_namespace: pulumi.Input[str]
    """Namespace of the hub's Argo CD, where the cluster Secret goes."""
    labels: dict[str, str]
    """Labels on the cluster Secret, for the ApplicationSet cluster generator."""
    bootstrap: NotRequired[BootstrapArgs]
    """An Application on this spoke that pulumi up waits for; absent, none."""


class SpokeAccess(pulumi.ComponentResource):
    """A spoke AKS cluster registered with the hub's Argo CD, reached as the fleet identity with no stored credential.

    Pass the hub's Kubernetes provider in `providers` (the Secret and Application live on the hub) and Argo CD in
    `depends_on`. `deleted_with` is refused: every child would inherit it, so destroy would skip the role assignment
    on the spoke, a created spoke cluster and the Application whose finalizer cleans the spoke up.
    """

    cluster_id: pulumi.Output[str]
    """Azure resource ID of the spoke cluster: the role assignment's scope."""
    server: pulumi.Output[str]
    """The spoke's API server URL: the destination Applications name."""
    secret_name: pulumi.Output[str]
    """Name of the Argo CD cluster Secret on the hub."""

    def __init__(self, name: str, args: SpokeAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if opts is not None and opts.deleted_with is not None:
            raise ValueError(
                f"SpokeAccess {name}: deleted_with would be inherited by the spoke's role assignment, a created spoke "
                "cluster and its bootstrap Application, so destroy would leave them behind; leave it unset"
            )
        super().__init__(type_token("SpokeAccess"), name, None, opts)
        cluster_name, group_name = self._cluster(name, args)
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=group_name, resource_name=cluster_name, opts=pulumi.InvokeOutputOptions(parent=self),
        )
        endpoint = credentials.kubeconfigs.apply(lambda configs: cluster_endpoint(configs[0].value))
        self.server = endpoint.apply(lambda found: found.server)
        role = args["access_role"]
        access = authorization.RoleAssignment(
            f"{name}-access",
            scope=self.cluster_id,
            principal_id=args["principal_id"],
            # A managed identity is a service principal; the SDK's default (User) would be refused.
            principal_type=PrincipalType.SERVICE_PRINCIPAL,
            role_definition_id=role_definition_id(self.cluster_id, SPOKE_ROLE_DEFINITIONS[role]),
            description=f"Lets the hub's Argo CD deploy to spoke {args['display_name']} as the fleet identity.",
            opts=pulumi.ResourceOptions(parent=self),
        )
        secret_key = f"cluster-{args['display_name']}"
        secret = core.Secret(
            f"{name}-cluster-secret",
            metadata={
                "name": secret_key,
                "namespace": args["argocd_namespace"],
                "labels": {**args["labels"], SECRET_TYPE_LABEL: CLUSTER_SECRET_TYPE, "app.kubernetes.io/part-of": "argocd"},
                "annotations": {RESOURCE_ID_ANNOTATION: self.cluster_id, ACCESS_ROLE_ANNOTATION: str(role)},
            },
            string_data={
                "name": args["display_name"],
                "server": self.server,
                "config": pulumi.Output.all(
                    args["client_id"], args["tenant_id"], endpoint.apply(lambda found: found.certificate_authority_data)
                ).apply(lambda values: cluster_secret_config(str(values[0]), str(values[1]), str(values[2]))),
            },
            # Not after the role assignment: Argo CD retries a spoke it cannot reach yet, and waiting here would put
            # the role's propagation (minutes) on every spoke's path (docs/facts.md#azure-rbac).
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.secret_name = secret.metadata.apply(lambda meta: meta.name or secret_key)
        if "bootstrap" in args:
            create_bootstrap_application(
                self, name, args["bootstrap"], args["argocd_namespace"],
                # The sync can succeed only once Argo CD knows the spoke and the identity's role there exists.
                # Deleted before them, too: its cascade finalizer removes what it deployed on the spoke while the hub's
                # Argo CD can still reach it.
                [secret, access, *_depends_on_of(opts)],
                application_name=f"bootstrap-{args['display_name']}", destination_server=self.server,
            )
        self.register_outputs({"cluster_id": self.cluster_id, "server": self.server, "secret_name": self.secret_name})

    def _cluster(self, name: str, args: SpokeAccessArgs) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The spoke's name and resource group, created or adopted; sets cluster_id."""
        existing, new = args.get("existing_cluster"), args.get("new_cluster")
        if (existing is None) == (new is None):
            raise ValueError("SpokeAccess needs exactly one of existing_cluster and new_cluster")
        if new is not None:
            cluster = create_managed_cluster(self, f"{name}-aks", new)
            self.cluster_id = cluster.id
            return cluster.name, pulumi.Output.from_input(new["resource_group_name"])
        assert existing is not None  # exactly one, checked above
        self.cluster_id = pulumi.Output.from_input(existing["id"])
        return pulumi.Output.from_input(existing["name"]), pulumi.Output.from_input(existing["resource_group_name"])


def _depends_on_of(opts: pulumi.ResourceOptions | None) -> list[pulumi.Resource]:
    """The component's depends_on (Argo CD), which the Application needs for its CRD: children do not inherit it."""
    found = opts.depends_on if opts else None
    if isinstance(found, pulumi.Resource):
        return [found]
    return [r for r in found if isinstance(r, pulumi.Resource)] if isinstance(found, (list, tuple)) else []


def cluster_secret_config(client_id: str, tenant_id: str, certificate_authority: str) -> str:
    """The cluster Secret's `config`: run argocd-k8s-auth as the fleet identity, trust the spoke's CA. No bearer
    token, password, client key or certificate: the token is fetched from Entra on every connection."""
    return json.dumps({
        "execProviderConfig": {
            "command": EXEC_COMMAND,
            "args": ["azure"],
            "apiVersion": EXEC_API_VERSION,
            "env": {
                "AAD_LOGIN_METHOD": "workloadidentity",
                "AAD_ENVIRONMENT_NAME": "AzurePublicCloud",
                "AAD_SERVER_APPLICATION_ID": AKS_ENTRA_SERVER_APP_ID,
                # Named here rather than left to what the webhook injects into the pod: right whichever client ID
                # the server's service account carries (docs/fleet.md).
                "AZURE_CLIENT_ID": client_id,
                "AZURE_TENANT_ID": tenant_id,
            },
        },
        "tlsClientConfig": {"insecure": False, "caData": certificate_authority},
    }, sort_keys=True)
