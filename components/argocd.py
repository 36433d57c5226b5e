"""Argo CD with a workload-identity repo-server, and the private repositories registered without credentials."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pulumi
import pulumi_kubernetes as kubernetes
import pulumi_kubernetes.core.v1 as core

# Pod label and service-account annotation the Entra workload identity webhook acts on (docs/facts.md#entra-workload-identity).
WI_USE_LABEL = "azure.workload.identity/use"
WI_CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"
# Pod annotation carrying the client ID: a new identity changes the pod template, so the pods are
# recreated and the webhook injects the new identity (it only acts at pod creation).
RESTART_ON_IDENTITY_ANNOTATION = "argocd-aks-wi/client-id"
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
ARGO_HELM_REPOSITORY = "https://argoproj.github.io/argo-helm"
COMMIT_SERVER_PORT = 8086

HELM = "helm"
EXTENSION = "extension"


class SecretType(StrEnum):
    """What an Argo CD repository Secret registers, as its secret-type label says (docs/facts.md#argo-cd-repository-secrets)."""

    REPOSITORY = "repository"
    """One repository Argo CD reads."""
    CREDENTIAL_TEMPLATE = "repo-creds"
    """Every repository whose URL starts with the Secret's URL (the longest prefix wins)."""
    REPOSITORY_WRITE = "repository-write"
    """One repository the Source Hydrator pushes to (docs/facts.md#source-hydrator)."""


@dataclass(frozen=True)
class RepositoryRegistration:
    """One Argo CD repository secret or credential template, all credential-free."""

    key: str
    """Stable, DNS-safe name of the Kubernetes Secret (derived from the URL)."""
    url: str
    """Repository URL, or for a template the URL prefix it covers."""
    secret_type: SecretType = SecretType.REPOSITORY
    """Read one repository, read by URL prefix, or push to one repository."""


@dataclass(frozen=True)
class HelmInstall:
    release_name: str
    """Helm release name (fixes the names of Argo CD's objects)."""
    chart_version: str
    """argo-cd chart version, at or above the workload-identity floor."""
    timeout_seconds: int = 900
    """Bound on the install or upgrade; on failure Helm rolls back (atomic)."""


@dataclass(frozen=True)
class ExtensionInstall:
    cluster_name: pulumi.Input[str]
    """AKS cluster the extension is installed on."""
    cluster_resource_group_name: pulumi.Input[str]
    """Resource group of that cluster."""
    release_train: str = "preview"
    """Extension release train."""
    version: str | None = None
    """Pinned version; None follows the release train with minor auto-upgrade."""
    high_availability: bool = False
    """redis-ha on (needs 4 nodes) or off."""
    extra_settings: Mapping[str, str] = field(default_factory=dict)
    """Further chart-style settings from the user."""


@dataclass(frozen=True)
class BootstrapApplication:
    repository_url: str
    """Private repository the Application syncs from (must be registered)."""
    path: str
    """Path of the manifests inside the repository."""
    timeout_seconds: int
    """How long pulumi up waits for Synced and Healthy before failing."""
    target_revision: str = "HEAD"
    """Branch, tag or commit to sync."""


@dataclass(frozen=True)
class ArgoCdArgs:
    namespace: str
    """Namespace Argo CD runs in."""
    client_id: pulumi.Input[str]
    """Client ID of the managed identity the repo-server (and commit-server) run as."""
    repo_server_service_account: str
    """Exact name of the repo-server's service account; the federated credential trusts this name."""
    registrations: Sequence[RepositoryRegistration]
    """Repositories and credential templates to register."""
    kubernetes_provider: kubernetes.Provider
    """Provider for the cluster Argo CD runs on."""
    identity_credentials: Sequence[pulumi.Resource]
    """Federated credentials that must exist before Argo CD starts asking Entra for tokens."""
    helm: HelmInstall | None = None
    """Install the argo-cd chart (exactly one of helm and extension)."""
    extension: ExtensionInstall | None = None
    """Install the AKS Microsoft.ArgoCD extension."""
    commit_server_service_account: str | None = None
    """Enable the Source Hydrator; its commit-server runs as the identity under this service account."""
    bootstrap: BootstrapApplication | None = None
    """Application that proves access: pulumi up waits until it has synced."""
    access_grants: Sequence[pulumi.Resource] = ()
    """Azure DevOps grants the bootstrap Application's first sync needs (it waits for them)."""
    deleted_with: pulumi.Resource | None = None
    """The cluster, when this stack created it: deleting it removes every Kubernetes object, so destroy skips them."""


class ArgoCd(pulumi.ComponentResource):
    """Argo CD installed by Helm or as the AKS extension, reading the registered repositories as the identity."""

    namespace: pulumi.Output[str]
    repository_urls: pulumi.Output[list[str]]
    install: pulumi.Resource
    secrets: list[core.Secret]

    def __init__(self, name: str, args: ArgoCdArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("argocd-wi:argocd:ArgoCd", name, None, opts)
        if (args.helm is None) == (args.extension is None):
            raise ValueError("ArgoCdArgs needs exactly one of helm and extension")
        # On a cluster this stack created, destroy deletes the cluster and skips the objects inside it: no wait on
        # Argo CD's finalizers or a namespace stuck in Terminating.
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.kubernetes_provider, deleted_with=args.deleted_with)
        if args.helm is not None:
            namespace = core.Namespace(
                f"{name}-namespace", metadata={"name": args.namespace}, opts=k8s_opts
            )
            self.namespace = namespace.metadata.apply(lambda meta: meta.name or args.namespace)
            self.install = self._install_helm(name, args, args.helm, k8s_opts)
        else:
            assert args.extension is not None
            self.namespace = pulumi.Output.from_input(args.namespace)
            self.install = self._install_extension(name, args, args.extension)

        # Repository secrets are read by a running Argo CD; creating them after the install also means
        # they are deleted before it, and the extension creates the namespace they live in.
        after_install = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[self.install]))
        self.secrets = [
            core.Secret(
                f"{name}-{registration.key}",
                metadata={
                    "name": registration.key,
                    "namespace": self.namespace,
                    "labels": {
                        SECRET_TYPE_LABEL: registration.secret_type.value,
                        "app.kubernetes.io/part-of": "argocd",
                    },
                },
                string_data=repository_secret_data(registration),
                opts=after_install,
            )
            for registration in args.registrations
        ]
        self.repository_urls = pulumi.Output.from_input(
            [r.url for r in args.registrations if r.secret_type != SecretType.REPOSITORY_WRITE]
        )
        if args.bootstrap is not None:
            self._bootstrap_application(name, args.bootstrap, args.access_grants, k8s_opts)
        self.register_outputs({"namespace": self.namespace, "repository_urls": self.repository_urls})

    def _install_helm(
        self, name: str, args: ArgoCdArgs, helm: HelmInstall, k8s_opts: pulumi.ResourceOptions
    ) -> pulumi.Resource:
        import pulumi_kubernetes.helm.v3 as helm_v3

        return helm_v3.Release(
            f"{name}-release",
            name=helm.release_name,
            chart="argo-cd",
            version=helm.chart_version,
            repository_opts=helm_v3.RepositoryOptsArgs(repo=ARGO_HELM_REPOSITORY),
            namespace=self.namespace,
            values=helm_values(
                args.client_id, helm.release_name, args.repo_server_service_account, args.commit_server_service_account
            ),
            atomic=True,
            cleanup_on_fail=True,
            timeout=helm.timeout_seconds,
            opts=pulumi.ResourceOptions.merge(
                k8s_opts,
                # The pods must not ask Entra for a token before the credential that trusts them exists;
                # nothing in the values refers to the credentials, so the order is stated here.
                pulumi.ResourceOptions(
                    depends_on=list(args.identity_credentials),
                    # A new namespace or release name replaces the release. Old and new would render the same
                    # cluster-scoped objects (CRDs; ClusterRoles too when only the namespace changes), which Helm
                    # refuses to share with another release, so the old release is uninstalled first.
                    delete_before_replace=True,
                ),
            ),
        )

    def _install_extension(self, name: str, args: ArgoCdArgs, extension: ExtensionInstall) -> pulumi.Resource:
        import pulumi_azure_native.kubernetesconfiguration as kubernetesconfiguration

        return kubernetesconfiguration.Extension(
            f"{name}-extension",
            extension_name="argocd",
            cluster_name=extension.cluster_name,
            cluster_resource_name="managedClusters",
            cluster_rp="Microsoft.ContainerService",
            resource_group_name=extension.cluster_resource_group_name,
            extension_type="Microsoft.ArgoCD",
            release_train=extension.release_train,
            version=extension.version,
            # A pinned version is only honoured with minor auto-upgrade off (docs/facts.md#aks-argo-cd-extension).
            auto_upgrade_minor_version=extension.version is None,
            configuration_settings=extension_settings(args.client_id, extension),
            scope=kubernetesconfiguration.ScopeArgs(
                cluster=kubernetesconfiguration.ScopeClusterArgs(release_namespace=args.namespace)
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=list(args.identity_credentials), deleted_with=args.deleted_with
            ),
        )

    def _bootstrap_application(
        self,
        name: str,
        bootstrap: BootstrapApplication,
        access_grants: Sequence[pulumi.Resource],
        k8s_opts: pulumi.ResourceOptions,
    ) -> None:
        import pulumi_kubernetes.apiextensions as apiextensions

        apiextensions.CustomResource(
            f"{name}-bootstrap",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata={
                "name": "bootstrap",
                "namespace": self.namespace,
                # Deleting the Application deletes what it deployed first, child Applications included, while
                # Argo CD still runs: nothing is left holding a finalizer in a namespace being deleted.
                "finalizers": [CASCADE_DELETE_FINALIZER],
                "annotations": {
                    "pulumi.com/waitFor": json.dumps(bootstrap_wait_conditions(bootstrap)),
                    "pulumi.com/timeoutSeconds": str(bootstrap.timeout_seconds),
                },
            },
            spec={
                "project": "default",
                "source": {
                    "repoURL": bootstrap.repository_url,
                    "path": bootstrap.path,
                    "targetRevision": bootstrap.target_revision,
                },
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "argocd-bootstrap"},
                "syncPolicy": {"automated": {}, "syncOptions": ["CreateNamespace=true"], "retry": {"limit": 5}},
            },
            opts=pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(
                # Created after, and deleted before, the secrets that let Argo CD read its repository, and the
                # Azure DevOps grants: on an adopted cluster Argo CD is ready long before a new grant exists.
                depends_on=[*self.secrets, *access_grants],
                # When the wait fails, pulumi up prints the likely causes beside the provider's error.
                hooks=pulumi.ResourceHookBinding(on_error=[pulumi.ErrorHook(f"{name}-bootstrap-explain", explain_bootstrap_failure)]),
            )),
        )


