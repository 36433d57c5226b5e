"""What a mistake cannot destroy, what never leaks, and why an install cannot leave Argo CD half-configured."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from harness import (
    CLUSTER,
    CREDENTIAL,
    ENTITLEMENT,
    EXTENSION,
    GET_CLUSTER,
    IDENTITY,
    MEMBERSHIP,
    ORG,
    RELEASE,
    RESOURCE_GROUP,
    run_program,
)
from tools.offline.engine import ProgramRun, walk

K8S_PROVIDER = "pulumi:providers:kubernetes"
PROTECTED_OUTSIDE_DEV = {RESOURCE_GROUP, CLUSTER, IDENTITY}
MAX_INSTALL_SECONDS = 30 * 60

def protected_types(run: ProgramRun) -> set[str]:
    return {r.type for r in run.resources if r.options["protect"]}


# ----------------------------------------------------------------------------------------------------
# Protection
# ----------------------------------------------------------------------------------------------------


def test_dev_protects_nothing(dev: ProgramRun) -> None:
    """dev is for trying things: `pulumi destroy` must work without unprotecting anything first."""
    assert protected_types(dev) == set()


def test_every_other_stack_protects_the_resource_group_cluster_and_identity() -> None:
    """protectResources auto: the cluster holds the workloads, the identity's client ID is what Argo CD trusts."""
    staging = run_program("staging", config="dev")
    assert protected_types(staging) == PROTECTED_OUTSIDE_DEV


@pytest.mark.parametrize(
    ("stack", "protect", "expected"),
    [("dev", "true", PROTECTED_OUTSIDE_DEV), ("staging", "false", set())],
)
def test_protection_can_be_set_either_way(stack: str, protect: str, expected: set[str]) -> None:
    run = run_program(stack, overrides={"protectResources": protect}, config="dev")
    assert protected_types(run) == expected


def test_an_adopted_cluster_is_looked_up_never_registered() -> None:
    """A cluster that is not a resource of the stack cannot be changed, replaced or deleted by it."""
    run = run_program("dev", overrides={"existingClusterResourceGroup": "rg-aks", "existingClusterName": "aks-shared"})
    assert [r for r in run.resources if r.type.startswith("azure-native:containerservice:")] == []
    assert (GET_CLUSTER, {"resourceGroupName": "rg-aks", "resourceName": "aks-shared"}) in [
        (token, {k: v for k, v in args.items() if k in ("resourceGroupName", "resourceName")}) for token, args in run.invokes
    ]


@pytest.mark.parametrize("access_model", ["repositories", "readers"])
def test_destroying_dev_leaves_nothing_behind_in_azure_devops(access_model: str) -> None:
    """Everything the stack adds to Azure DevOps is a plain resource of the stack, so destroy removes it.

    No retain_on_delete, no protection in dev, and the Readers group is joined with mode "add": destroy removes
    our member, never the group's other members (mode "overwrite" would have owned the whole membership).
    """
    run = run_program("dev", overrides={"accessModel": access_model})
    devops = [r for r in run.resources if r.type.startswith("azuredevops:index/")]
    assert {r.type for r in devops} >= {ENTITLEMENT}
    for resource in devops:
        assert resource.custom
        assert not resource.options["retain_on_delete"], resource.name
        assert not resource.options["protect"], resource.name
        assert run.component_of(resource) is not None and run.component_of(resource).name == "devops"
    memberships = run.of_type(MEMBERSHIP)
    assert (access_model == "readers") == bool(memberships)
    entitlement = run.one(ENTITLEMENT)
    for membership in memberships:
        assert membership.inputs["mode"] == "add"
        assert membership.inputs["members"] == [entitlement.outputs["descriptor"]]


# ----------------------------------------------------------------------------------------------------
# Secrets
# ----------------------------------------------------------------------------------------------------

SECRET_LOOKING = {
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    "PEM block": re.compile(r"-----BEGIN [A-Z ]+-----"),
    "kubeconfig": re.compile(r"(clusters:|current-context:|certificate-authority-data|client-key-data)"),
    "credential assignment": re.compile(r"(?i)\b(password|passwd|token|secret|client_secret|apikey)\b\s*[:=]\s*\S"),
    "base64 blob": re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])"),
    "Azure DevOps PAT": re.compile(r"(?<![A-Za-z0-9])[a-z0-9]{52}(?![A-Za-z0-9])"),
    "connection string key": re.compile(r"(?i)(AccountKey|SharedAccessKey|sig)=[A-Za-z0-9%+/=]{10,}"),
    "user@ URL": re.compile(r"https?://[^/\s@]+@"),
}


def secret_looking(text: str) -> list[str]:
    return [name for name, pattern in SECRET_LOOKING.items() if pattern.search(text)]


def test_the_secret_detector_recognises_what_it_looks_for() -> None:
    """Guards the guard: each pattern must fire on a typical leak and stay quiet on our ordinary outputs."""
    leaks = [
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW0ifQ.c2lnbmF0dXJl", "-----BEGIN PRIVATE KEY-----",
        "users:\n- user:\n    client-key-data: abc", "password: hunter2", "token=abc",
        "b2ZmbGluZSBDQSBjZXJ0aWZpY2F0ZSB3aXRoIG1vcmUgdGV4dA==", "a" * 52, "AccountKey=abcdefghijklmnop",
        "https://pat@dev.azure.com/org",
    ]
    assert all(secret_looking(leak) for leak in leaks), [leak for leak in leaks if not secret_looking(leak)]
    assert secret_looking("kubectl get secret x -o jsonpath='{.data.password}' | base64 -d") == []


