"""The end-to-end run's own logic, offline: its stack config, step order, cleanup on failure and report, against a fake
workspace and cloud. A broken scripts/e2e fails here, long before anyone spends money on it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from tools.e2e.__main__ import main
from tools.e2e.plan import E2eEnvironment, E2eSetupError, stack_config, stack_name
from tools.e2e.runner import run_e2e
from tools.offline.engine import ROOT

ENVIRONMENT = E2eEnvironment(
    subscription_id="00000000-0000-0000-0000-000000000001", organization_url="https://dev.azure.com/fabrikam",
    project="platform", repository="https://dev.azure.com/fabrikam/platform/_git/gitops",
    second_repository="https://dev.azure.com/fabrikam/platform/_git/apps", bootstrap_path="clusters/e2e",
    location="swedencentral", spoke_cluster="rg-spokes/aks-spoke",
)
OUTPUTS = {"identityResourceGroup": "resource-group1234", "clusterName": "aks", "argocdNamespace": "argocd"}


@dataclass
class FakeStack:
    name: str
    calls: list[str]
    fail: set[str]
    replaced_on_change: bool = False
    configs: list[dict[str, str]] = field(default_factory=list)

    def _call(self, what: str) -> None:
        self.calls.append(what)
        if what in self.fail:
            raise RuntimeError(f"error: {what} failed\n  the last line names the cause")

    def set_config(self, config: Mapping[str, str]) -> None:
        self._call("set_config")
        self.configs.append(dict(config))

    def preview(self) -> dict[str, int]:
        self._call("preview")
        return {"same": 40, "create": 3, "replace": 1 if self.replaced_on_change else 0}

    def up(self) -> dict[str, int]:
        self._call("up")
        changed = len(self.configs) > 1
        return {"same": 40, "create": 3, "replace": 1 if changed and self.replaced_on_change else 0}

    def outputs(self) -> dict[str, Any]:
        self._call("outputs")
        return dict(OUTPUTS)

    def destroy(self) -> None:
        self._call("destroy")

    def remove(self) -> None:
        self._call("remove")


@dataclass
class Fakes:
    fail: set[str] = field(default_factory=set)
    broken: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    replaced_on_change: bool = False
    calls: list[str] = field(default_factory=list)
    stack: FakeStack | None = None

    def create_stack(self, name: str) -> FakeStack:
        self.calls.append("create_stack")
        if "create_stack" in self.fail:
            raise RuntimeError("error: no backend: run pulumi login")
        self.stack = FakeStack(name, self.calls, self.fail, self.replaced_on_change)
        return self.stack

    def broken_links(self, stack: str, outputs: Mapping[str, Any]) -> list[str]:
        self.calls.append("doctor")
        return self.broken

    def unsynced_applications(self, outputs: Mapping[str, Any]) -> list[str]:
        self.calls.append("synced")
        return []

    def left_behind(self, outputs: Mapping[str, Any], environment: E2eEnvironment) -> list[str]:
        self.calls.append("left_behind")
        assert outputs == OUTPUTS and environment == ENVIRONMENT
        return self.left


def run(fakes: Fakes, variant: str = "helm") -> Any:
    return run_e2e(variant, ENVIRONMENT, fakes, fakes, log=lambda _: None, name="e2e-helm-test")


def test_a_passing_run_deploys_proves_changes_in_place_then_destroys_and_removes_the_stack() -> None:
    fakes = Fakes()
    report = run(fakes)
    assert fakes.calls == [
        "create_stack", "set_config", "up", "outputs", "doctor", "synced", "set_config", "preview", "up", "outputs",
        "destroy", "left_behind", "remove",
    ]
    assert report.passed and "PASSED" in report.render()


@pytest.mark.parametrize("failing", ["up", "set_config", "outputs", "preview"])
def test_a_failed_step_stops_the_run_but_destroy_and_removal_still_happen(failing: str) -> None:
    fakes = Fakes(fail={failing})
    report = run(fakes)
    assert not report.passed and fakes.calls[-1] == "remove" and "destroy" in fakes.calls
    [failed] = [step for step in report.steps if not step.ok]
    assert failed.detail == "the last line names the cause"
    assert fakes.calls.count("doctor") <= 1


def test_a_failed_destroy_keeps_the_stack_and_says_how_to_finish() -> None:
    fakes = Fakes(fail={"destroy"})
    report = run(fakes)
    assert "remove" not in fakes.calls and report.stack_kept and not report.passed
    assert "pulumi destroy --stack e2e-helm-test --yes, then pulumi stack rm e2e-helm-test --yes" in report.render()


def test_what_is_left_after_destroy_fails_the_run_and_is_listed_with_its_command() -> None:
    leftover = "resource group resource-group1234: az group delete --name resource-group1234 --yes"
    report = run(Fakes(left=[leftover]))
    assert not report.passed and f"    - {leftover}" in report.render()


def test_a_replacement_in_the_in_place_change_fails_the_run() -> None:
    report = run(Fakes(replaced_on_change=True))
    [failed] = [step for step in report.steps if not step.ok]
    assert failed.name == "preview: nothing replaced" and "1 replace" in failed.detail


def test_a_broken_link_found_by_the_doctor_fails_the_run_before_the_change() -> None:
    fakes = Fakes(broken=["link 5 broken: the identity cannot read the repository"])
    report = run(fakes)
    assert "preview" not in fakes.calls and "destroy" in fakes.calls
    assert "link 5 broken" in report.render()


def test_a_stack_that_could_not_be_created_needs_no_cleanup() -> None:
    fakes = Fakes(fail={"create_stack"})
    report = run(fakes)
    assert fakes.calls == ["create_stack"] and not report.passed


def test_without_outputs_the_report_says_nothing_could_be_checked() -> None:
    report = run(Fakes(fail={"up"}))
    assert any("no outputs were read" in item for item in report.left_behind)


# --- The throw-away stack's config ---------------------------------------------------------------------------


def test_the_stack_is_unprotected_waits_for_the_bootstrap_and_reads_one_repository() -> None:
    config = stack_config(ENVIRONMENT, "helm")
    assert config["argocd-aks-wi:protectResources"] == "false"
    assert config["argocd-aks-wi:bootstrapApplication"] == "true"
    assert config["argocd-aks-wi:bootstrapPath"] == "clusters/e2e"
    assert json.loads(config["argocd-aks-wi:repositories"]) == ["https://dev.azure.com/fabrikam/platform/_git/gitops"]
    assert config["azure-native:subscriptionId"] == "00000000-0000-0000-0000-000000000001"
    assert config["argocd-aks-wi:argocdInstallMethod"] == "helm" and "argocd-aks-wi:spokes" not in config


def test_the_in_place_change_adds_the_second_repository() -> None:
    fakes = Fakes()
    run(fakes)
    assert fakes.stack is not None
    first, second = fakes.stack.configs
    assert json.loads(second["argocd-aks-wi:repositories"]) == [
        "https://dev.azure.com/fabrikam/platform/_git/gitops", "https://dev.azure.com/fabrikam/platform/_git/apps",
    ]
    assert {k: v for k, v in second.items() if k != "argocd-aks-wi:repositories"} == {
        k: v for k, v in first.items() if k != "argocd-aks-wi:repositories"
    }


def test_the_extension_variant_turns_high_availability_off_for_two_nodes() -> None:
    config = stack_config(ENVIRONMENT, "extension")
    assert (config["argocd-aks-wi:argocdInstallMethod"], config["argocd-aks-wi:extensionHighAvailability"]) == ("extension", "false")


def test_the_fleet_variant_adopts_the_named_spoke_with_a_bootstrap() -> None:
    spokes = json.loads(stack_config(ENVIRONMENT, "fleet")["argocd-aks-wi:spokes"])
    assert spokes == [{"name": "adopted", "existing": {"resourceGroup": "rg-spokes", "clusterName": "aks-spoke"}, "bootstrap": True}]


def test_the_generated_config_plans_offline() -> None:
    """What the run would deploy passes the program's own settings, for every variant (the fleet's spoke lookup is
    the offline engine's)."""
    from harness import run_program

    for variant in ("helm", "extension", "fleet"):
        config = {key.split(":", 1)[1]: value for key, value in stack_config(ENVIRONMENT, variant).items()
                  if key.startswith("argocd-aks-wi:")}
        parsed = {key: json.loads(value) if value.startswith(("[", "{")) else value for key, value in config.items()}
        run = run_program("dev", overrides=parsed)
        assert all(not r.options["protect"] for r in run.resources), variant


