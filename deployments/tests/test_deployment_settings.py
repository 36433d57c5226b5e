"""The deployment-settings project run offline under Pulumi mocks (preview=False, so every value is known).

Each run happens in a copy of the context: Pulumi keeps its settings, config and mocks in context variables,
so the mocks of other test suites are left as they were.
"""

from __future__ import annotations

import contextvars
import runpy
import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest

PROGRAM = Path(__file__).resolve().parents[1] / "__main__.py"
PROJECT = "argocd-aks-wi-deployments"
SETTINGS_TYPE = "pulumiservice:index:DeploymentSettings"
DRIFT_TYPE = "pulumiservice:index:DriftSchedule"
TTL_TYPE = "pulumiservice:index:TtlSchedule"

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "66666666-7777-8888-9999-000000000000"
SUBSCRIPTION_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"

BASE_CONFIG = {
    "organization": "contoso",
    "stack": "dev",
    "azureClientId": CLIENT_ID,
    "azureTenantId": TENANT_ID,
    "azureSubscriptionId": SUBSCRIPTION_ID,
    "repository": "contoso/argocd-aks-wi",
}


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, list[dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs.setdefault(args.typ, []).append(args.inputs)
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def run_resources(main: Path = PROGRAM, /, **overrides: str) -> dict[str, list[dict[str, Any]]]:
    """Run deployments/__main__.py with BASE_CONFIG plus overrides; return every resource's inputs by type."""
    config = {f"{PROJECT}:{key}": value for key, value in {**BASE_CONFIG, **overrides}.items()}

    def run() -> dict[str, list[dict[str, Any]]]:
        recorder = _Recorder()
        pulumi.runtime.set_mocks(recorder, project=PROJECT, stack="settings", preview=False)
        pulumi.runtime.set_all_config(config)

        @pulumi.runtime.test
        def program() -> None:
            runpy.run_path(str(main), run_name="__main__")

        program()
        return recorder.inputs

    return contextvars.copy_context().run(run)


def run_program(**overrides: str) -> dict[str, Any]:
    """The DeploymentSettings inputs of a run with BASE_CONFIG plus overrides."""
    [settings] = run_resources(**overrides)[SETTINGS_TYPE]
    return settings


def test_settings_target_the_configured_stack() -> None:
    settings = run_program()
    assert (settings["organization"], settings["project"], settings["stack"]) == ("contoso", "argocd-aks-wi", "dev")


def test_azure_login_is_oidc_with_the_configured_identity() -> None:
    oidc = run_program()["operationContext"]["oidc"]
    assert oidc == {"azure": {"clientId": CLIENT_ID, "tenantId": TENANT_ID, "subscriptionId": SUBSCRIPTION_ID}}


def test_no_secret_or_static_credential_is_configured() -> None:
    settings = run_program()
    # Only kubelogin's non-secret settings: which login, which identity, where the token file is.
    assert set(settings["operationContext"]["environmentVariables"]) == {
        "AAD_LOGIN_METHOD", "AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE",
    }
    assert "gitAuth" not in settings["sourceContext"]["git"]
    assert "executorContext" not in settings


def test_pull_requests_are_previewed_and_pushes_deployed_through_vcs() -> None:
    settings = run_program()
    assert settings["vcs"] == {
        "provider": "github",
        "repository": "contoso/argocd-aks-wi",
        "previewPullRequests": True,
        "deployCommits": True,
        "pullRequestTemplate": False,
    }
    assert run_resources().keys() == {SETTINGS_TYPE}, "no schedule unless configured"
    assert "github" not in settings


def test_azure_devops_repositories_use_the_same_vcs_block() -> None:
    vcs = run_program(vcsProvider="azure_devops", repository="platform/argocd-aks-wi")["vcs"]
    assert (vcs["provider"], vcs["repository"]) == ("azure_devops", "platform/argocd-aks-wi")


def test_source_is_the_branch_as_a_full_ref_and_the_program_folder() -> None:
    assert run_program()["sourceContext"]["git"] == {"branch": "refs/heads/main", "repoDir": "."}
    git = run_program(branch="release", repoDir="infra")["sourceContext"]["git"]
    assert git == {"branch": "refs/heads/release", "repoDir": "infra"}


def test_pre_run_commands_install_kubelogin_then_log_the_cli_in_with_the_oidc_token() -> None:
    install, login, select = run_program()["operationContext"]["preRunCommands"]
    assert install.startswith("az aks install-cli --kubelogin-version v")
    assert "--kubelogin-install-location /usr/local/bin/kubelogin" in install
    assert login.startswith("az login --service-principal")
    assert '--federated-token "$(cat /mnt/pulumi/pulumi.oidc)"' in login
    assert '"$ARM_CLIENT_ID"' in login and '"$ARM_TENANT_ID"' in login
    assert select == 'az account set --subscription "$ARM_SUBSCRIPTION_ID"'


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("azureClientId", "not-a-guid"),
        ("azureTenantId", "contoso.onmicrosoft.com"),
        ("azureSubscriptionId", "/subscriptions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"),
        ("vcsProvider", "gitlab"),
        ("repository", "https://github.com/contoso/argocd-aks-wi"),
        ("azureLogin", "cli"),
        ("driftSchedule", "every 6 hours"),
        ("driftAutoRemediate", "true"),
        ("ttlExpiresAt", "2027-01-31"),
        ("ttlDeleteStack", "true"),
    ],
)
def test_bad_config_stops_the_run_naming_the_key(key: str, value: str) -> None:
    with pytest.raises(Exception, match=f"config {key}="):
        run_program(**{key: value})


