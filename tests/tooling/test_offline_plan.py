"""The README's main command: the offline plan shows the wiring by value, masks secrets, and refuses bad config."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from harness import ROOT, stack_file
from tools.offline import plan
from tools.offline.engine import ProgramRun, stack_files


@pytest.fixture(scope="module")
def dev_plan(dev: ProgramRun) -> str:
    return plan.render_text(dev)


def test_every_shipped_stack_file_plans_whatever_its_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The one test that reads the project's Pulumi.<stack>.yaml files: they are the user's, so only "it plans"."""
    shipped = stack_files()
    assert shipped
    assert plan.main(["--all-stacks", "--out", str(tmp_path)]) == 0
    for stack in shipped:
        assert (tmp_path / f"plan-{stack}.mmd").read_text().startswith("flowchart LR")
    assert capsys.readouterr().out.count("Offline plan for stack") == len(shipped)


def test_plan_shows_issuer_flowing_from_cluster_into_the_credential(dev_plan: str) -> None:
    flow = dev_plan.split("━━ How the outputs flow", 1)[1]
    assert re.search(r"⟨OIDC issuer URL of cluster-aks⟩\n\s+→ FederatedIdentityCredential argocd-wi-cluster-repo-server · issuer", flow)


def test_plan_shows_client_id_flowing_into_the_service_account_annotation(dev_plan: str) -> None:
    assert (
        "→ Release argocd-release · values.repoServer.serviceAccount.annotations.azure.workload.identity/client-id"
        in dev_plan
    )
    assert "annotations.azure.workload.identity/client-id = ⟨clientId of argocd-wi-identity⟩" in dev_plan


def test_plan_shows_principal_id_flowing_into_the_entitlement(dev_plan: str) -> None:
    assert re.search(r"⟨principalId of argocd-wi-identity⟩\n\s+→ ServicePrincipalEntitlement devops-entitlement · originId", dev_plan)


def test_plan_masks_the_kubeconfig(dev_plan: str, dev: ProgramRun) -> None:
    kubeconfig = dev.one("pulumi:providers:kubernetes").inputs["kubeconfig"]
    assert "kubeconfig = [secret]" in dev_plan
    assert "certificate-authority-data" in kubeconfig and "certificate-authority-data" not in dev_plan


def test_plan_groups_resources_under_the_four_components_in_wiring_order(dev_plan: str) -> None:
    headings = re.findall(r"^━━ (\S+) \((\w+)\)", dev_plan, flags=re.M)
    assert [kind for _, kind in headings] == ["AksCluster", "WorkloadIdentity", "AzureDevOpsAccess", "ArgoCdRelease"]
    assert dev_plan.index("━━ stack") < dev_plan.index("━━ cluster (AksCluster)"), "the resource group comes first"


def test_mermaid_labels_the_chained_outputs(dev: ProgramRun) -> None:
    diagram = plan.render_mermaid(dev)
    assert re.search(r"ncluster_aks -->\|OIDC issuer URL\| nargocd_wi_cluster_repo_server", diagram)
    assert re.search(r"nargocd_wi_identity -->\|[^|]*clientId[^|]*\| nargocd_release", diagram)
    assert re.search(r"nargocd_wi_identity -->\|principalId\| ndevops_entitlement", diagram)


def test_bad_config_prints_the_error_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = yaml.safe_load(stack_file("dev").read_text())
    bad["config"]["argocd-aks-wi:nodeCount"] = 0
    bad_file = tmp_path / "dev.yaml"
    bad_file.write_text(yaml.safe_dump(bad))
    assert plan.main(["--stack-file", str(bad_file), "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "argocd-aks-wi:nodeCount = '0'" in error and "nothing was created" in error


def test_a_stack_without_a_file_is_named_as_such_and_nothing_is_planned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mistyped stack name would otherwise read as a list of missing required keys."""
    assert plan.main(["--stack", "no-such-stack", "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert f"no stack file {ROOT / 'Pulumi.no-such-stack.yaml'}" in error
    assert "is required" not in error
    assert list(tmp_path.iterdir()) == []
    assert plan.main(["--stack-file", str(tmp_path / "missing.yaml"), "--out", str(tmp_path)]) == 2
    assert f"no stack file {tmp_path / 'missing.yaml'}" in capsys.readouterr().err


@pytest.mark.parametrize(("argv", "status", "message"), [
    (["--help"], 0, ""),
    (["-h"], 0, ""),
    (["--stack", "dev"], 2, "scripts/plan: unknown option --stack"),
    (["dev", "fleet"], 2, "scripts/plan takes one stack name or --all, not 2 arguments"),
])
def test_scripts_plan_checks_its_arguments_before_installing_anything(
    argv: list[str], status: int, message: str, tmp_path: Path
) -> None:
    """On a PATH with only bash and sed, so that reaching scripts/env.sh (which needs python3) would fail."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "sed"):
        found = shutil.which(tool)
        assert found, tool
        (tools / tool).symlink_to(found)
    done = subprocess.run(["bash", str(ROOT / "scripts" / "plan"), *argv], cwd=tmp_path, env={"PATH": str(tools)},
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == status, done.stderr
    usage = done.stdout if status == 0 else done.stderr
    assert usage.splitlines()[-3:] == [
        "  scripts/plan            # the dev stack",
        "  scripts/plan prod       # Pulumi.prod.yaml",
        "  scripts/plan --all      # every Pulumi.<stack>.yaml in the project",
    ]
    assert message in done.stderr
    if status == 2:
        assert done.stderr.startswith(message)


def test_the_plan_reads_the_same_on_every_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Registration order varies from run to run; a plan reviewed in a pull request must not."""
    outputs = []
    for _ in range(3):
        assert plan.main(["--stack-file", str(stack_file("platform")), "--out", str(tmp_path)]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1] == outputs[2]
