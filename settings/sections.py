"""Per-section parsing: each function turns one part of the config into its settings, recording every problem."""

from __future__ import annotations

import re
from collections import Counter
from enum import StrEnum

from components.argocd_extension import EXTENSION_NAMESPACE, EXTENSION_SERVER_ACCOUNT
from components.argocd_release import chart_fullname
from components.vocabulary import AccessModel, KubeloginMode, PrincipalType
from policy.facts import LEGACY_EXTENSION_SETTINGS, MIN_SAFE_ARGO_CD_CHART, at_least
from settings.charts import bootstrap_chart
from settings.devops_urls import ORG_URL, is_project_name, parse_repository
from settings.model import (
    PROJECT,
    ArgoCdSettings,
    AzureDevOpsSettings,
    BootstrapSettings,
    ChartSettings,
    ClusterSettings,
    ExistingCluster,
    ExtensionInstall,
    GitPath,
    HelmInstall,
    Repository,
    ServiceAccount,
)
from settings.reader import ConfigReader, compact
from settings.rules import (
    ACR,
    AKS_VERSIONS,
    ARGO_APPLICATIONS,
    ARGO_SECRETS,
    ARGO_VERSIONS,
    AZURE_NAMES,
    AZURE_RBAC,
    CHART_PREFIX_MAX,
    CHART_PREFIX_MAX_WITH_COMMIT_SERVER,
    CREDENTIAL_SETTING,
    DEVOPS,
    EXTENSION,
    GUID,
    HYDRATOR,
    KUBERNETES_NAMES,
    MIN_KUBERNETES_MINOR,
    MIN_LTS_KUBERNETES_MINOR,
    NO_PAT,
    OWNED_EXTENSION_KEYS,
    PAT_FREE_OPTIONS,
    SCHEMA,
    SSO,
    SSO_EXTENSION_KEYS,
    SYSTEM_NAMESPACES,
    is_dns_label,
    is_dns_subdomain,
    is_git_revision,
)
from settings.single_sign_on import single_sign_on_settings


class InstallMethod(StrEnum):
    """argocdInstallMethod: which variant of ArgoCdSettings.install the config asks for."""

    HELM = "helm"
    EXTENSION = "extension"


def cluster_settings(reader: ConfigReader) -> ClusterSettings:
    location = reader.matching(
        "location", reader.text("location"), lambda v: bool(re.match(r"^[a-z][a-z0-9]{1,39}$", v)),
        "an Azure region name in lower case without spaces, e.g. westeurope", rule=AZURE_NAMES,
    )
    existing_group = reader.text("existingClusterResourceGroup")
    existing_name = reader.text("existingClusterName")
    existing = None
    if bool(existing_group) != bool(existing_name):
        reader.refuse(
            f"{PROJECT}:existingClusterResourceGroup and {PROJECT}:existingClusterName go together: "
            "set both to adopt a cluster, or neither to create one", rule=SCHEMA
        )
    elif existing_group:
        reader.matching(
            "existingClusterResourceGroup", existing_group,
            lambda v: bool(re.match(r"^[-\w._()]{1,90}$", v)) and not v.endswith("."),
            "an Azure resource group name (1-90 letters, digits, -_.())", rule=AZURE_NAMES,
        )
        reader.matching(
            "existingClusterName", existing_name, lambda v: bool(re.match(r"^[A-Za-z0-9][-_A-Za-z0-9]{0,62}$", v)),
            "an AKS cluster name (1-63 letters, digits, - and _)", rule=AZURE_NAMES,
        )
        existing = ExistingCluster(existing_group, existing_name)

    long_term_support = reader.boolean("longTermSupport")
    version = _kubernetes_version(reader, long_term_support)
    admin_groups = reader.strings("clusterAdminGroupObjectIds")
    for group in admin_groups:
        reader.matching(
            "clusterAdminGroupObjectIds", group, lambda v: bool(GUID.match(v)), "Entra group object IDs (GUIDs)", rule=AZURE_NAMES,
        )
    return ClusterSettings(
        location=location,
        existing=existing,
        kubernetes_version=version or None,
        node_count=reader.integer("nodeCount", 1, 1000),
        node_vm_size=reader.matching(
            "nodeVmSize", reader.text("nodeVmSize"),
            lambda v: bool(re.match(r"^Standard_[A-Za-z0-9_-]{1,60}$", v)),
            "an Azure VM size name such as Standard_D4ds_v5 or Standard_E4-2ds_v5 (az vm list-sizes --location <region>)", rule=AZURE_NAMES,
        ),
        system_pool_name=reader.matching(
            "systemPoolName", reader.text("systemPoolName"), lambda v: bool(re.match(r"^[a-z][a-z0-9]{0,11}$", v)),
            "1-12 lower-case letters and digits, starting with a letter", rule=AZURE_NAMES,
        ),
        admin_group_object_ids=admin_groups,
        kubelogin_mode=reader.choice("kubeloginMode", KubeloginMode),
        deployer_principal_type=reader.choice("deployerPrincipalType", PrincipalType, refused={
            # The deployer's object ID comes from whoever is signed in, which is never a group.
            "Group": "User or ServicePrincipal: pulumi up runs as a user or a service principal, never as a group "
            "(to give a group cluster admin, list it in clusterAdminGroupObjectIds)",
        }, refused_rule=AZURE_RBAC),
        grant_deployer_cluster_admin=reader.boolean("grantDeployerClusterAdmin"),
        long_term_support=long_term_support,
    )


