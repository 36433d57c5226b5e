"""Derivations between the settings and the components' arguments: each turns settings into one component's args."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote

import pulumi

from components.argocd_extension import ArgoCdExtension, ArgoCdExtensionArgs
from components.argocd_registration import BootstrapArgs, RepositoryRegistrationArgs
from components.argocd_release import ArgoCdRelease, ArgoCdReleaseArgs, ServiceAccountIdentityArgs
from components.argocd_sign_in import SingleSignOnArgs, url_address, url_root_path
from components.cluster import AksCluster, AksClusterArgs, ClusterFacts, look_up_cluster
from components.devops_access import AzureDevOpsAccessArgs, RepositoryGrantArgs
from components.entra_sso import EntraSingleSignOn, EntraSingleSignOnArgs
from components.registry_access import ContainerRegistryAccessArgs, RegistryArgs
from components.spoke_access import SpokeAccess, SpokeAccessArgs
from components.vocabulary import RepositoryKind, SecretType
from components.workload_identity import WorkloadIdentity, WorkloadIdentityArgs
from settings import (
    AdoptedSpoke,
    CreatedSpoke,
    ExtensionInstall,
    FleetSettings,
    GitPath,
    HelmInstall,
    ServiceAccount,
    Settings,
    Spoke,
    check_existing_cluster_capacity,
    stable_hash,
)

# The one component both installs of Argo CD were before they became two: each is aliased to it, so a deployed stack
# keeps its URNs (only one of the two exists in a stack, so the alias is never claimed twice).
FORMER_ARGOCD_TYPE = "argocd-wi:argocd:ArgoCd"


def formerly(former_type: str) -> pulumi.ResourceOptions:
    """An alias to the type token a component had before the components became a package: a stack deployed then keeps
    the component's URN, and with it every child's (tests/program/test_changes.py)."""
    return pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=former_type)])


@dataclass(frozen=True)
class AdoptedClusters:
    """Every AKS cluster the stack adopts, each looked up once."""

    hub: ClusterFacts | None
    spokes: dict[str, ClusterFacts]
    """By spoke name; created spokes are absent."""


def look_up_adopted_clusters(settings: Settings) -> AdoptedClusters:
    """Read each cluster to adopt once, before any resource, and stop by name on one that cannot serve: a hub without
    workload identity or too small for the extension's HA mode, a spoke without Azure RBAC."""
    hub = None
    if settings.cluster.existing:
        hub = look_up_cluster(settings.cluster.existing.resource_group, settings.cluster.existing.name)
        hub.refuse_unless(hub.fixes_for_workload_identity(), "cannot serve Entra Workload ID yet")
        check_existing_cluster_capacity(settings, hub.node_count)
    spokes = {}
    for spoke in settings.fleet.spokes if settings.fleet else ():
        if isinstance(spoke.source, AdoptedSpoke):
            found = spokes[spoke.name] = look_up_cluster(spoke.source.resource_group, spoke.source.cluster_name)
            found.refuse_unless(
                found.fixes_for_azure_rbac(), "does not authorize with Azure RBAC, so a role assignment cannot let Argo CD in",
            )
    return AdoptedClusters(hub=hub, spokes=spokes)


def name_prefix(stack: str) -> str:
    """Readable start of the stack's Azure names (the cluster's DNS prefix): argocd-wi-<stack>."""
    return f"argocd-wi-{re.sub(r'[^a-z0-9-]', '-', stack.lower())}"[:40].strip("-")


