"""A stack whose every link holds: exit 0 and one ✓ line per check, in the order a token flows."""

from __future__ import annotations

import json

from tests.doctor.fakes import CLIENT_ID, HYDRATED, ISSUER, REPO, World


def test_every_link_holds_and_the_doctor_exits_0(world: World, doctor) -> None:
    run = doctor()
    assert run.code == 0, run.out
    assert run.err == ""
    assert run.lines() == [
        "doctor: stack dev",
        "1. Cluster",
        f"✓ OIDC issuer on: {ISSUER}",
        "✓ workload identity on (the webhook that injects the token runs)",
        "✓ the identity's federated credentials trust this issuer",
        "2. Federated credentials",
        "✓ repo-server runs as argocd/argocd-repo-server; credential cluster-repo-server trusts it",
        "✓ credential cluster-repo-server: audience api://AzureADTokenExchange",
        "3. Service accounts and pods",
        f"✓ service account argocd/argocd-repo-server carries azure.workload.identity/client-id={CLIENT_ID}",
        "✓ repo-server: 1 pod(s) labelled azure.workload.identity/use=true",
        "✓ repo-server: pods started after the service account got its client ID",
        "✓ repo-server: the webhook injected AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST",
        "4. Token exchange",
        "✓ Entra exchanged the token of system:serviceaccount:argocd:argocd-repo-server for an Azure DevOps token "
        f"(client ID {CLIENT_ID})",
        "5. Azure DevOps",
        "✓ https://dev.azure.com/contoso knows the identity (argocd-wi-identity)",
        "✓ access level Basic (not Stakeholder)",
        f"✓ can read {REPO}",
        "6. Argo CD",
        "✓ Argo CD v3.5.1 (workload identity for Azure DevOps fixed from v3.1.1, v3.0.13)",
        f"✓ Secret repo-gitops (repository) covers {REPO}: workload identity, no other credential",
        "✓ Application bootstrap: Synced and Healthy",
        "Result: every link holds (16 ok).",
    ]


def test_with_the_source_hydrator_the_commit_server_and_push_permission_are_checked(world: World, doctor) -> None:
    world.with_hydrator()
    run = doctor()
    assert run.code == 0, run.out
    assert "✓ commit-server runs as argocd/argocd-commit-server; credential cluster-commit-server trusts it" in run.lines()
    assert f"✓ may push to {HYDRATED} (GenericContribute, ManageNote; branch policies not evaluated)" in run.lines()
    assert f"✓ Secret write-hydrated (repository-write) covers {HYDRATED}: workload identity, no other credential" in run.lines()


def test_json_lists_every_check_with_its_link_for_ci(world: World, doctor) -> None:
    report = json.loads(doctor("--json").out)
    assert report["exitCode"] == 0
    assert report["stack"] == "dev"
    assert [check["link"] for check in report["checks"]] == sorted(check["link"] for check in report["checks"])
    assert {check["status"] for check in report["checks"]} == {"ok"}
    assert report["checks"][0] == {
        "link": 1, "linkName": "Cluster", "status": "ok", "summary": f"OIDC issuer on: {ISSUER}", "cause": None, "fix": None,
    }