def test_stack_names_are_unique_and_say_what_they_are() -> None:
    names = {stack_name("fleet") for _ in range(20)}
    assert len(names) == 20 and all(name.startswith("e2e-fleet-") for name in names)


# --- The command ---------------------------------------------------------------------------------------------


def test_without_its_environment_nothing_runs_and_the_variables_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["helm"]) == 2 or pytest.fail("ran without an environment")
    assert "ARGOCD_AKS_WI_E2E_SUBSCRIPTION_ID" in capsys.readouterr().err


def test_the_fleet_variant_needs_a_spoke_to_adopt() -> None:
    complete = {f"ARGOCD_AKS_WI_E2E_{name}": "x" for name in ("SUBSCRIPTION_ID", "ORG_URL", "PROJECT", "REPOSITORY", "SECOND_REPOSITORY")}
    E2eEnvironment.from_environ(complete, "helm")
    with pytest.raises(E2eSetupError, match="ARGOCD_AKS_WI_E2E_SPOKE_CLUSTER"):
        E2eEnvironment.from_environ(complete, "fleet")


def test_help_answers_on_a_fresh_clone_without_installing_anything() -> None:
    done = subprocess.run(["bash", "scripts/e2e", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "ARGOCD_AKS_WI_E2E_SUBSCRIPTION_ID" in done.stdout
    assert "Cost per run" in done.stdout
