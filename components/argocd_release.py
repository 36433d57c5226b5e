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


class ServiceAccountIdentityArgs(TypedDict):
    """One Argo CD component's service account, and the identity it runs as through workload identity."""

    name: str
    """Exact name of the service account: the federated credential trusting it names this account in its subject."""
    client_id: pulumi.Input[str]
    """Client ID the account is annotated with (known once that identity's federated credentials exist)."""


class ArgoCdReleaseArgs(TypedDict):
    """The chart, where it goes, and the identity each of its components that needs one runs as."""

    namespace: str
    """Namespace Argo CD runs in (created by this component)."""
    release_name: str
    """Helm release name; it fixes the names of Argo CD's objects."""
    chart_version: str
    """argo-cd chart version (see docs/facts.md#argo-cd-versions-and-bugs for the oldest that works)."""
    repo_server: ServiceAccountIdentityArgs
    """The repo-server, which reads the repositories."""
    commit_server: NotRequired[ServiceAccountIdentityArgs]
    """Turns the Source Hydrator on: the commit-server, which pushes the hydrated manifests."""
    server: NotRequired[ServiceAccountIdentityArgs]
    """argocd-server, when it runs as an identity (Entra sign-in, or a fleet's spokes); needed with single_sign_on."""
    application_controller: NotRequired[ServiceAccountIdentityArgs]
    """The application-controller, when it reaches spoke clusters."""
    registrations: list[RepositoryRegistrationArgs]
    """Repositories and credential templates to register."""
    bootstrap: NotRequired[BootstrapArgs]
    """An Application that proves access; absent, none is created."""
    reads_container_registries: NotRequired[bool]
    """Helm charts come from Azure Container Registry: the repo-server asks Entra for an ACR token, not an ARM one."""
    single_sign_on: NotRequired[SingleSignOnArgs]
    """Entra sign-in through an app registration argocd-server uses with workload identity; absent, it is off."""


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
            # Each client ID is known only once its federated credentials exist, so the pods cannot ask Entra for a
            # token before the identity trusts them.
            values=helm_values(args),
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


def workload_identity_service_account(account: ServiceAccountIdentityArgs) -> dict[str, Any]:
    """Chart values for one Argo CD component that runs as an identity."""
    return {
        "serviceAccount": {
            "create": True,
            "name": account["name"],
            "annotations": {WI_CLIENT_ID_ANNOTATION: account["client_id"]},
        },
        "podLabels": {WI_USE_LABEL: "true"},
        "podAnnotations": {RESTART_ON_IDENTITY_ANNOTATION: account["client_id"]},
    }


# The chart's key for each component that may run as an identity.
_CHART_COMPONENTS = {"repo_server": "repoServer", "server": "server", "application_controller": "controller"}


def helm_values(args: ArgoCdReleaseArgs) -> dict[str, Any]:
    """argo-cd chart values: each component given an identity runs as it (the caller decides which); with the
    hydrator, the commit-server too; with single sign-on, argocd-server's oidc.config names the app registration."""
    values: dict[str, Any] = {
        chart_key: workload_identity_service_account(args[key])  # type: ignore[literal-required]
        for key, chart_key in _CHART_COMPONENTS.items() if key in args
    }
    configs: dict[str, Any] = {}
    if args.get("reads_container_registries"):
        values["repoServer"]["env"] = [{"name": ACR_TOKEN_RESOURCE_ENV, "value": ACR_TOKEN_RESOURCE}]
    commit_server = args.get("commit_server")
    if commit_server is not None:
        values["commitServer"] = {"enabled": True, **workload_identity_service_account(commit_server)}
        configs["params"] = {
            "hydrator.enabled": "true",
            # The chart sets this same value itself from chart 8.1.2 on (argo-helm#3367), so it is redundant
            # but harmless; kept so that a deployed stack's Helm values do not change (docs/facts.md#source-hydrator).
            "commit.server": f"{chart_fullname(args['release_name'])}-commit-server:{COMMIT_SERVER_PORT}",
        }
    sign_in = args.get("single_sign_on")
    if sign_in is not None:
        if "server" not in args:
            raise ValueError("ArgoCdRelease: single_sign_on needs server, the account the app's federated credential trusts")
        configs["cm"] = {"url": sign_in["url"], "oidc.config": oidc_config(sign_in["client_id"], sign_in["tenant_id"])}
        root_path = url_root_path(sign_in["url"])
        if root_path:
            configs.setdefault("params", {})["server.rootpath"] = root_path
        if sign_in["disable_local_admin"]:
            configs["cm"]["admin.enabled"] = "false"
        configs["rbac"] = {"policy.csv": rbac_policy(sign_in["group_roles"])}
    if configs:
        values["configs"] = configs
    return values