def _kubernetes_version(reader: ConfigReader, long_term_support: bool) -> str:
    """Empty (the AKS default, always supported), or a minor AKS still creates clusters with."""
    value = reader.text("kubernetesVersion")
    match = re.fullmatch(r"1\.([0-9]{1,2})(\.[0-9]{1,3})?", value)
    if value and not match:
        reader.fail(
            "kubernetesVersion", value, 'MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. "1.35", or empty for the AKS default', rule=AKS_VERSIONS,
        )
    elif match:
        floor = MIN_LTS_KUBERNETES_MINOR if long_term_support else MIN_KUBERNETES_MINOR
        if int(match.group(1)) < floor:
            support = (
                "long-term support" if long_term_support
                else "standard support (older minors need longTermSupport: true, the Premium tier)"
            )
            reader.fail(
                "kubernetesVersion", value,
                f"1.{floor} or newer, the oldest minor AKS creates with {support}; empty takes the AKS default. "
                "`az aks get-versions --location <region>` lists what your region offers", rule=AKS_VERSIONS,
            )
    return value


def azure_devops_settings(reader: ConfigReader) -> AzureDevOpsSettings:
    org_url = reader.text("azureDevOpsOrgUrl").rstrip("/")
    organization = ""
    if org_url:
        match = ORG_URL.match(org_url)
        if match:
            organization = match.group(1)
        else:
            reader.fail(
                "azureDevOpsOrgUrl", org_url,
                "https://dev.azure.com/<organisation> (no user@ part, no project; *.visualstudio.com URLs: use the dev.azure.com form)",
                rule=DEVOPS,
            )
    project = reader.matching(
        "azureDevOpsProject", reader.text("azureDevOpsProject"),
        lambda v: not v or is_project_name(v),
        "an Azure DevOps project name (at most 64 characters, none of \\/:*?\"<>|;#$*{},+=[], not starting with _ or ., "
        "not ending with .)", rule=DEVOPS,
    )

    repositories: list[Repository] = []
    urls = reader.strings("repositories")
    for url in urls:
        parsed = parse_repository(url, organization) if organization else None
        if isinstance(parsed, str):
            reader.fail("repositories", url, parsed, rule=ARGO_SECRETS)
        elif parsed is not None:
            repositories.append(parsed)
    occurrences = Counter(url.lower() for url in urls)  # one pass: a count per URL was quadratic in repositories
    duplicates = sorted(url for url, count in occurrences.items() if count > 1)
    for url in duplicates:
        reader.fail("repositories", url, "each repository once (Argo CD compares URLs case-insensitively)", rule=ARGO_SECRETS)
    _refuse_second_spellings(reader, repositories)

    access_model = reader.choice("accessModel", AccessModel)
    return AzureDevOpsSettings(
        organization_url=org_url,
        organization=organization,
        project=project,
        repositories=tuple(repositories),
        access_model=access_model,
        credential_templates=reader.boolean("credentialTemplates"),
    )