def cluster_args(
    settings: Settings, resource_group_name: pulumi.Input[str], resource_group_id: pulumi.Input[str], adopted: ClusterFacts | None,
) -> AksClusterArgs:
    cluster = settings.cluster
    args = AksClusterArgs(
        location=cluster.location,
        resource_group_name=resource_group_name,
        resource_group_id=resource_group_id,
        name_prefix=name_prefix(settings.stack),
        kubelogin_mode=cluster.kubelogin_mode,
        node_count=cluster.node_count,
        node_vm_size=cluster.node_vm_size,
        system_pool_name=cluster.system_pool_name,
        long_term_support=cluster.long_term_support,
        admin_group_object_ids=list(cluster.admin_group_object_ids),
        grant_deployer_cluster_admin=cluster.grant_deployer_cluster_admin,
        deployer_principal_type=cluster.deployer_principal_type,
        protect=settings.protect,
    )
    if cluster.kubernetes_version:
        args["kubernetes_version"] = cluster.kubernetes_version
    if adopted is not None:
        assert adopted.issuer_url is not None  # look_up_adopted_clusters refused a hub without one
        args["existing_cluster"] = {
            "id": adopted.id, "resource_group_name": adopted.resource_group, "name": adopted.name,
            "oidc_issuer_url": adopted.issuer_url,
        }
    return args


def identity_args(settings: Settings, resource_group_name: pulumi.Input[str], issuer_url: pulumi.Input[str]) -> WorkloadIdentityArgs:
    """Trust this cluster's issuer and any further clusters', for every service account Argo CD runs as."""
    issuers = {"cluster": issuer_url} | {f"issuer-{stable_hash(url)}": url for url in settings.additional_issuers}
    return _identity_trusting(settings, resource_group_name, issuers, settings.trusted_service_accounts)


def _identity_trusting(
    settings: Settings,
    resource_group_name: pulumi.Input[str],
    issuer_urls: dict[str, pulumi.Input[str]],
    accounts: Sequence[ServiceAccount],
) -> WorkloadIdentityArgs:
    """An identity in the stack's resource group and region that trusts exactly `accounts` from `issuer_urls`."""
    return WorkloadIdentityArgs(
        resource_group_name=resource_group_name,
        location=settings.cluster.location,
        issuer_urls=issuer_urls,
        subjects={account.key: account.subject for account in accounts},
        protect=settings.protect,
    )


def devops_args(settings: Settings, principal_id: pulumi.Input[str]) -> AzureDevOpsAccessArgs:
    pushed = set(settings.argocd.hydration_targets)
    args = AzureDevOpsAccessArgs(
        organization_url=settings.azure_devops.organization_url,
        principal_id=principal_id,
        access_model=settings.azure_devops.access_model,
        repositories=[
            RepositoryGrantArgs(project=repo.project, name=repo.name, push=repo in pushed)
            for repo in settings.azure_devops.repositories
        ],
        group_label=settings.stack,
    )
    if pushed:
        args["hydrator_creates_branches"] = settings.argocd.hydrator_creates_branches
    return args


def registrations(settings: Settings) -> list[RepositoryRegistrationArgs]:
    """One credential template per project, or one repository secret per repository; then one write secret per
    repository the Source Hydrator pushes to."""
    azure_devops = settings.azure_devops
    if azure_devops.credential_templates:
        prefixes = dict.fromkeys(repo.project_prefix for repo in azure_devops.repositories)
        read = [_registration("creds", url, SecretType.CREDENTIAL_TEMPLATE) for url in prefixes]
    else:
        read = [_registration("repo", repo.url, SecretType.REPOSITORY) for repo in azure_devops.repositories]
    charts = [
        RepositoryRegistrationArgs(**_registration("helm", repo.url, SecretType.REPOSITORY), kind=RepositoryKind.HELM_OCI)
        for repo in settings.charts.repositories
    ]
    write = [_registration("push", repo.url, SecretType.REPOSITORY_WRITE) for repo in settings.argocd.hydration_targets]
    return read + charts + write


def _registration(kind: str, url: str, secret_type: SecretType) -> RepositoryRegistrationArgs:
    # Readable tail of the URL plus a hash of all of it: DNS-safe, unique, and stable across runs.
    readable = re.sub(r"[^a-z0-9]+", "-", unquote(url.lower()).split("dev.azure.com/", 1)[-1].replace("/_git/", "-")).strip("-")
    key = f"{kind}-{readable[:40].strip('-')}-{stable_hash(url.lower())}"
    return RepositoryRegistrationArgs(key=key, url=url, secret_type=secret_type)


