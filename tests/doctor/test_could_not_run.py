"""Exit status 2 with one clear line, never a traceback, when the doctor cannot start its diagnosis."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.doctor.fakes import World

ROOT = Path(__file__).resolve().parents[2]


def assert_one_line(run, line: str) -> None:
    assert run.code == 2
    assert run.err == f"doctor: could not run: {line}\n"
    assert "Traceback" not in run.out + run.err


def test_without_an_azure_login_it_says_run_az_login(world: World, doctor) -> None:
    world.logged_in = False
    run = doctor()
    assert_one_line(run, "not logged in to Azure: run `az login` (and `az account set --subscription <id>`)")
    assert run.out == ""


def test_json_mode_reports_the_reason_as_json_too(world: World, doctor) -> None:
    world.logged_in = False
    run = doctor("--json")
    assert json.loads(run.out) == {
        "stack": "dev", "exitCode": 2,
        "error": "not logged in to Azure: run `az login` (and `az account set --subscription <id>`)",
    }


def test_without_the_pulumi_cli_it_asks_for_the_outputs_file(world: World, doctor, monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    run = doctor(outputs=False)
    assert_one_line(run, "the Pulumi CLI is not on the PATH: install it, or pass the outputs with --outputs FILE.json")


def test_outputs_of_an_older_program_name_the_missing_keys(world: World, doctor) -> None:
    del world.outputs["identityName"], world.outputs["tenantId"]
    run = doctor()
    assert_one_line(run, (
        "the stack outputs lack identityName, tenantId: run `pulumi up` with this version of the program "
        "(it exports them), or pass them in a file with --outputs"
    ))


def test_a_kubeconfig_context_of_another_cluster_is_refused(world: World, doctor) -> None:
    run = doctor("--context", "someone-else")
    assert_one_line(run, (
        "kubeconfig context someone-else points at other.example.invalid, not at cluster argocd-wi-dev-rg/argocd-wi-dev-aks: "
        "run `az aks get-credentials --resource-group argocd-wi-dev-rg --name argocd-wi-dev-aks` and "
        "`kubelogin convert-kubeconfig -l azurecli`"
    ))


def test_an_unreachable_api_server_means_no_cluster_access(world: World, doctor) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on once closed
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    run = doctor(api_server=closed)
    assert_one_line(run, "no cluster access: API server not reachable (MaxRetryError)")


def test_no_permission_to_read_the_namespace_names_the_role(world: World, doctor) -> None:
    world.may_read_namespace = False
    run = doctor()
    assert_one_line(run, (
        "you may not read namespace argocd: you need at least Azure Kubernetes Service RBAC Reader on the cluster "
        "(docs/doctor.md, Permissions)"
    ))


def test_an_unexpected_failure_is_one_line_too(world: World, doctor) -> None:
    world.deployments = [{"metadata": {"labels": {"app.kubernetes.io/component": "repo-server"}}, "spec": {}}]
    run = doctor()
    assert_one_line(run, "unexpected KeyError: 'name'")


@pytest.mark.parametrize("argv", [["--help"], ["dev", "--outputs", "missing.json"]])
def test_scripts_doctor_helps_and_without_az_exits_2(argv: list[str], tmp_path: Path) -> None:
    """The wrapper itself, on a PATH holding only what scripts/env.sh needs (no az, no pulumi): --help works,
    anything else exits 2 in one line. The project's .venv is already there (scripts/test made it), with the uv that
    made it: the one on the PATH, or the one env.sh bootstrapped into .uv/, whichever this clone has."""
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("bash", "dirname", "cat", "sha256sum", "cut", "python3"):
        found = shutil.which(tool)
        assert found, tool
        (tools / tool).symlink_to(found)
    uv = shutil.which("uv") or str(ROOT / ".uv" / "bin" / "uv")
    assert Path(uv).exists(), "scripts/test installs with a uv on the PATH or in .uv/"
    (tools / "uv").symlink_to(uv)
    env = {"PATH": str(tools), "HOME": str(tmp_path)}
    done = subprocess.run(["bash", str(ROOT / "scripts" / "doctor"), *argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    if argv == ["--help"]:
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("usage: scripts/doctor")
    else:
        assert done.returncode == 2
        assert done.stderr.splitlines()[-1] == (
            "doctor: could not run: the Azure CLI (az) is not on the PATH: install it and run `az login`"
        )
        assert "Traceback" not in done.stderr


def test_an_outputs_file_that_is_not_json_says_how_to_write_it(world: World, doctor, tmp_path: Path) -> None:
    broken_file = tmp_path / "stack.json"
    broken_file.write_text("clusterName: not json")
    run = doctor("--outputs", str(broken_file), outputs=False)
    assert_one_line(run, f"{broken_file} is not JSON: write it with `pulumi stack output --json > stack.json`")


def test_without_outputs_it_asks_the_pulumi_cli_for_the_stack(world: World, doctor, monkeypatch, tmp_path: Path) -> None:
    """A stand-in `pulumi` on the PATH prints the outputs for `stack output --json -s dev`, and fails otherwise."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tmp_path / "outputs.json").write_text(json.dumps(world.outputs))
    pulumi = tools / "pulumi"
    pulumi.write_text(
        "#!/bin/sh\n"
        f'[ "$*" = "stack output --json -s dev" ] && exec cat {tmp_path / "outputs.json"}\n'
        'echo "error: no stack named $*" >&2; exit 255\n'
    )
    pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    assert doctor(outputs=False).code == 0


def test_a_stack_the_pulumi_cli_does_not_know_is_one_line(world: World, doctor, monkeypatch, tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    pulumi = tools / "pulumi"
    pulumi.write_text("#!/bin/sh\necho 'error: no stack named '\"'\"'dev'\"'\"' found' >&2\nexit 255\n")
    pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    assert_one_line(doctor(outputs=False), "cannot read the outputs of stack dev: error: no stack named 'dev' found")