def _refuse_second_spellings(reader: ConfigReader, repositories: list[Repository]) -> None:
    """Azure DevOps names are case-insensitive: a/_git/x-y and A/_git/x%2Dy are one repository in one project.

    Two spellings would give two read grants on one repository, or two groups of one name in one project,
    and the second fails only at `pulumi up`.
    """
    first_project: dict[str, str] = {}
    first_repository: dict[tuple[str, str], str] = {}
    for repo in repositories:
        project = first_project.setdefault(repo.project.lower(), repo.project)
        if project != repo.project:
            reader.fail("repositories", repo.url, f"the project written as in the other URLs ({project!r})", rule=DEVOPS)
        same = (repo.project.lower(), repo.name.lower())
        first = first_repository.setdefault(same, repo.url)
        if first.lower() != repo.url.lower():
            reader.fail("repositories", repo.url, f"each repository once: {first!r} names the same repository", rule=DEVOPS)


def argocd_settings(reader: ConfigReader, azure_devops: AzureDevOpsSettings, charts: ChartSettings) -> ArgoCdSettings:
    method = reader.choice("argocdInstallMethod", InstallMethod)
    namespace = reader.matching(
        "argocdNamespace", reader.text("argocdNamespace"), is_dns_label, "a DNS-1123 label (a-z, 0-9, -; at most 63)", rule=KUBERNETES_NAMES
    )
    if namespace in SYSTEM_NAMESPACES:
        reader.fail("argocdNamespace", namespace, "a namespace of Argo CD's own: every cluster already has this one, and "
                    "the program creates the namespace it installs into", rule=KUBERNETES_NAMES)

    def account(key: str, role: str) -> ServiceAccount:
        name = reader.matching(key, reader.text(key), is_dns_subdomain, "a DNS-1123 subdomain (a-z, 0-9, -, .)", rule=KUBERNETES_NAMES)
        return ServiceAccount(namespace, name, key=role)

    hydrator = reader.boolean("sourceHydrator")
    # Checked in either mode and with the hydrator off: a mistyped value is refused now, not on the day it matters.
    commit_server = account("commitServerServiceAccount", "commit-server")
    helm = _helm_install(reader, azure_devops, commit_server if hydrator else None)
    extension = _extension_install(reader)
    single_sign_on = single_sign_on_settings(reader)
    repo_server = account("repoServerServiceAccount", "repo-server")
    server = account("serverServiceAccount", "server")
    if single_sign_on and server.name == repo_server.name:
        reader.fail(
            "serverServiceAccount", server.name, "a name other than repoServerServiceAccount's: each runs as its own identity", rule=SSO,
        )
    install: HelmInstall | ExtensionInstall
    match method:
        case InstallMethod.HELM:
            install = helm
        case InstallMethod.EXTENSION:
            install = extension
            _refuse_what_the_extension_cannot_do(reader, extension, charts, single_sign_on is not None, server)
            if namespace != EXTENSION_NAMESPACE:
                reader.fail(
                    "argocdNamespace", namespace, f"{EXTENSION_NAMESPACE!r}: the AKS extension always installs there", rule=EXTENSION,
                )
            if hydrator:
                reader.fail(
                    "sourceHydrator", "true",
                    "false with argocdInstallMethod extension: the extension's image has no argocd-commit-server "
                    "(Azure/AKS#5850), so nothing could push the hydrated manifests", rule=HYDRATOR,
                )
    return ArgoCdSettings(
        install=install,
        namespace=namespace,
        repo_server=repo_server,
        server=server,
        bootstrap=_bootstrap_settings(reader, azure_devops, charts),
        single_sign_on=single_sign_on,
    )


def _refuse_what_the_extension_cannot_do(
    reader: ConfigReader, extension: ExtensionInstall, charts: ChartSettings, single_sign_on: bool, server: ServiceAccount
) -> None:
    if charts.repositories:
        reader.fail(
            "helmChartRepositories", [repository.url for repository in charts.repositories],
            "empty with argocdInstallMethod extension: a chart pull needs AZURE_ARM_TOKEN_RESOURCE in the repo-server's "
            "environment (without it ACR answers 401, argo-cd#25048), and the extension documents no setting for the "
            "repo-server's environment (docs/facts.md#aks-argo-cd-extension); use argocdInstallMethod helm", rule=ACR,
        )
    if not single_sign_on:
        return
    if server.name != EXTENSION_SERVER_ACCOUNT:
        reader.fail(
            "serverServiceAccount", server.name,
            f"{EXTENSION_SERVER_ACCOUNT!r} with the extension: it names its server's service account itself", rule=SSO,
        )
    for key, _ in extension.extra:
        if key in SSO_EXTENSION_KEYS:
            reader.fail("extensionSettings", key, f"no {key} with singleSignOn true: the program sets it", rule=EXTENSION)