def registry_access_args(
    settings: Settings, resource_group_name: pulumi.Input[str], principal_id: pulumi.Input[str]
) -> ContainerRegistryAccessArgs:
    registries = []
    for registry in settings.charts.registries:
        args = RegistryArgs(
            key=registry.name,
            name=registry.name,
            abac=registry.abac,
            repository_paths=[repo.path for repo in settings.charts.repositories if repo.registry == registry],
        )
        if registry.existing_resource_group:
            args["existing_resource_group_name"] = registry.existing_resource_group
        registries.append(args)
    return ContainerRegistryAccessArgs(
        resource_group_name=resource_group_name,
        location=settings.cluster.location,
        principal_id=principal_id,
        registries=registries,
        protect=settings.protect,
    )


def single_sign_on_app_args(settings: Settings, issuer_url: pulumi.Input[str]) -> EntraSingleSignOnArgs:
    """The sign-in app trusts exactly the argocd-server service account Argo CD is configured with."""
    sign_on = settings.argocd.single_sign_on
    assert sign_on is not None  # called only with single sign-on on
    return EntraSingleSignOnArgs(
        display_name=f"Argo CD ({name_prefix(settings.stack)})",
        argocd_url=sign_on.url,
        issuer_url=issuer_url,
        subject=settings.argocd.server.subject,
    )


def single_sign_on_args(settings: Settings, app: EntraSingleSignOn | None) -> SingleSignOnArgs | None:
    sign_on = settings.argocd.single_sign_on
    if sign_on is None or app is None:
        return None
    return SingleSignOnArgs(
        client_id=app.client_id,
        tenant_id=app.tenant_id,
        url=sign_on.url,
        group_roles=dict(sign_on.group_roles),
        disable_local_admin=sign_on.disable_local_admin,
    )


def bootstrap_args(
    settings: Settings, reader_descriptor: pulumi.Input[str], registry_grants: pulumi.Input[list[str]] | None
) -> BootstrapArgs | None:
    bootstrap = settings.argocd.bootstrap
    if bootstrap is None:
        return None
    args = BootstrapArgs(
        repository_url=bootstrap.source.repository.url,
        target_revision=bootstrap.target_revision,
        timeout_seconds=bootstrap.timeout_seconds,
    )
    match bootstrap.source:
        case GitPath(path=path):
            args["path"] = path
            args["reader_descriptor"] = reader_descriptor
        case chart:
            args["chart"] = chart.chart
            if registry_grants is not None:
                args["registry_grants"] = registry_grants
    return args


def argocd_identities(
    settings: Settings, client_id: pulumi.Input[str], single_sign_on: SingleSignOnArgs | None,
    fleet_client_id: pulumi.Input[str] | None,
) -> dict[str, ServiceAccountIdentityArgs]:
    """Which identity each Argo CD component runs as, decided here and nowhere else (by ArgoCdReleaseArgs key):
    - the repo-server, and the hydrator's commit-server, as the stack's identity;
    - argocd-server as the fleet identity when there are spokes (it shows their pods' logs; Entra sign-in then names its
      app registration only in oidc.config, and the app's credential trusts the same account), else as the sign-in
      app registration, else as nothing;
    - the application-controller as the fleet identity when there are spokes.
    The federated credentials trust exactly these accounts (Settings.trusted_service_accounts, the fleet's and the
    sign-in app's), which the settings name once."""
    argocd = settings.argocd
    accounts = {"repo_server": ServiceAccountIdentityArgs(name=argocd.repo_server.name, client_id=client_id)}
    if argocd.commit_server:
        accounts["commit_server"] = ServiceAccountIdentityArgs(name=argocd.commit_server.name, client_id=client_id)
    server_client_id = fleet_client_id if fleet_client_id is not None else single_sign_on["client_id"] if single_sign_on else None
    if server_client_id is not None:
        accounts["server"] = ServiceAccountIdentityArgs(name=argocd.server.name, client_id=server_client_id)
    if settings.fleet and fleet_client_id is not None:
        accounts["application_controller"] = ServiceAccountIdentityArgs(name=settings.fleet.controller.name, client_id=fleet_client_id)
    return accounts


