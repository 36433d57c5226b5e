"""Argo CD as the AKS Microsoft.ArgoCD extension (preview), with a workload-identity repo-server."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_azure_native.kubernetesconfiguration as kubernetesconfiguration

from components.argocd_registration import (
    BootstrapArgs,
    RepositoryRegistrationArgs,
    register_with_argocd,
)
from components.argocd_sign_in import SingleSignOnArgs, oidc_config, rbac_policy, url_address, url_root_path
from components.vocabulary import type_token

# The extension always installs into this namespace (docs/facts.md#aks-argo-cd-extension).
EXTENSION_NAMESPACE = "argocd"
# The extension's argocd-server service account: the AKS team's single sign-on walkthrough trusts
# system:serviceaccount:argocd:argocd-server (docs/facts.md#entra-sso).
EXTENSION_SERVER_ACCOUNT = "argocd-server"
# The extension's argocd-server Service, named like the upstream install's (docs/facts.md#aks-argo-cd-extension).
EXTENSION_SERVER_SERVICE = "argocd-server"


class ArgoCdExtensionArgs(TypedDict):
    """The extension, the cluster it goes on, and the identity its repo-server runs as."""

    cluster_name: pulumi.Input[str]
    """AKS cluster the extension is installed on."""
    cluster_resource_group_name: pulumi.Input[str]
    """Resource group of that cluster."""
    release_train: str
    """Extension release train, e.g. preview."""
    version: NotRequired[str]
    """Pin the extension to this version (minor auto-upgrade off); absent follows the release train."""
    high_availability: bool
    """redis-ha on (needs 4 nodes) or off."""
    extra_settings: NotRequired[dict[str, str]]
    """Further chart-style settings (configs.cm.*, global.domain, ...); the identity's settings are set here."""
    client_id: pulumi.Input[str]
    """Client ID of the managed identity, from WorkloadIdentity (known once its credentials exist)."""
    repo_server_service_account: str
    """Name of the extension's repo-server service account; the federated credential must trust this name."""
    registrations: list[RepositoryRegistrationArgs]
    """Repositories and credential templates to register."""
    bootstrap: NotRequired[BootstrapArgs]
    """An Application that proves access; absent, none is created."""
    single_sign_on: NotRequired[SingleSignOnArgs]
    """Entra sign-in through an app registration argocd-server uses with workload identity; absent, it is off."""


class ArgoCdExtension(pulumi.ComponentResource):
    """Argo CD installed as the AKS extension, reading the registered repositories as the identity.

    Pass the cluster's Kubernetes provider in `providers` (for the repository Secrets); with `deleted_with` set to a
    cluster this stack created, destroy skips the extension and the objects inside the cluster (every child inherits it).
    """

    namespace: pulumi.Output[str]
    """Namespace Argo CD runs in (always argocd)."""
    repository_urls: pulumi.Output[list[str]]
    """Registered repository URLs and credential-template prefixes Argo CD reads."""
    server_service_name: pulumi.Output[str]
    """Name of argocd-server's Service (what `kubectl port-forward` reaches the UI through)."""

    def __init__(self, name: str, args: ArgoCdExtensionArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("ArgoCdExtension"), name, None, opts)
        version = args.get("version")
        extension = kubernetesconfiguration.Extension(
            f"{name}-extension",
            extension_name="argocd",
            cluster_name=args["cluster_name"],
            cluster_resource_name="managedClusters",
            cluster_rp="Microsoft.ContainerService",
            resource_group_name=args["cluster_resource_group_name"],
            extension_type="Microsoft.ArgoCD",
            release_train=args["release_train"],
            version=version,
            # A pinned version is only honoured with minor auto-upgrade off (docs/facts.md#aks-argo-cd-extension).
            auto_upgrade_minor_version=version is None,
            # The client ID is known only once the federated credentials exist (see WorkloadIdentity.client_id).
            configuration_settings=extension_settings(
                args["client_id"], args["high_availability"], args.get("extra_settings", {}), args.get("single_sign_on")
            ),
            scope=kubernetesconfiguration.ScopeArgs(
                cluster=kubernetesconfiguration.ScopeClusterArgs(release_namespace=EXTENSION_NAMESPACE)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.installed: pulumi.Resource = extension
        """The extension (Python callers): what waits for Argo CD's CRDs and pods, without its repository Secrets."""
        self.namespace = pulumi.Output.from_input(EXTENSION_NAMESPACE)
        self.server_service_name = pulumi.Output.from_input(EXTENSION_SERVER_SERVICE)
        self.repository_urls = register_with_argocd(
            self, name, args["registrations"], args.get("bootstrap"), self.namespace, extension
        )
        self.register_outputs({
            "namespace": self.namespace, "repository_urls": self.repository_urls, "server_service_name": self.server_service_name,
        })


def extension_settings(
    client_id: pulumi.Input[str], high_availability: bool, extra_settings: dict[str, str],
    single_sign_on: SingleSignOnArgs | None = None,
) -> dict[str, pulumi.Input[str]]:
    """Microsoft.ArgoCD 1.0.0-preview settings: plain strings, the identity's client ID from its output. With single
    sign-on, the extension's own setting for the sign-in app's client ID (it annotates and labels argocd-server) and
    chart-style keys, dots inside a key escaped (docs/facts.md#aks-argo-cd-extension)."""
    settings: dict[str, pulumi.Input[str]] = dict(extra_settings)
    settings.update({
        "azure.workloadIdentity.enabled": "true",
        "azure.workloadIdentity.clientId": client_id,
        "redis-ha.enabled": "true" if high_availability else "false",
    })
    if single_sign_on is not None:
        settings.update({
            "azure.workloadIdentity.entraSSOClientId": single_sign_on["client_id"],
            "global.domain": url_address(single_sign_on["url"]),
            "configs.cm.oidc\\.config": oidc_config(single_sign_on["client_id"], single_sign_on["tenant_id"]),
            "configs.rbac.policy\\.csv": rbac_policy(single_sign_on["group_roles"]),
        })
        root_path = url_root_path(single_sign_on["url"])
        if root_path:
            # Under a path the chart's own url (https://<global.domain>) would be wrong, and the server needs its root.
            settings["configs.cm.url"] = single_sign_on["url"]
            settings["configs.params.server\\.rootpath"] = root_path
        if single_sign_on["disable_local_admin"]:
            settings["configs.cm.admin\\.enabled"] = "false"
    return settings
