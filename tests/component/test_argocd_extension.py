"""ArgoCdExtension on its own: built directly with the test's arguments."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as kubernetes

from components.argocd_extension import ArgoCdExtension, ArgoCdExtensionArgs
from components.vocabulary import SecretType
from harness import EXTENSION, SECRET
from tools.offline.engine import ProgramRun, run_components

CLIENT_ID = "99999999-8888-7777-6666-555555555555"


def extension(**extra: object) -> ProgramRun:
    args = ArgoCdExtensionArgs(
        cluster_name="aks-shared",
        cluster_resource_group_name="rg-shared",
        release_train="preview",
        high_availability=False,
        client_id=CLIENT_ID,
        repo_server_service_account="argocd-repo-server",
        registrations=[{"key": "repo", "url": "https://dev.azure.com/f/p/_git/r", "secret_type": SecretType.REPOSITORY}],
    )
    args.update(extra)  # type: ignore[typeddict-item]

    def build() -> None:
        ArgoCdExtension("argocd", args, opts=pulumi.ResourceOptions(providers=[kubernetes.Provider("k8s", kubeconfig="{}")]))

    return run_components(build)


def test_the_extension_turns_workload_identity_on_with_the_identitys_client_id() -> None:
    settings = extension().one(EXTENSION).inputs["configurationSettings"]
    assert settings["azure.workloadIdentity.enabled"] == "true"
    assert settings["azure.workloadIdentity.clientId"] == CLIENT_ID
    assert settings["redis-ha.enabled"] == "false"


def test_it_goes_on_the_given_cluster_into_the_argocd_namespace() -> None:
    installed = extension().one(EXTENSION).inputs
    assert (installed["clusterName"], installed["resourceGroupName"], installed["extensionType"]) == (
        "aks-shared", "rg-shared", "Microsoft.ArgoCD",
    )
    assert installed["scope"]["cluster"]["releaseNamespace"] == "argocd"


def test_a_pinned_version_turns_minor_auto_upgrade_off() -> None:
    assert extension().one(EXTENSION).inputs["autoUpgradeMinorVersion"] is True
    pinned = extension(version="1.0.1-preview").one(EXTENSION).inputs
    assert (pinned["version"], pinned["autoUpgradeMinorVersion"]) == ("1.0.1-preview", False)


def test_further_settings_pass_through_but_never_override_the_identity() -> None:
    settings = extension(extra_settings={"configs.cm.url": "https://argocd.example.com"}).one(EXTENSION).inputs["configurationSettings"]
    assert settings["configs.cm.url"] == "https://argocd.example.com"


def test_the_repository_secrets_wait_for_the_extension() -> None:
    run = extension()
    (secret,) = run.of_type(SECRET)
    assert secret.input("metadata.namespace") == "argocd" and run.depends_on(secret, run.one(EXTENSION))