# Argo CD deletes an Application's resources before the Application itself when it carries this finalizer
# (docs/facts.md#argo-cd-applications).
CASCADE_DELETE_FINALIZER = "resources-finalizer.argocd.argoproj.io"

BOOTSTRAP_TIMEOUT_CAUSES = (
    "Not synced in time. Likely causes: (1) the identity has no Basic licence in Azure DevOps; "
    "(2) it is not in the Readers group or has no GenericRead on the repository; "
    "(3) the federated credential subject does not match the repo-server service account; "
    "(4) the credential or role is still propagating (retry pulumi up in a few minutes); "
    "(5) Argo CD older than v3.1.1; (6) the path or revision does not exist in the repository. "
    "See README, Troubleshooting, or run scripts/doctor."
)
# What pulumi-kubernetes reports when an await condition is not met in time (docs/facts.md#pulumi).
_AWAIT_TIMEOUT = "timed out waiting"


def bootstrap_wait_conditions(bootstrap: BootstrapApplication) -> list[str]:
    """pulumi.com/waitFor conditions: synced and healthy, and compared with this very source.

    Without the source conditions an update (new path or revision) would pass at once on the old Synced status.
    """
    return [
        "jsonpath={.status.sync.status}=Synced",
        "jsonpath={.status.health.status}=Healthy",
        f"jsonpath={{.status.sync.comparedTo.source.path}}={bootstrap.path}",
        f"jsonpath={{.status.sync.comparedTo.source.targetRevision}}={bootstrap.target_revision}",
    ]