def test_missing_required_key_stops_the_run() -> None:
    config = {key: value for key, value in BASE_CONFIG.items() if key != "organization"}

    def run() -> None:
        pulumi.runtime.set_mocks(_Recorder(), project=PROJECT, stack="settings", preview=False)
        pulumi.runtime.set_all_config({f"{PROJECT}:{key}": value for key, value in config.items()})
        runpy.run_path(str(PROGRAM), run_name="__main__")

    with pytest.raises(pulumi.ConfigMissingError, match="organization"):
        contextvars.copy_context().run(run)


# --- kubelogin in a deployment --------------------------------------------------------------------------


def test_kubelogin_logs_in_with_the_deployment_token_file_not_the_cli_session() -> None:
    env = run_program()["operationContext"]["environmentVariables"]
    # AAD_LOGIN_METHOD overrides the kubeconfig's `--login azurecli` (Azure/kubelogin pkg/internal/token/options.go).
    assert env == {
        "AAD_LOGIN_METHOD": "workloadidentity",
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_TENANT_ID": TENANT_ID,
        "AZURE_FEDERATED_TOKEN_FILE": "/mnt/pulumi/pulumi.oidc",
    }


def test_esc_login_leaves_azure_to_the_environment_and_needs_no_cli_login() -> None:
    context = run_program(azureLogin="esc")["operationContext"]
    assert "oidc" not in context
    assert "environmentVariables" not in context
    [install] = context["preRunCommands"]
    assert install.startswith("az aks install-cli --kubelogin-version v")


# --- lifecycle: drift, TTL, review stacks ---------------------------------------------------------------


def test_drift_schedule_runs_on_the_configured_cron_for_the_target_stack() -> None:
    [drift] = run_resources(driftSchedule="0 */6 * * *")[DRIFT_TYPE]
    assert drift == {
        "organization": "contoso",
        "project": "argocd-aks-wi",
        "stack": "dev",
        "scheduleCron": "0 */6 * * *",
        "autoRemediate": False,
    }


def test_drift_remediation_is_off_by_default_in_production_and_on_elsewhere() -> None:
    [production] = run_resources(driftSchedule="0 6 * * *")[DRIFT_TYPE]
    [short_lived] = run_resources(driftSchedule="0 6 * * *", production="false")[DRIFT_TYPE]
    assert (production["autoRemediate"], short_lived["autoRemediate"]) == (False, True)


