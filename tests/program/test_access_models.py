"""Access models, many repositories and projects, many clusters on one identity, the Source Hydrator,
the bootstrap Application that proves access, and the order in which a destroy removes things."""

from __future__ import annotations

import itertools
import json
import logging

import pytest

from harness import (
    APPLICATION,
    CLUSTER,
    CREDENTIAL,
    ENTITLEMENT,
    GET_GROUP,
    GIT_PERMISSIONS,
    GROUP,
    IDENTITY,
    MEMBERSHIP,
    ORG,
    RELEASE,
    SECRET,
    SECRET_TYPE,
    generated,
    run_program,
)
from tools.offline.engine import ProgramRun, Resource

SPREAD_REPOSITORIES = [
    f"{ORG}/gitops/_git/cluster-config",
    f"{ORG}/gitops/_git/team-apps",
    f"{ORG}/payments/_git/payments-deploy",
    f"{ORG}/Customer%20Portal/_git/portal-deploy",
]
SPREAD_PREFIXES = [f"{ORG}/gitops/_git/", f"{ORG}/payments/_git/", f"{ORG}/Customer%20Portal/_git/"]
EXTRA_ISSUERS = [
    "https://westeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-0000000e1a1d/11111111-1111-1111-1111-111111111111/",
    "https://northeurope.oic.prod-aks.azure.com/00000000-0000-0000-0000-0000000e1a1d/22222222-2222-2222-2222-222222222222/",
]


@pytest.fixture(scope="module")
def readers() -> ProgramRun:
    return run_program("dev", overrides={"accessModel": "readers"})


@pytest.fixture(scope="module")
def spread() -> ProgramRun:
    """Repositories in three projects, registered through credential templates."""
    return run_program("dev", overrides={"repositories": SPREAD_REPOSITORIES, "credentialTemplates": True})


@pytest.fixture(scope="module")
def trusting() -> ProgramRun:
    """The identity also trusts two further clusters and a further service account."""
    return run_program(
        "dev", overrides={"additionalIssuers": EXTRA_ISSUERS, "additionalServiceAccounts": ["tenant-a/argocd-repo-server"]}
    )


@pytest.fixture(scope="module")
def hydrator() -> ProgramRun:
    return run_program("dev", overrides={
        "sourceHydrator": True,
        "commitServerServiceAccount": "argocd-commit-writer",
        "hydrationRepositories": [f"{ORG}/gitops/_git/cluster-config"],
    })


@pytest.fixture(scope="module")
def scale() -> ProgramRun:
    """100 repositories over 10 projects: enough for every per-project and per-repository invariant below. How the
    evaluation time grows up to 300 is measured by tools/bench, not here."""
    repositories = [f"{ORG}/project-{p:02d}/_git/repo-{r:03d}" for p in range(10) for r in range(10)]
    return run_program("dev", overrides={"repositories": repositories})


def descriptor(resource: Resource) -> str:
    return resource.outputs["descriptor"]


def group_of_project(run: ProgramRun, project: str) -> Resource:
    (group,) = [g for g in run.of_type(GROUP) if g.inputs["scope"] == generated(run, f"id of project {project}")]
    return group


def secrets_labelled(run: ProgramRun, secret_type: str) -> list[Resource]:
    return [s for s in run.of_type(SECRET) if s.input("metadata.labels")[SECRET_TYPE] == secret_type]


def issuer_of_cluster(run: ProgramRun) -> str:
    return run.one(CLUSTER).outputs["oidcIssuerProfile"]["issuerURL"]


# --- Access model "repositories" (the default) -------------------------------------------------------


def test_repositories_model_is_the_default() -> None:
    assert run_program("dev", overrides={"accessModel": None}).of_type(GIT_PERMISSIONS)


def test_repositories_model_makes_one_group_per_project(spread: ProgramRun) -> None:
    scopes = sorted(group.inputs["scope"] for group in spread.of_type(GROUP))
    projects = ["gitops", "payments", "Customer Portal"]
    assert scopes == sorted(generated(spread, f"id of project {project}") for project in projects)


def test_dedicated_group_holds_exactly_the_identity(dev: ProgramRun) -> None:
    assert dev.one(GROUP).inputs["members"] == [descriptor(dev.one(ENTITLEMENT))]


def test_each_configured_repository_gets_one_read_grant(dev: ProgramRun) -> None:
    granted = sorted(grant.inputs["repositoryId"] for grant in dev.of_type(GIT_PERMISSIONS))
    expected = sorted(generated(dev, f"id of repository {name}") for name in ("cluster-config", "team-apps"))
    assert granted == expected


