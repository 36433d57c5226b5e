"""The sample runs in docs/doctor.md are what the doctor prints against the fakes, verbatim."""

from __future__ import annotations

import io
import json
import tempfile
from pathlib import Path

from tests.doctor.conftest import Run
from tests.doctor.fakes import LoopbackServer, World, deployment, kubeconfig, loopback_session, service_account
from tools.doctor.cli import main
from tools.doctor.environment import Environment

DOC = Path(__file__).resolve().parents[2] / "docs" / "doctor.md"
CHART_DEFAULT = "argo-cd-argocd-repo-server"


def _run(world: World) -> Run:
    server = LoopbackServer()
    server.world = world
    try:
        with tempfile.TemporaryDirectory() as directory:
            config, outputs = Path(directory, "kubeconfig"), Path(directory, "outputs.json")
            config.write_text(kubeconfig(server.base))
            outputs.write_text(json.dumps(world.outputs))
            stdout, stderr = io.StringIO(), io.StringIO()
            environment = Environment(az=world.az, http=lambda: loopback_session(server.base), stdout=stdout, stderr=stderr)
            code = main(["dev", "--outputs", str(outputs), "--kubeconfig", str(config)], environment)
            return Run(code, stdout.getvalue(), stderr.getvalue())
    finally:
        server.stop()


def healthy_run() -> Run:
    return _run(World())


def failing_run() -> Run:
    """The chart's default service-account name (release argo-cd) instead of the one the credential trusts."""
    world = World()
    world.deployments = [deployment("repo-server", CHART_DEFAULT)]
    world.service_accounts[CHART_DEFAULT] = service_account(CHART_DEFAULT)
    world.applications["bootstrap"]["status"] = {
        "sync": {"status": "Unknown"}, "health": {"status": "Healthy"},
        "conditions": [{"type": "ComparisonError", "message": (
            "Failed to load target state: failed to generate manifest for source 1 of 1: rpc error: code = Unknown "
            "desc = failed to list refs: authentication required")}],
    }
    return _run(world)


def test_the_healthy_sample_is_what_the_doctor_prints() -> None:
    run = healthy_run()
    assert run.code == 0
    assert f"```text\n$ scripts/doctor dev\n{run.out}```" in DOC.read_text(encoding="utf-8")


def test_the_failing_sample_is_what_the_doctor_prints() -> None:
    run = failing_run()
    assert run.code == 1
    assert f"```text\n$ scripts/doctor dev\n{run.out}```" in DOC.read_text(encoding="utf-8")