def test_drift_remediation_in_production_only_when_asked_for() -> None:
    [drift] = run_resources(driftSchedule="0 6 * * *", driftAutoRemediate="true")[DRIFT_TYPE]
    assert drift["autoRemediate"] is True
    [drift] = run_resources(driftSchedule="0 6 * * *", production="false", driftAutoRemediate="false")[DRIFT_TYPE]
    assert drift["autoRemediate"] is False


def beside_stack_file(root: Path, stack: str, stack_config: dict[str, str] | None) -> Path:
    """A copy of this project in `root`/deployments beside the program's stack file (None: no file): the tests own
    the stack files the lifecycle checks read, never the repository's."""
    (root / "deployments").mkdir()
    shutil.copy(PROGRAM, root / "deployments" / "__main__.py")
    if stack_config is not None:
        lines = [f"  argocd-aks-wi:{key}: {value!r}" for key, value in stack_config.items()]
        (root / f"Pulumi.{stack}.yaml").write_text("\n".join(["config:", *lines]) + "\n")
    return root / "deployments" / "__main__.py"


UNPROTECTED = {"protectResources": "false"}


def test_ttl_schedule_destroys_a_short_lived_stack_at_the_configured_time(tmp_path: Path) -> None:
    program = beside_stack_file(tmp_path, "dev", UNPROTECTED)
    [ttl] = run_resources(program, production="false", ttlExpiresAt="2027-01-31T18:00:00Z")[TTL_TYPE]
    assert ttl == {
        "organization": "contoso",
        "project": "argocd-aks-wi",
        "stack": "dev",
        "timestamp": "2027-01-31T18:00:00Z",
        "deleteAfterDestroy": False,
    }
    [ttl] = run_resources(program, production="false", ttlExpiresAt="2027-01-31T18:00:00Z", ttlDeleteStack="true")[TTL_TYPE]
    assert ttl["deleteAfterDestroy"] is True


def test_ttl_is_refused_on_a_production_stack() -> None:
    with pytest.raises(Exception, match="config ttlExpiresAt destroys the stack"):
        run_program(ttlExpiresAt="2027-01-31T18:00:00Z")


@pytest.mark.parametrize(("stack_config", "found"), [
    (None, "does not set argocd-aks-wi:protectResources"),
    ({}, "does not set argocd-aks-wi:protectResources"),
    ({"protectResources": "auto"}, "sets argocd-aks-wi:protectResources = 'auto'"),
    ({"protectResources": "true"}, "sets argocd-aks-wi:protectResources = 'true'"),
])
@pytest.mark.parametrize("lifecycle", [
    {"stack": "short", "ttlExpiresAt": "2027-01-31T18:00:00Z"},
    {"stack": "pr", "azureLogin": "esc", "reviewStackTemplate": "true"},
])
def test_a_stack_destroyed_automatically_must_not_protect_its_resources(
    tmp_path: Path, lifecycle: dict[str, str], stack_config: dict[str, str] | None, found: str,
) -> None:
    program = beside_stack_file(tmp_path, lifecycle["stack"], stack_config)
    with pytest.raises(Exception, match=f"Pulumi.{lifecycle['stack']}.yaml {found}: set it to \"false\""):
        run_resources(program, production="false", **lifecycle)


def test_review_stack_template_is_copied_for_pull_requests_and_never_deployed_itself(tmp_path: Path) -> None:
    program = beside_stack_file(tmp_path, "pr", UNPROTECTED)
    [settings] = run_resources(program, stack="pr", production="false", azureLogin="esc", reviewStackTemplate="true")[SETTINGS_TYPE]
    vcs = settings["vcs"]
    assert (vcs["pullRequestTemplate"], vcs["deployCommits"], vcs["previewPullRequests"]) == (True, False, True)


def test_review_stack_template_is_refused_on_production() -> None:
    with pytest.raises(Exception, match="config reviewStackTemplate=true copies this stack"):
        run_program(azureLogin="esc", reviewStackTemplate="true")


def test_review_stacks_need_the_esc_login_because_their_names_are_new() -> None:
    with pytest.raises(Exception, match="needs azureLogin: esc"):
        run_program(production="false", reviewStackTemplate="true")