def test_read_grant_allows_generic_read_and_nothing_else(dev: ProgramRun) -> None:
    assert [grant.inputs["permissions"] for grant in dev.of_type(GIT_PERMISSIONS)] == [{"GenericRead": "Allow"}] * 2


def test_read_grant_principal_is_the_group_descriptor(dev: ProgramRun) -> None:
    group = dev.one(GROUP)
    assert {grant.inputs["principal"] for grant in dev.of_type(GIT_PERMISSIONS)} == {descriptor(group)}
    assert descriptor(group) != descriptor(dev.one(ENTITLEMENT))


def test_read_grants_go_to_the_group_of_their_own_project(spread: ProgramRun) -> None:
    for grant in spread.of_type(GIT_PERMISSIONS):
        group = next(g for g in spread.of_type(GROUP) if g.inputs["scope"] == grant.inputs["projectId"])
        assert grant.inputs["principal"] == descriptor(group)
    payments = group_of_project(spread, "payments")
    assert [g.inputs["repositoryId"] for g in spread.of_type(GIT_PERMISSIONS) if g.inputs["principal"] == descriptor(payments)] == [
        generated(spread, "id of repository payments-deploy")
    ]


def test_hyphens_in_project_and_repository_names_never_run_two_grants_together() -> None:
    """platform/team-apps and platform-team/apps were both "platform-team-apps" once: a duplicate URN that stopped
    `pulumi up`. Each grant is now named with a slash (which neither name may hold) and is granted on its own
    repository. Each keeps its older hyphenated name as an alias: the two share it, so a stack that still holds that
    name stops at preview (the engine refuses a second claim) instead of handing one repository's grant to the other."""
    run = run_program("dev", overrides={"repositories": [
        f"{ORG}/platform/_git/team-apps", f"{ORG}/platform-team/_git/apps", f"{ORG}/gitops/_git/cluster-config",
    ]})
    grants = {grant.name: grant for grant in run.of_type(GIT_PERMISSIONS)}
    assert set(grants) == {"devops-platform/team-apps-read", "devops-platform-team/apps-read", "devops-gitops/cluster-config-read"}
    assert grants["devops-platform/team-apps-read"].inputs["repositoryId"] == generated(run, "id of repository team-apps")
    assert grants["devops-platform-team/apps-read"].inputs["repositoryId"] == generated(run, "id of repository apps")
    assert grants["devops-platform/team-apps-read"].options["aliases"] == [{"name": "devops-platform-team-apps-read"}]
    assert grants["devops-platform-team/apps-read"].options["aliases"] == [{"name": "devops-platform-team-apps-read"}]
    assert grants["devops-gitops/cluster-config-read"].options["aliases"] == [{"name": "devops-gitops-cluster-config-read"}]


def test_repositories_model_adds_nobody_to_readers(dev: ProgramRun) -> None:
    assert dev.of_type(MEMBERSHIP) == []
    assert [token for token, _ in dev.invokes if token == GET_GROUP] == []


# --- Access model "readers" --------------------------------------------------------------------------


def test_readers_model_adds_the_identity_to_the_projects_readers_group(readers: ProgramRun) -> None:
    membership = readers.one(MEMBERSHIP)
    assert membership.inputs["group"] == generated(readers, "descriptor of group Readers")
    assert membership.inputs["members"] == [descriptor(readers.one(ENTITLEMENT))]


def test_readers_membership_adds_without_replacing_other_members(readers: ProgramRun) -> None:
    assert readers.one(MEMBERSHIP).inputs["mode"] == "add"


def test_readers_group_is_looked_up_by_name_in_the_project(readers: ProgramRun) -> None:
    project_id = generated(readers, "id of project gitops")
    assert (GET_GROUP, {"projectId": project_id, "name": "Readers"}) in readers.invokes


def test_readers_model_creates_no_group_and_no_grant(readers: ProgramRun) -> None:
    assert (readers.of_type(GROUP), readers.of_type(GIT_PERMISSIONS)) == ([], [])


@pytest.mark.parametrize("model", ["repositories", "readers"])
def test_licence_stays_basic_in_every_access_model(model: str, dev: ProgramRun, readers: ProgramRun) -> None:
    run = {"repositories": dev, "readers": readers}[model]
    assert run.one(ENTITLEMENT).inputs["accountLicenseType"] == "express"


# --- Credential templates ----------------------------------------------------------------------------


def test_credential_templates_make_one_repo_creds_secret_per_project_prefix(spread: ProgramRun) -> None:
    assert sorted(s.input("stringData.url") for s in secrets_labelled(spread, "repo-creds")) == sorted(SPREAD_PREFIXES)


