"""Link 2: a federated credential trusts the service account the live Deployment runs as, with the exact audience."""

from __future__ import annotations

from tests.doctor.fakes import World, deployment, pod, service_account

CHART_DEFAULT = "argo-cd-argocd-repo-server"


def test_a_deployment_running_as_another_service_account_names_the_config_key(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", CHART_DEFAULT)]
    world.service_accounts[CHART_DEFAULT] = service_account(CHART_DEFAULT)
    run = doctor()
    assert run.code == 1
    found = run.found("subject-not-trusted")
    assert found.status == "broken"
    assert found.fix == f"pulumi config set repoServerServiceAccount {CHART_DEFAULT} -s dev && pulumi up -s dev"


def test_a_credential_for_another_subject_lists_what_is_trusted(world: World, doctor) -> None:
    world.outputs["repoServerServiceAccount"] = None
    world.credentials[0]["subject"] = "system:serviceaccount:gitops:argocd-repo-server"
    run = doctor()
    assert run.code == 1
    found = run.found("subject-not-trusted")
    assert found.status == "broken"
    assert found.fix == "pulumi config set repoServerServiceAccount argocd-repo-server -s dev && pulumi up -s dev"


def test_a_wrong_audience_names_the_az_command_that_sets_it(world: World, doctor) -> None:
    world.credentials[0]["audiences"] = ["api://AzureADTokenExchange/"]
    run = doctor()
    assert run.code == 1
    found = run.found("audience-wrong")
    assert found.status == "broken"
    assert found.fix == (
        "az identity federated-credential update --name cluster-repo-server --identity-name argocd-wi-identity "
        "--resource-group argocd-wi-dev-rg --audiences api://AzureADTokenExchange"
    )


def test_no_repo_server_in_the_namespace_is_named(world: World, doctor) -> None:
    world.deployments = []
    world.pods = []
    run = doctor()
    assert run.code == 1
    found = run.found("deployment-missing")
    assert found.status == "broken"
    assert found.fix == "kubectl get deployments --all-namespaces -l app.kubernetes.io/component=repo-server; then pulumi up -s dev"
    assert run.found("exchange-not-tried").status == "skipped"


def test_the_commit_server_is_checked_when_the_hydrator_is_on(world: World, doctor) -> None:
    world.with_hydrator()
    world.credentials.pop()  # no credential for the commit-server
    world.pods.append(pod("commit-server", suffix="second"))
    run = doctor()
    assert run.code == 1
    assert run.found("subject-not-trusted").status == "broken"
