"""What Argo CD is told about the repositories, shared by both ways of installing it: the credential-free
repository Secrets and the bootstrap Application that proves access."""

import json
from collections.abc import Sequence
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes.apiextensions as apiextensions
import pulumi_kubernetes.core.v1 as core

from components.vocabulary import RepositoryKind, SecretType

SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
# Argo CD deletes an Application's resources before the Application itself when it carries this finalizer
# (docs/facts.md#argo-cd-applications).
CASCADE_DELETE_FINALIZER = "resources-finalizer.argocd.argoproj.io"
# The Azure DevOps descriptor of the identity the bootstrap Application's repository is read as.
READER_ANNOTATION = "argocd-aks-wi/azure-devops-reader"
# The IDs of the identity's pull grants on the registries of a bootstrap chart.
REGISTRY_GRANTS_ANNOTATION = "argocd-aks-wi/registry-pull-grants"
BOOTSTRAP_TIMEOUT_CAUSES = (
    "Not synced in time. Likely causes: (1) the identity has no Basic licence in Azure DevOps; "
    "(2) it is not in the Readers group or has no GenericRead on the repository; "
    "(3) the federated credential subject does not match the repo-server service account; "
    "(4) the credential or role is still propagating (retry pulumi up in a few minutes); "
    "(5) Argo CD older than v3.1.1; (6) the path or revision does not exist in the repository. "
    "See README, Troubleshooting, or run scripts/doctor."
)
# The hub itself, as an Application's destination.
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
# What pulumi-kubernetes reports when an await condition is not met in time (docs/facts.md#pulumi).
_AWAIT_TIMEOUT = "timed out waiting"


class RepositoryRegistrationArgs(TypedDict):
    """One Argo CD repository Secret, credential-free."""

    key: str
    """Stable, DNS-safe name of the Kubernetes Secret."""
    url: str
    """Repository URL, or for a credential template the URL prefix it covers."""
    secret_type: SecretType
    """Read one repository, read every repository under a URL prefix, or push to one repository."""
    kind: NotRequired[RepositoryKind]
    """A Git repository (the default) or a Helm OCI chart path in Azure Container Registry."""


class BootstrapArgs(TypedDict):
    """An Application that proves access: pulumi up waits until Argo CD has synced it from the private repository."""

    repository_url: str
    """Private repository the Application syncs from (one of the registered ones)."""
    path: NotRequired[str]
    """Path of the manifests inside a Git repository."""
    chart: NotRequired[str]
    """Name of a Helm chart in a registered chart path (instead of a Git path)."""
    target_revision: str
    """Branch, tag or commit to sync; for a chart, its version."""
    timeout_seconds: int
    """How long pulumi up waits for Synced and Healthy from exactly this source before failing."""
    reader_descriptor: NotRequired[pulumi.Input[str]]
    """The identity's Azure DevOps descriptor from AzureDevOpsAccess: the Application is annotated with it, so it
    is created only once the identity may read."""
    registry_grants: NotRequired[pulumi.Input[list[str]]]
    """IDs of the identity's pull grants from ContainerRegistryAccess, for a chart: the Application is annotated with
    them, so it is created only once the identity may pull."""


def repository_secret_data(registration: RepositoryRegistrationArgs) -> dict[str, str]:
    """The Secret's fields: where to fetch and how to authenticate, with no credential of any kind.

    useAzureWorkloadIdentity is the string "true" because Argo CD parses it with ParseBool, and it only takes
    effect when no password, token or key is present (docs/facts.md#argo-cd-repository-secrets). A chart path in
    ACR is a Helm repository read over OCI, its URL without oci://, and needs a name (docs/facts.md#acr-helm-charts).
    """
    if registration.get("kind") == RepositoryKind.HELM_OCI:
        return {
            "type": "helm", "url": registration["url"], "name": registration["key"], "enableOCI": "true",
            "useAzureWorkloadIdentity": "true",
        }
    return {"type": "git", "url": registration["url"], "useAzureWorkloadIdentity": "true"}


def register_repositories(
    owner: pulumi.ComponentResource,
    name: str,
    registrations: Sequence[RepositoryRegistrationArgs],
    namespace: pulumi.Input[str],
    install: pulumi.Resource,
) -> list[core.Secret]:
    """One Secret per registration, in Argo CD's namespace, created after (so deleted before) Argo CD itself."""
    return [
        core.Secret(
            f"{name}-{registration['key']}",
            metadata={
                "name": registration["key"],
                "namespace": namespace,
                "labels": {SECRET_TYPE_LABEL: str(registration["secret_type"]), "app.kubernetes.io/part-of": "argocd"},
            },
            string_data=repository_secret_data(registration),
            # Read by a running Argo CD; the extension also creates the namespace they live in.
            opts=pulumi.ResourceOptions(parent=owner, depends_on=[install]),
        )
        for registration in registrations
    ]