def test_credential_templates_replace_the_per_repository_secrets(spread: ProgramRun) -> None:
    assert secrets_labelled(spread, "repository") == []


def test_credential_template_is_git_over_workload_identity_with_no_credential(spread: ProgramRun) -> None:
    for secret in secrets_labelled(spread, "repo-creds"):
        assert secret.inputs["stringData"] == {
            "type": "git", "url": secret.input("stringData.url"), "useAzureWorkloadIdentity": "true",
        }


def test_credential_template_prefix_covers_its_repositories_in_their_url_form(spread: ProgramRun) -> None:
    # Argo CD matches templates by URL prefix; the prefix keeps the repositories' exact form (docs/facts.md#argo-cd-repository-secrets).
    for url in SPREAD_REPOSITORIES:
        assert sum(url.startswith(prefix) for prefix in spread.stack_outputs["repositoryUrls"]) == 1


def test_repository_urls_output_lists_the_templates(spread: ProgramRun) -> None:
    assert spread.stack_outputs["repositoryUrls"] == SPREAD_PREFIXES


# --- Many clusters and service accounts on one identity ----------------------------------------------


def test_every_trusted_issuer_trusts_every_trusted_service_account(trusting: ProgramRun) -> None:
    issuers = [issuer_of_cluster(trusting), *EXTRA_ISSUERS]
    subjects = ["system:serviceaccount:argocd:argocd-repo-server", "system:serviceaccount:tenant-a:argocd-repo-server"]
    pairs = [(c.inputs["issuer"], c.inputs["subject"]) for c in trusting.of_type(CREDENTIAL)]
    assert sorted(pairs) == sorted((issuer, subject) for issuer in issuers for subject in subjects)


def test_federated_credentials_are_created_one_after_another(trusting: ProgramRun) -> None:
    credentials = trusting.of_type(CREDENTIAL)
    assert len(credentials) == 6
    assert all(earlier.urn in later.dependencies for earlier, later in itertools.pairwise(credentials))


def test_first_federated_credential_waits_for_no_other(trusting: ProgramRun) -> None:
    first, *others = trusting.of_type(CREDENTIAL)
    assert {c.urn for c in others} & first.dependencies == set()


def test_federated_credential_azure_names_are_unique(trusting: ProgramRun) -> None:
    names = [c.inputs["federatedIdentityCredentialResourceName"] for c in trusting.of_type(CREDENTIAL)]
    assert len(set(names)) == len(names) == 6


def test_argocd_waits_for_every_federated_credential(trusting: ProgramRun) -> None:
    release = trusting.one(RELEASE)
    assert all(trusting.depends_on(release, credential) for credential in trusting.of_type(CREDENTIAL))


# --- Source Hydrator ---------------------------------------------------------------------------------


def test_hydrator_trusts_the_commit_server_account(hydrator: ProgramRun) -> None:
    subjects = {c.inputs["subject"]: c.inputs["issuer"] for c in hydrator.of_type(CREDENTIAL)}
    assert subjects == {
        "system:serviceaccount:argocd:argocd-repo-server": issuer_of_cluster(hydrator),
        "system:serviceaccount:argocd:argocd-commit-writer": issuer_of_cluster(hydrator),
    }


def test_hydrator_commit_server_runs_as_the_identity(hydrator: ProgramRun) -> None:
    commit_server = hydrator.one(RELEASE).inputs["values"]["commitServer"]
    client_id = hydrator.one(IDENTITY).outputs["clientId"]
    assert commit_server["enabled"] is True
    assert commit_server["serviceAccount"]["name"] == "argocd-commit-writer"
    assert commit_server["serviceAccount"]["annotations"] == {"azure.workload.identity/client-id": client_id}
    assert commit_server["podLabels"] == {"azure.workload.identity/use": "true"}


def test_hydrator_is_enabled_in_argocd_params_as_the_string_true(hydrator: ProgramRun) -> None:
    assert hydrator.one(RELEASE).inputs["values"]["configs"]["params"]["hydrator.enabled"] == "true"


def test_without_hydrator_the_commit_server_is_neither_trusted_nor_configured(dev: ProgramRun) -> None:
    assert [c.inputs["subject"] for c in dev.of_type(CREDENTIAL)] == ["system:serviceaccount:argocd:argocd-repo-server"]
    assert "commitServer" not in dev.one(RELEASE).inputs["values"]


# --- Proof of access: the bootstrap Application ------------------------------------------------------