def _helm_install(reader: ConfigReader, azure_devops: AzureDevOpsSettings, commit_server: ServiceAccount | None) -> HelmInstall:
    return HelmInstall(
        release_name=_release_name(reader, hydrator=commit_server is not None),
        chart_version=reader.matching(
            "argocdChartVersion", reader.text("argocdChartVersion"), lambda v: at_least(v, MIN_SAFE_ARGO_CD_CHART),
            f"an argo-cd chart version {MIN_SAFE_ARGO_CD_CHART} or newer (semver, e.g. 10.3.3 or 10.4.0-rc.1): older charts "
            "ship Argo CD releases whose Azure DevOps workload identity is broken (argo-cd#23100, #23348, #23478)", rule=ARGO_VERSIONS,
        ),
        commit_server=commit_server,
        hydration_targets=_hydration_targets(reader, azure_devops, hydrator=commit_server is not None),
        hydrator_creates_branches=reader.boolean("hydratorCreatesBranches"),
    )


def _hydration_targets(reader: ConfigReader, azure_devops: AzureDevOpsSettings, hydrator: bool) -> tuple[Repository, ...]:
    """The repositories the Source Hydrator pushes to: each one of the configured repositories."""
    urls = reader.strings("hydrationRepositories")
    if not hydrator:
        if urls:
            reader.fail("hydrationRepositories", list(urls), "empty unless sourceHydrator is true", rule=HYDRATOR)
        return ()
    if not urls:
        reader.refuse(
            f"{PROJECT}:hydrationRepositories is required with sourceHydrator true: the repositories the hydrator "
            "pushes to (the identity gets push on exactly these)", rule=HYDRATOR
        )
    if urls and azure_devops.access_model == AccessModel.READERS:
        reader.fail(
            "accessModel", "readers",
            "repositories with sourceHydrator: push is granted to the dedicated group that model creates, "
            "never to the project's Readers group", rule=HYDRATOR,
        )
    targets = []
    for url in urls:
        found = _configured_repository(azure_devops, url)
        if found is None:
            reader.fail("hydrationRepositories", url, "one of the configured repositories (Argo CD reads what it hydrates)", rule=HYDRATOR)
        else:
            targets.append(found)
    return tuple(dict.fromkeys(targets))


def _configured_repository(azure_devops: AzureDevOpsSettings, url: str) -> Repository | None:
    """The configured repository `url` names (Argo CD and Azure DevOps compare URLs case-insensitively)."""
    return next((repo for repo in azure_devops.repositories if repo.url.lower() == url.lower()), None)


def _extension_install(reader: ConfigReader) -> ExtensionInstall:
    version = reader.matching(
        "extensionVersion", reader.text("extensionVersion"),
        lambda v: not v or (bool(re.match(r"^[0-9]{1,4}\.[0-9]{1,4}\.[0-9]{1,4}(-[0-9A-Za-z.]+)?$", v)) and not v.startswith("0.0.")),
        "empty, or a 1.0.0-preview or newer version (0.0.x uses the legacy settings)", rule=EXTENSION,
    )
    extra: dict[str, str] = {}
    for entry in reader.strings("extensionSettings"):
        key, separator, value = entry.partition("=")
        key = key.strip()
        if not separator or not key:
            reader.fail("extensionSettings", entry, '"key=value" entries', rule=EXTENSION)
        elif key in LEGACY_EXTENSION_SETTINGS:
            reader.fail(
                "extensionSettings", entry,
                f"1.0.0-preview keys: {key} is legacy, use {LEGACY_EXTENSION_SETTINGS[key]}", rule=EXTENSION,
            )
        elif CREDENTIAL_SETTING.search(compact(key.rsplit(".", 1)[-1])):
            reader.refuse(f"{PROJECT}:extensionSettings sets {key}: {PAT_FREE_OPTIONS}", rule=NO_PAT)
        elif key in OWNED_EXTENSION_KEYS:
            reader.fail(
                "extensionSettings", entry, f"no {key}: the program sets it (extensionHighAvailability, the identity's client ID)",
                rule=EXTENSION,
            )
        else:
            extra[key] = value.strip()
    return ExtensionInstall(
        release_train=reader.matching(
            "extensionReleaseTrain", reader.text("extensionReleaseTrain"),
            lambda v: bool(re.match(r"^[A-Za-z][A-Za-z0-9-]{0,31}$", v)), "a release train name such as preview or stable", rule=EXTENSION,
        ),
        version=version or None,
        high_availability=reader.boolean("extensionHighAvailability"),
        extra=tuple(sorted(extra.items())),
    )