def argocd_release_args(
    settings: Settings, helm: HelmInstall, identities: dict[str, ServiceAccountIdentityArgs], bootstrap: BootstrapArgs | None,
    single_sign_on: SingleSignOnArgs | None,
) -> ArgoCdReleaseArgs:
    args = ArgoCdReleaseArgs(
        namespace=settings.argocd.namespace,
        release_name=helm.release_name,
        chart_version=helm.chart_version,
        repo_server=identities["repo_server"],
        registrations=registrations(settings),
    )
    for key in ("commit_server", "server", "application_controller"):
        if key in identities:
            args[key] = identities[key]  # type: ignore[literal-required]
    if bootstrap:
        args["bootstrap"] = bootstrap
    if settings.charts.repositories:
        args["reads_container_registries"] = True
    if single_sign_on:
        args["single_sign_on"] = single_sign_on
    return args


def argocd_extension_args(
    settings: Settings, extension: ExtensionInstall, cluster: AksCluster, client_id: pulumi.Input[str],
    bootstrap: BootstrapArgs | None, single_sign_on: SingleSignOnArgs | None,
) -> ArgoCdExtensionArgs:
    args = ArgoCdExtensionArgs(
        cluster_name=cluster.cluster_name,
        cluster_resource_group_name=cluster.cluster_resource_group_name,
        release_train=extension.release_train,
        high_availability=extension.high_availability,
        extra_settings=dict(extension.extra),
        client_id=client_id,
        repo_server_service_account=settings.argocd.repo_server.name,
        registrations=registrations(settings),
    )
    if extension.version:
        args["version"] = extension.version
    if bootstrap:
        args["bootstrap"] = bootstrap
    if single_sign_on:
        args["single_sign_on"] = single_sign_on
    return args


class InstalledArgoCd(Protocol):
    """What the rest of the program needs from Argo CD, however it was installed."""

    namespace: pulumi.Output[str]
    repository_urls: pulumi.Output[list[str]]
    server_service_name: pulumi.Output[str]
    installed: pulumi.Resource
    """What waits for Argo CD's CRDs and pods: anything that creates Applications depends on it."""


def install_argocd(
    settings: Settings, cluster: AksCluster, client_id: pulumi.Input[str], bootstrap: BootstrapArgs | None,
    single_sign_on: SingleSignOnArgs | None, fleet_client_id: pulumi.Input[str] | None,
) -> InstalledArgoCd:
    """The one place that tells the install methods apart: Argo CD from the chart or as the AKS extension, through the
    cluster's Kubernetes provider. On a cluster this stack created, destroy deletes the cluster and skips everything
    inside it (deleted_with reaches every child, and all of them live in the cluster)."""
    opts = pulumi.ResourceOptions.merge(
        formerly(FORMER_ARGOCD_TYPE), pulumi.ResourceOptions(providers=[cluster.provider], deleted_with=cluster.created_cluster),
    )
    match settings.argocd.install:
        case HelmInstall() as helm:
            identities = argocd_identities(settings, client_id, single_sign_on, fleet_client_id)
            return ArgoCdRelease("argocd", argocd_release_args(settings, helm, identities, bootstrap, single_sign_on), opts)
        case ExtensionInstall() as extension:
            return ArgoCdExtension(
                "argocd", argocd_extension_args(settings, extension, cluster, client_id, bootstrap, single_sign_on), opts,
            )