def test_bootstrap_application_waits_until_synced_and_healthy_from_its_own_source(dev: ProgramRun) -> None:
    application = dev.one(APPLICATION)
    wait_for = application.input("metadata.annotations")["pulumi.com/waitFor"]
    assert json.loads(wait_for) == [
        "jsonpath={.status.sync.status}=Synced",
        "jsonpath={.status.health.status}=Healthy",
        f"jsonpath={{.status.sync.comparedTo.source.path}}={application.input('spec.source.path')}",
        f"jsonpath={{.status.sync.comparedTo.source.targetRevision}}={application.input('spec.source.targetRevision')}",
    ]


@pytest.mark.parametrize(("configured", "timeout"), [(None, "600"), (900, "900")])
def test_bootstrap_wait_is_bounded_by_the_configured_timeout(configured: int | None, timeout: str) -> None:
    run = run_program("dev", overrides={"bootstrapTimeoutSeconds": configured})
    assert run.one(APPLICATION).input("metadata.annotations")["pulumi.com/timeoutSeconds"] == timeout


def test_bootstrap_application_syncs_the_first_repository_by_default(dev: ProgramRun) -> None:
    source = dev.one(APPLICATION).input("spec.source")
    assert (source["repoURL"], source["path"]) == (f"{ORG}/gitops/_git/cluster-config", "bootstrap")


def test_bootstrap_application_syncs_the_configured_repository_and_path() -> None:
    run = run_program(
        "dev", overrides={"bootstrapRepository": f"{ORG}/gitops/_git/team-apps", "bootstrapPath": "clusters/dev"}
    )
    source = run.one(APPLICATION).input("spec.source")
    assert (source["repoURL"], source["path"]) == (f"{ORG}/gitops/_git/team-apps", "clusters/dev")


def test_bootstrap_application_carries_the_error_hook_that_prints_the_causes(dev: ProgramRun) -> None:
    application = dev.one(APPLICATION)
    assert application.options["error_hooks"] == ["argocd-bootstrap-explain"]


# --- Destroy order: what depends on what is deleted first --------------------------------------------


def test_read_grants_are_removed_before_the_entitlement(dev: ProgramRun) -> None:
    entitlement = dev.one(ENTITLEMENT)
    assert all(dev.depends_on(grant, entitlement) for grant in dev.of_type(GIT_PERMISSIONS))


def test_dedicated_group_is_removed_before_the_entitlement(dev: ProgramRun) -> None:
    assert dev.depends_on(dev.one(GROUP), dev.one(ENTITLEMENT))


def test_readers_membership_is_removed_before_the_entitlement(readers: ProgramRun) -> None:
    assert readers.depends_on(readers.one(MEMBERSHIP), readers.one(ENTITLEMENT))


@pytest.mark.parametrize("registration", ["repository", "repo-creds"])
def test_application_is_removed_before_the_secrets_that_let_it_read(
    registration: str, dev: ProgramRun, spread: ProgramRun
) -> None:
    run = {"repository": dev, "repo-creds": spread}[registration]
    application = run.one(APPLICATION)
    secrets = secrets_labelled(run, registration)
    assert secrets and all(secret.urn in application.dependencies for secret in secrets)


# --- Scale -------------------------------------------------------------------------------------------


def test_100_repositories_across_10_projects_evaluate(scale: ProgramRun) -> None:
    assert len(scale.of_type(GROUP)) == 10
    assert len(scale.of_type(GIT_PERMISSIONS)) == 100
    assert len(secrets_labelled(scale, "repository")) == 100
    assert len(scale.stack_outputs["repositoryUrls"]) == 100


def test_100_repository_secrets_have_unique_kubernetes_names(scale: ProgramRun) -> None:
    names = {secret.input("metadata.name") for secret in scale.of_type(SECRET)}
    assert len(names) == 100
    assert all(len(name) <= 63 for name in names)


def test_a_configured_repository_missing_from_its_project_stops_up_naming_it() -> None:
    """The run stops with an error naming the missing repository. The Outputs that waited on the lookup stay failed
    and unobserved, so the run quietens asyncio's log as `pulumi up`'s language host does; otherwise asyncio would
    print a traceback for each of them when the process ends (32 in one suite run)."""
    from components.devops_access import RepositoryNotFoundError
    from tools.offline.engine import AzureMocks

    only_one = AzureMocks(repositories={("gitops", "cluster-config")})
    with pytest.raises(RepositoryNotFoundError, match="'team-apps'"):
        run_program("dev", mocks=only_one)
    assert not logging.getLogger("asyncio").isEnabledFor(logging.ERROR)


def test_repository_ids_come_from_one_lookup_per_project_not_per_repository(dev: ProgramRun) -> None:
    lookups = [args for token, args in dev.invokes if token == "azuredevops:index/getRepositories:getRepositories"]
    assert len(lookups) == 1 and len(dev.of_type(GIT_PERMISSIONS)) == 2