def _release_name(reader: ConfigReader, hydrator: bool) -> str:
    name = reader.matching(
        "argocdReleaseName", reader.text("argocdReleaseName"), lambda v: is_dns_label(v) and len(v) <= 53 and v[0].isalpha(),
        "a Helm release name (a-z, 0-9, -; at most 53 characters) that starts with a letter, as the chart's Service names must",
        rule=KUBERNETES_NAMES,
    )
    prefix = chart_fullname(name)
    if hydrator and len(prefix) > CHART_PREFIX_MAX_WITH_COMMIT_SERVER:
        reason = (f"at most {CHART_PREFIX_MAX_WITH_COMMIT_SERVER} characters with sourceHydrator, so that "
                  f"'{prefix}-commit-server' is not cut")
    elif len(prefix) > CHART_PREFIX_MAX:
        reason = f"at most {CHART_PREFIX_MAX} characters, or its repo-server and redis Deployments get the same name"
    else:
        return name
    reader.fail(
        "argocdReleaseName", name,
        f"a shorter name: the chart names its objects {prefix!r} plus the component and cuts them at 63 characters; that "
        f"prefix may have {reason} (the chart adds '-argocd' unless the name contains 'argocd')", rule=KUBERNETES_NAMES,
    )
    return name


def _bootstrap_settings(reader: ConfigReader, azure_devops: AzureDevOpsSettings, charts: ChartSettings) -> BootstrapSettings | None:
    enabled = reader.boolean("bootstrapApplication")
    timeout = reader.integer("bootstrapTimeoutSeconds", 60, 3600)
    path = reader.matching(
        "bootstrapPath", reader.text("bootstrapPath"),
        lambda v: not v.startswith("/") and ".." not in v.split("/") and len(v) <= 400 and bool(re.match(r"^[\w./ -]+$", v)),
        "a relative path inside the repository, e.g. apps/bootstrap", rule=ARGO_APPLICATIONS,
    )
    revision = reader.matching(
        "bootstrapTargetRevision", reader.text("bootstrapTargetRevision"),
        is_git_revision,
        "a branch, tag or commit git can name, such as HEAD, main or v1.2.0+build.5 (git check-ref-format: no space, "
        "~ ^ : ? * [ \\, '..', '@{' or '//', no part that starts with '.' or ends in '.lock', no '/' or '.' at the end), "
        "and no '=' (pulumi.com/waitFor refuses it)", rule=KUBERNETES_NAMES,
    )
    wanted = reader.text("bootstrapRepository")
    chart = reader.text("bootstrapChart")
    pushed = reader.boolean("bootstrapChartPushed")
    if not enabled or not azure_devops.repositories:
        return None
    if chart:
        if wanted:
            reader.fail(
                "bootstrapRepository", wanted, "empty with bootstrapChart: the Application syncs one source", rule=ARGO_APPLICATIONS,
            )
        source = bootstrap_chart(reader, charts, chart, revision, pushed)
        return BootstrapSettings(source, revision, timeout) if source else None
    repository = _configured_repository(azure_devops, wanted) if wanted else azure_devops.repositories[0]
    if repository is None:
        reader.fail("bootstrapRepository", wanted, "one of the configured repositories (or empty for the first)", rule=ARGO_APPLICATIONS)
        return None
    return BootstrapSettings(GitPath(repository, path), revision, timeout)
