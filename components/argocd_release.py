"""Argo CD from the community argo-cd Helm chart, with a workload-identity repo-server (and commit-server)."""

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes.core.v1 as core
import pulumi_kubernetes.helm.v3 as helm

from components.argocd_registration import (
    BootstrapArgs,
    RepositoryRegistrationArgs,
    register_with_argocd,
)
from components.argocd_sign_in import (
    ACR_TOKEN_RESOURCE,
    ACR_TOKEN_RESOURCE_ENV,
    SingleSignOnArgs,
    oidc_config,
    rbac_policy,
    url_root_path,
)
from components.vocabulary import type_token
from components.workload_identity import WI_CLIENT_ID_ANNOTATION, WI_USE_LABEL

ARGO_HELM_REPOSITORY = "https://argoproj.github.io/argo-helm"
COMMIT_SERVER_PORT = 8086
# Bound on an install or upgrade; on failure Helm rolls back within the same bound again (docs/facts.md#pulumi).
INSTALL_TIMEOUT_SECONDS = 900
# Pod annotation carrying the client ID: a new identity changes the pod template, so the pods are
# recreated and the webhook injects the new identity (it only acts at pod creation).
RESTART_ON_IDENTITY_ANNOTATION = "argocd-aks-wi/client-id"


class FleetServiceAccountsArgs(TypedDict):
    """Who reaches the spokes: the fleet identity's client ID and the exact service accounts it trusts."""

    client_id: pulumi.Input[str]
    """Client ID of the fleet identity (known once its federated credentials exist)."""
    controller_service_account: str
    """Exact name of argocd-application-controller's service account."""
    server_service_account: str
    """Exact name of argocd-server's service account (it shows spoke pod logs; Entra SSO may trust it too)."""


class ArgoCdReleaseArgs(TypedDict):
    """The chart, where it goes, and the identity its repo-server (and commit-server) run as."""

    namespace: str
    """Namespace Argo CD runs in (created by this component)."""
    release_name: str
    """Helm release name; it fixes the names of Argo CD's objects."""
    chart_version: str
    """argo-cd chart version (8.3.1 or newer: older ones ship Argo CD with broken Azure DevOps workload identity)."""
    client_id: pulumi.Input[str]
    """Client ID of the managed identity, from WorkloadIdentity (known once its credentials exist)."""
    repo_server_service_account: str
    """Exact name of the repo-server's service account; the federated credential must trust this name."""
    commit_server_service_account: NotRequired[str]
    """Turns the Source Hydrator on: its commit-server runs as the identity under this service account."""
    registrations: list[RepositoryRegistrationArgs]
    """Repositories and credential templates to register."""
    bootstrap: NotRequired[BootstrapArgs]
    """An Application that proves access; absent, none is created."""
    reads_container_registries: NotRequired[bool]
    """Helm charts come from Azure Container Registry: the repo-server asks Entra for an ACR token, not an ARM one."""
    server_service_account: NotRequired[str]
    """Exact name of argocd-server's service account; with single_sign_on the app's federated credential trusts it."""
    single_sign_on: NotRequired[SingleSignOnArgs]
    """Entra sign-in through an app registration argocd-server uses with workload identity; absent, it is off."""
    fleet: NotRequired[FleetServiceAccountsArgs]
    """The application-controller and server run as the fleet identity, to reach spoke clusters; absent, they do not."""