def register_with_argocd(
    owner: pulumi.ComponentResource,
    name: str,
    registrations: Sequence[RepositoryRegistrationArgs],
    bootstrap: BootstrapArgs | None,
    namespace: pulumi.Input[str],
    install: pulumi.Resource,
) -> pulumi.Output[list[str]]:
    """What either install of Argo CD is told once it runs: the repository Secrets, then (if asked for) the bootstrap
    Application that syncs through them. Returns the URLs Argo CD reads."""
    secrets = register_repositories(owner, name, registrations, namespace, install)
    if bootstrap is not None:
        create_bootstrap_application(owner, name, bootstrap, namespace, secrets)
    return pulumi.Output.from_input(read_urls(registrations))


def read_urls(registrations: Sequence[RepositoryRegistrationArgs]) -> list[str]:
    """The URLs Argo CD reads: every registration but the hydrator's write secrets, which it only pushes to."""
    return [r["url"] for r in registrations if r["secret_type"] != SecretType.REPOSITORY_WRITE]


def create_bootstrap_application(
    owner: pulumi.ComponentResource,
    name: str,
    bootstrap: BootstrapArgs,
    namespace: pulumi.Input[str],
    secrets: Sequence[pulumi.Resource],
    application_name: str = "bootstrap",
    destination_server: pulumi.Input[str] = IN_CLUSTER_SERVER,
) -> apiextensions.CustomResource:
    """The Application pulumi up waits on: on the hub by default, or on a spoke (its API server as destination)."""
    annotations: dict[str, pulumi.Input[str]] = {
        "pulumi.com/waitFor": json.dumps(bootstrap_wait_conditions(bootstrap)),
        "pulumi.com/timeoutSeconds": str(bootstrap["timeout_seconds"]),
    }
    if "reader_descriptor" in bootstrap:
        annotations[READER_ANNOTATION] = bootstrap["reader_descriptor"]
    if "registry_grants" in bootstrap:
        annotations[REGISTRY_GRANTS_ANNOTATION] = pulumi.Output.from_input(bootstrap["registry_grants"]).apply(",".join)
    return apiextensions.CustomResource(
        f"{name}-bootstrap",
        api_version="argoproj.io/v1alpha1",
        kind="Application",
        metadata={
            "name": application_name,
            "namespace": namespace,
            # Deleting the Application deletes what it deployed first, child Applications included, while
            # Argo CD still runs: nothing is left holding a finalizer in a namespace being deleted.
            "finalizers": [CASCADE_DELETE_FINALIZER],
            "annotations": annotations,
        },
        spec={
            "project": "default",
            "source": bootstrap_source(bootstrap),
            "destination": {"server": destination_server, "namespace": "argocd-bootstrap"},
            "syncPolicy": {"automated": {}, "syncOptions": ["CreateNamespace=true"], "retry": {"limit": 5}},
        },
        opts=pulumi.ResourceOptions(
            parent=owner,
            # Created after, and deleted before, the secrets that let Argo CD read its repository.
            depends_on=list(secrets),
            # When the wait fails, pulumi up prints the likely causes beside the provider's error.
            hooks=pulumi.ResourceHookBinding(on_error=[pulumi.ErrorHook(f"{name}-bootstrap-explain", explain_bootstrap_failure)]),
        ),
    )


def bootstrap_source(bootstrap: BootstrapArgs) -> dict[str, str]:
    """The Application's source: a path in a Git repository, or a chart in a Helm OCI repository."""
    where = {"chart": bootstrap["chart"]} if "chart" in bootstrap else {"path": bootstrap.get("path", ".")}
    return {"repoURL": bootstrap["repository_url"], **where, "targetRevision": bootstrap["target_revision"]}


def bootstrap_wait_conditions(bootstrap: BootstrapArgs) -> list[str]:
    """pulumi.com/waitFor conditions: synced and healthy, and compared with this very source.

    Without the source conditions an update (new path, chart or revision) would pass at once on the old Synced status.
    """
    source = bootstrap_source(bootstrap)
    where = "chart" if "chart" in source else "path"
    return [
        "jsonpath={.status.sync.status}=Synced",
        "jsonpath={.status.health.status}=Healthy",
        f"jsonpath={{.status.sync.comparedTo.source.{where}}}={source[where]}",
        f"jsonpath={{.status.sync.comparedTo.source.targetRevision}}={source['targetRevision']}",
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