def bootstrap_failure_explanation(failed_operation: str, errors: Sequence[str]) -> str | None:
    """The likely causes of a bootstrap failure, for the one failure they explain: a sync that timed out.

    A 403, a missing CRD or a failed delete has another cause, and the provider's own error says it better.
    """
    if failed_operation in ("create", "update") and errors and _AWAIT_TIMEOUT in errors[0].lower():
        return f"{BOOTSTRAP_TIMEOUT_CAUSES} Errors: {errors[0]}"
    return None


def explain_bootstrap_failure(failure: pulumi.ErrorHookArgs) -> bool:
    """Error hook of the bootstrap Application: print the likely causes of a sync timeout. Never retries:
    the timeout already bounds how long pulumi up waits."""
    explanation = bootstrap_failure_explanation(failure.failed_operation, failure.errors)
    if explanation:
        pulumi.log.error(explanation)
    return False


def repository_secret_data(registration: RepositoryRegistration) -> dict[str, str]:
    """The Secret's fields: where to fetch and how to authenticate, with no credential of any kind.

    useAzureWorkloadIdentity is the string "true" because Argo CD parses it with ParseBool, and it only takes
    effect when no username, password or token is present (docs/facts.md#argo-cd-repository-secrets).
    """
    return {"type": "git", "url": registration.url, "useAzureWorkloadIdentity": "true"}


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


