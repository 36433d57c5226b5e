"""A stack whose every link holds: exit 0 and one ✓ line per check, in the order a token flows."""

from __future__ import annotations

import json

from tests.doctor.fakes import ISSUER, World


def test_every_link_holds_and_the_doctor_exits_0(world: World, doctor) -> None:
    run = doctor()
    assert run.code == 0, run.out
    assert run.err == ""
    assert run.findings() == [(finding, "ok") for finding in (
        "oidc-issuer-on", "workload-identity-on", "issuer-trusted",
        "subject-trusted", "audience-ok",
        "client-id-annotated", "pods-labelled", "pods-after-annotation", "token-injected",
        "exchange-ok",
        "devops-knows-identity", "access-level-ok", "repository-readable",
        "argocd-version-ok", "repository-secret-ok", "bootstrap-application-synced",
    )]
    assert run.lines()[-1] == "Result: every link holds (16 ok)."


def test_with_the_source_hydrator_the_commit_server_and_push_permission_are_checked(world: World, doctor) -> None:
    world.with_hydrator()
    run = doctor()
    assert run.code == 0, run.out
    findings = run.findings()
    assert findings.count(("subject-trusted", "ok")) == 2, "the repo-server's and the commit-server's"
    assert ("push-allowed", "ok") in findings and findings.count(("repository-secret-ok", "ok")) == 2


def test_json_lists_every_check_with_its_link_for_ci(world: World, doctor) -> None:
    report = json.loads(doctor("--json").out)
    assert report["exitCode"] == 0
    assert report["stack"] == "dev"
    assert [check["link"] for check in report["checks"]] == sorted(check["link"] for check in report["checks"])
    assert {check["status"] for check in report["checks"]} == {"ok"}
    assert report["checks"][0] == {
        "link": 1, "linkName": "Cluster", "finding": "oidc-issuer-on", "status": "ok", "summary": f"OIDC issuer on: {ISSUER}",
        "cause": None, "fix": None,
    }


def test_every_finding_the_doctor_can_print_is_listed_in_its_docs() -> None:
    """docs/doctor.md lists the identifiers people match on; one added in the code and not there fails here."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = "".join(path.read_text() for path in (root / "tools" / "doctor").rglob("*.py"))
    used = set(re.findall(r'\b(?:ok|broken|skipped|unknown)\(\s*(?:LINK|link),\s*"([a-z0-9-]+)"', code))
    documented = set(re.findall(r"`([a-z0-9-]+)`", (root / "docs" / "doctor.md").read_text()))
    assert used and used <= documented, sorted(used - documented)