class ArgoCdRelease(pulumi.ComponentResource):
    """Argo CD installed from the argo-cd chart, reading the registered repositories as the identity.

    Pass the cluster's Kubernetes provider in `providers`; with `deleted_with` set to a cluster this stack
    created, destroy skips the objects inside it (every child inherits the option; all of them live in the cluster).
    """

    namespace: pulumi.Output[str]
    """Namespace Argo CD runs in."""
    repository_urls: pulumi.Output[list[str]]
    """Registered repository URLs and credential-template prefixes Argo CD reads."""
    server_service_name: pulumi.Output[str]
    """Name of argocd-server's Service (what `kubectl port-forward` reaches the UI through)."""

    def __init__(self, name: str, args: ArgoCdReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("ArgoCdRelease"), name, None, opts)
        namespace = core.Namespace(
            f"{name}-namespace", metadata={"name": args["namespace"]},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.namespace = namespace.metadata.apply(lambda meta: meta.name or args["namespace"])
        release = helm.Release(
            f"{name}-release",
            name=args["release_name"],
            chart="argo-cd",
            version=args["chart_version"],
            repository_opts=helm.RepositoryOptsArgs(repo=ARGO_HELM_REPOSITORY),
            namespace=self.namespace,
            # The client ID is known only once the federated credentials exist, so the pods cannot ask Entra for
            # a token before the identity trusts them.
            # With spokes the fleet's server values win: its annotation carries the managed identity's client ID,
            # while sign-in names the app registration's in oidc.config (fleet_helm_values).
            values=helm_values(args) | fleet_helm_values(args.get("fleet")),
            atomic=True,
            cleanup_on_fail=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            opts=pulumi.ResourceOptions(
                parent=self,
                # A new namespace or release name replaces the release. Old and new would render the same
                # cluster-scoped objects (CRDs; ClusterRoles too when only the namespace changes), which Helm
                # refuses to share with another release, so the old release is uninstalled first.
                delete_before_replace=True,
            ),
        )
        self.installed: pulumi.Resource = release
        """The Helm release (Python callers): what waits for Argo CD's CRDs and pods, without its repository Secrets."""
        self.server_service_name = pulumi.Output.from_input(f"{chart_fullname(args['release_name'])}-server")
        self.repository_urls = register_with_argocd(
            self, name, args["registrations"], args.get("bootstrap"), self.namespace, release
        )
        self.register_outputs({
            "namespace": self.namespace, "repository_urls": self.repository_urls, "server_service_name": self.server_service_name,
        })


def chart_fullname(release_name: str) -> str:
    """The prefix of the argo-cd chart's object names: the release name when it contains the chart's nameOverride
    "argocd", otherwise "<release>-argocd" (argo-helm charts/argo-cd/templates/_common.tpl, argo-cd.fullname)."""
    return release_name if "argocd" in release_name else f"{release_name}-argocd"


def workload_identity_service_account(service_account: str, client_id: pulumi.Input[str]) -> dict[str, Any]:
    """Chart values for one Argo CD component that must run as the identity."""
    return {
        "serviceAccount": {
            "create": True,
            "name": service_account,
            "annotations": {WI_CLIENT_ID_ANNOTATION: client_id},
        },
        "podLabels": {WI_USE_LABEL: "true"},
        "podAnnotations": {RESTART_ON_IDENTITY_ANNOTATION: client_id},
    }


def helm_values(args: ArgoCdReleaseArgs) -> dict[str, Any]:
    """argo-cd chart values: only the repo-server (and the hydrator's commit-server) get the identity; with single
    sign-on, argocd-server runs as the sign-in app registration."""
    client_id = args["client_id"]
    values: dict[str, Any] = {
        "repoServer": workload_identity_service_account(args["repo_server_service_account"], client_id),
    }
    configs: dict[str, Any] = {}
    if args.get("reads_container_registries"):
        values["repoServer"]["env"] = [{"name": ACR_TOKEN_RESOURCE_ENV, "value": ACR_TOKEN_RESOURCE}]
    commit_server_service_account = args.get("commit_server_service_account")
    if commit_server_service_account is not None:
        values["commitServer"] = {"enabled": True, **workload_identity_service_account(commit_server_service_account, client_id)}
        configs["params"] = {
            "hydrator.enabled": "true",
            # The chart sets this same value itself from chart 8.1.2 on (argo-helm#3367), so it is redundant
            # but harmless; kept so that a deployed stack's Helm values do not change (docs/facts.md#source-hydrator).
            "commit.server": f"{chart_fullname(args['release_name'])}-commit-server:{COMMIT_SERVER_PORT}",
        }
    sign_in = args.get("single_sign_on")
    if sign_in is not None:
        if "server_service_account" not in args:
            raise ValueError("ArgoCdRelease: single_sign_on needs server_service_account, the account the app's credential trusts")
        values["server"] = workload_identity_service_account(args["server_service_account"], sign_in["client_id"])
        configs["cm"] = {"url": sign_in["url"], "oidc.config": oidc_config(sign_in["client_id"], sign_in["tenant_id"])}
        if url_root_path(sign_in["url"]):
            configs.setdefault("params", {})["server.rootpath"] = url_root_path(sign_in["url"])
        if sign_in["disable_local_admin"]:
            configs["cm"]["admin.enabled"] = "false"
        configs["rbac"] = {"policy.csv": rbac_policy(sign_in["group_roles"])}
    if configs:
        values["configs"] = configs
    return values


def fleet_helm_values(fleet: FleetServiceAccountsArgs | None) -> dict[str, Any]:
    """With spokes: the application-controller and server run as the fleet identity
    (docs/facts.md#argo-cd-cluster-secrets-for-aks-fleet). The server's annotation carries the managed identity's
    client ID; Entra SSO names its app registration's client ID in oidc.config instead, and the app's federated
    credential trusts the same server service account, so both work from one account (README, Fleet)."""
    if fleet is None:
        return {}
    return {
        "controller": workload_identity_service_account(fleet["controller_service_account"], fleet["client_id"]),
        "server": workload_identity_service_account(fleet["server_service_account"], fleet["client_id"]),
    }