def next_steps(settings: Settings, cluster: AksCluster, argocd: InstalledArgoCd) -> pulumi.Output[list[str]]:
    namespace = settings.argocd.namespace
    sign_on = settings.argocd.single_sign_on
    if sign_on is None or not sign_on.disable_local_admin:
        sign_in = f"kubectl -n {namespace} get secret argocd-initial-admin-secret -o jsonpath='{{.data.password}}' | base64 -d"
    else:
        # The local admin is off: there is no password to read, only Entra sign-in.
        root_path = url_root_path(sign_on.url)
        root = f" --grpc-web-root-path {root_path}" if root_path else ""
        sign_in = f"sign in with Microsoft Entra ID at {sign_on.url} (argocd login {url_address(sign_on.url)}{root} --sso for the CLI)"
    names = pulumi.Output.all(cluster.cluster_resource_group_name, cluster.cluster_name, argocd.server_service_name)
    return names.apply(lambda names: [
        f"az aks get-credentials --resource-group {names[0]} --name {names[1]} && kubelogin convert-kubeconfig -l azurecli",
        f"kubectl -n {namespace} port-forward svc/{names[2]} 8080:443   # then open https://localhost:8080",
        sign_in,
        f"kubectl -n {namespace} get secrets -l argocd.argoproj.io/secret-type   # the registered repositories",
    ])


# --- Fleet: only with spokes configured ------------------------------------------------------------------------


def fleet_identity_args(
    settings: Settings, fleet: FleetSettings, resource_group_name: pulumi.Input[str], issuer_url: pulumi.Input[str]
) -> WorkloadIdentityArgs:
    """The fleet identity trusts the hub's application-controller and server, from the hub's issuer only: spokes add
    role assignments, never federated credentials."""
    return _identity_trusting(settings, resource_group_name, {"cluster": issuer_url}, fleet.trusted_service_accounts)


def spoke_args(
    settings: Settings, fleet: FleetSettings, spoke: Spoke, hub_cluster: AksClusterArgs, identity: WorkloadIdentity,
    namespace: pulumi.Input[str], bootstrap: BootstrapArgs | None, adopted: ClusterFacts | None,
) -> SpokeAccessArgs:
    """One spoke's args: adopted as looked up, or created with the hub's cluster settings in its own region."""
    args = SpokeAccessArgs(
        display_name=spoke.name,
        principal_id=identity.principal_id,
        client_id=identity.client_id,
        tenant_id=identity.tenant_id,
        access_role=fleet.access_role,
        argocd_namespace=namespace,
        labels=dict(spoke.labels),
    )
    if adopted is not None:
        args["existing_cluster"] = {"id": adopted.id, "resource_group_name": adopted.resource_group, "name": adopted.name}
    else:
        new = AksClusterArgs(**hub_cluster)
        new.pop("existing_cluster", None)
        assert isinstance(spoke.source, CreatedSpoke)  # not adopted: created
        new["location"] = spoke.source.location
        new["name_prefix"] = f"{name_prefix(settings.stack)[:28]}-{spoke.name}"[:54].strip("-")
        args["new_cluster"] = new
    if spoke.bootstrap and bootstrap is not None:
        args["bootstrap"] = bootstrap
    return args


def connect_spokes(
    settings: Settings, hub_cluster: AksClusterArgs, cluster: AksCluster, identity: WorkloadIdentity | None,
    argocd: InstalledArgoCd, bootstrap: BootstrapArgs | None, adopted: dict[str, ClusterFacts],
) -> dict[str, SpokeAccess]:
    """One SpokeAccess per spoke, all in parallel, by spoke name; none without a fleet. The hub's objects (cluster
    Secret, Application) go through the hub's provider and wait for Argo CD's CRDs, not for the hub's own bootstrap.
    No deleted_with: the spokes outlive the hub's cluster, so destroy removes each role assignment, created spoke
    cluster and spoke Application (whose finalizer cleans the spoke) for real."""
    fleet = settings.fleet
    if fleet is None or identity is None:
        return {}
    opts = pulumi.ResourceOptions(providers=[cluster.provider], depends_on=[argocd.installed])
    return {
        spoke.name: SpokeAccess(
            f"spoke-{spoke.name}",
            spoke_args(settings, fleet, spoke, hub_cluster, identity, argocd.namespace, bootstrap, adopted.get(spoke.name)),
            opts,
        )
        for spoke in fleet.spokes
    }