def test_no_plain_stack_output_looks_like_a_secret(dev: ProgramRun) -> None:
    plain = {k: v for k, v in dev.stack_outputs.items() if not any(p == k or p.startswith(f"{k}.") for p in dev.secret_outputs)}
    assert plain, "no plain outputs to check"
    for key, value in plain.items():
        assert secret_looking(json.dumps(value)) == [], f"stack output {key} looks like a secret"


def test_no_plain_resource_input_looks_like_a_secret(dev: ProgramRun) -> None:
    """What the providers receive ends up in state: a token there must be marked secret (encrypted)."""
    for resource in dev.resources:
        for path, value in walk(resource.inputs):
            if isinstance(value, str) and not _under_secret(path, resource.secret_paths):
                assert secret_looking(value) == [], f"{resource.name}.{path} looks like a secret in plain state"


def _under_secret(path: str, secret_paths: set[str]) -> bool:
    return any(s == "" or path == s or path.startswith(f"{s}.") for s in secret_paths)


def test_the_kubeconfig_is_secret_in_the_provider_inputs(dev: ProgramRun) -> None:
    provider = dev.one(K8S_PROVIDER)
    assert _under_secret("kubeconfig", provider.secret_paths)


def test_the_kubeconfig_holds_no_static_credential(dev: ProgramRun) -> None:
    """Each Kubernetes call gets a fresh Entra token from kubelogin: nothing in state can be replayed."""
    kubeconfig = yaml.safe_load(dev.one(K8S_PROVIDER).inputs["kubeconfig"])
    for user in kubeconfig["users"]:
        assert set(user["user"]) == {"exec"}, f"user {user['name']} carries {sorted(user['user'])}"
        assert user["user"]["exec"]["command"] == "kubelogin"
    text = json.dumps(kubeconfig)
    for field in ("token", "client-key-data", "client-certificate-data", "password", "username"):
        assert f'"{field}"' not in text


# ----------------------------------------------------------------------------------------------------
# Install robustness
# ----------------------------------------------------------------------------------------------------


def test_the_release_rolls_back_on_failure_within_a_bounded_time(dev: ProgramRun) -> None:
    """atomic: a failed install or upgrade is rolled back by Helm, so the running Argo CD keeps its last good
    configuration; cleanup_on_fail removes what a failed upgrade created; the timeout ends `pulumi up` instead
    of leaving it waiting for pods that cannot start."""
    release = dev.one(RELEASE).inputs
    assert release["atomic"] is True
    assert release["cleanupOnFail"] is True
    assert 0 < release["timeout"] <= MAX_INSTALL_SECONDS


@pytest.mark.parametrize("install_method", ["helm", "extension"])
def test_argo_cd_is_installed_after_every_federated_credential(install_method: str) -> None:
    """Why propagation delay cannot leave the repo-server without a token after `pulumi up`.

    1. The install waits for every federated credential (this test), so the trust exists in Entra before any
       Argo CD pod runs as the identity.
    2. Helm applies a ServiceAccount before the Deployment that uses it (Helm's kind install order), so the
       service account already carries the client-id annotation when the repo-server pods are created, and
       the Entra webhook, which only acts at pod creation, injects the projected token and client ID.
    3. The Kubernetes token is always there; only its exchange for an Entra token can fail while the credential
       propagates (seconds). That exchange happens at fetch time, not at pod start, and Argo CD retries fetches
       (refresh, sync retry), so a fetch in the first seconds fails once and the next one succeeds: no restart.
    4. A new client ID changes the pod template (test_changes), so Kubernetes recreates the pods and the webhook
       injects the new identity; without that the old pods would keep the old client ID.
    """
    overrides = {
        "argocdInstallMethod": install_method,
        "sourceHydrator": install_method == "helm",
        "hydrationRepositories": [f"{ORG}/gitops/_git/cluster-config"]
        if install_method == "helm" else [],
        "additionalIssuers": ["https://westeurope.oic.prod-aks.azure.com/tenant/other-cluster/"],
    }
    run = run_program("dev", overrides=overrides)
    install = run.one(RELEASE if install_method == "helm" else EXTENSION)
    credentials = run.of_type(CREDENTIAL)
    assert len(credentials) == (4 if install_method == "helm" else 2)
    for credential in credentials:
        assert run.depends_on(install, credential), f"the install does not wait for {credential.name}"


def test_the_repo_server_pods_carry_the_client_id_they_were_created_for(dev: ProgramRun) -> None:
    client_id = dev.one(IDENTITY).outputs["clientId"]
    repo_server: dict[str, Any] = dev.one(RELEASE).inputs["values"]["repoServer"]
    assert repo_server["serviceAccount"]["annotations"]["azure.workload.identity/client-id"] == client_id
    assert client_id in repo_server["podAnnotations"].values()
    assert repo_server["podLabels"]["azure.workload.identity/use"] == "true"


def test_a_credential_that_could_be_replaced_frees_its_name_first(dev: ProgramRun) -> None:
    """Federated credentials have fixed Azure names: create-before-delete would collide with the old one."""
    for credential in dev.of_type(CREDENTIAL):
        assert credential.options["delete_before_replace"], credential.name