def chart_fullname(release_name: str) -> str:
    """The prefix of the argo-cd chart's object names: the release name when it contains the chart's nameOverride
    "argocd", otherwise "<release>-argocd" (argo-helm charts/argo-cd/templates/_common.tpl, argo-cd.fullname)."""
    return release_name if "argocd" in release_name else f"{release_name}-argocd"


def helm_values(
    client_id: pulumi.Input[str],
    release_name: str,
    repo_server_service_account: str,
    commit_server_service_account: str | None,
) -> dict[str, Any]:
    """argo-cd chart values: only the repo-server (and the hydrator's commit-server) get the identity."""
    values: dict[str, Any] = {
        "repoServer": workload_identity_service_account(repo_server_service_account, client_id),
    }
    if commit_server_service_account is not None:
        values["commitServer"] = {"enabled": True, **workload_identity_service_account(commit_server_service_account, client_id)}
        values["configs"] = {"params": {
            "hydrator.enabled": "true",
            # The controller dials argocd-commit-server:8086 unless told otherwise; under any other release
            # name the Service is called differently (argo-helm#3333, docs/facts.md#source-hydrator).
            "commit.server": f"{chart_fullname(release_name)}-commit-server:{COMMIT_SERVER_PORT}",
        }}
    return values


def extension_settings(client_id: pulumi.Input[str], extension: ExtensionInstall) -> dict[str, pulumi.Input[str]]:
    """Microsoft.ArgoCD 1.0.0-preview settings: plain strings, the identity's client ID from its output."""
    settings: dict[str, pulumi.Input[str]] = dict(extension.extra_settings)
    settings.update({
        "azure.workloadIdentity.enabled": "true",
        "azure.workloadIdentity.clientId": client_id,
        "redis-ha.enabled": "true" if extension.high_availability else "false",
    })
    return settings
