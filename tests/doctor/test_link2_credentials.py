"""Link 2: a federated credential trusts the service account the live Deployment runs as, with the exact audience."""

from __future__ import annotations

from tests.doctor.fakes import World, deployment, pod, service_account

CHART_DEFAULT = "argo-cd-argocd-repo-server"


def test_a_deployment_running_as_another_service_account_names_the_config_key(world: World, doctor) -> None:
    world.deployments = [deployment("repo-server", CHART_DEFAULT)]
    world.service_accounts[CHART_DEFAULT] = service_account(CHART_DEFAULT)
    run = doctor()
    assert run.code == 1
    summary = (
        f"repo-server runs as argocd/{CHART_DEFAULT}, but no federated credential trusts "
        f"system:serviceaccount:argocd:{CHART_DEFAULT}"
    )
    assert run.finding(summary) == [
        f"✗ {summary}",
        f"cause: Entra would answer AADSTS70021; the stack was configured with argocd-repo-server, the Deployment runs as {CHART_DEFAULT}",
        f"fix:   pulumi config set repoServerServiceAccount {CHART_DEFAULT} -s dev && pulumi up -s dev",
    ]


def test_a_credential_for_another_subject_lists_what_is_trusted(world: World, doctor) -> None:
    world.outputs["repoServerServiceAccount"] = None
    world.credentials[0]["subject"] = "system:serviceaccount:gitops:argocd-repo-server"
    run = doctor()
    assert run.code == 1
    summary = ("repo-server runs as argocd/argocd-repo-server, but no federated credential trusts "
               "system:serviceaccount:argocd:argocd-repo-server")
    assert run.finding(summary)[1:] == [
        "cause: Entra would answer AADSTS70021; the credentials trust system:serviceaccount:gitops:argocd-repo-server",
        "fix:   pulumi config set repoServerServiceAccount argocd-repo-server -s dev && pulumi up -s dev",
    ]


def test_a_wrong_audience_names_the_az_command_that_sets_it(world: World, doctor) -> None:
    world.credentials[0]["audiences"] = ["api://AzureADTokenExchange/"]
    run = doctor()
    assert run.code == 1
    summary = "credential cluster-repo-server: audience ['api://AzureADTokenExchange/'] instead of ['api://AzureADTokenExchange']"
    assert run.finding(summary) == [
        f"✗ {summary}",
        "cause: the webhook's token carries the audience api://AzureADTokenExchange, and Entra matches it exactly",
        "fix:   az identity federated-credential update --name cluster-repo-server --identity-name argocd-wi-identity "
        "--resource-group argocd-wi-dev-rg --audiences api://AzureADTokenExchange",
    ]


def test_no_repo_server_in_the_namespace_is_named(world: World, doctor) -> None:
    world.deployments = []
    world.pods = []
    run = doctor()
    assert run.code == 1
    assert run.finding("no repo-server Deployment in namespace argocd") == [
        "✗ no repo-server Deployment in namespace argocd",
        "cause: nothing labelled app.kubernetes.io/component=repo-server runs there: Argo CD is not installed in "
        "argocdNamespace (argocd)",
        "fix:   kubectl get deployments --all-namespaces -l app.kubernetes.io/component=repo-server; then pulumi up -s dev",
    ]
    assert run.finding("token exchange not tried")[1] == "cause: no repo-server service account to ask a token for (link 2)"


def test_the_commit_server_is_checked_when_the_hydrator_is_on(world: World, doctor) -> None:
    world.with_hydrator()
    world.credentials.pop()  # no credential for the commit-server
    world.pods.append(pod("commit-server", suffix="second"))
    run = doctor()
    assert run.code == 1
    summary = ("commit-server runs as argocd/argocd-commit-server, but no federated credential trusts "
               "system:serviceaccount:argocd:argocd-commit-server")
    assert run.finding(summary)[2] == (
        "fix:   pulumi config set commitServerServiceAccount argocd-commit-server -s dev && pulumi up -s dev"
    )
