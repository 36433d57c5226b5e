"""Values Azure, Helm, git or Argo CD accept plan cleanly and reach the provider as given: the settings refuse only
what would fail late, silently or insecurely."""

from __future__ import annotations

from typing import Any

from harness import APP, APPLICATION, CLUSTER, EXTENSION, MEMBERSHIP, ORG, RELEASE, run_program

GROUP_ROLES = {"ssoGroupRoles": ["3f2504e0-4f89-41d3-9a0c-0305e82c3301=admin"]}
UNDER_A_PATH = {"singleSignOn": True, "argocdUrl": "https://gitops.contoso.com/argocd", **GROUP_ROLES}


def helm_configs(overrides: dict[str, Any]) -> dict[str, Any]:
    return dict(run_program("dev", overrides=overrides).one(RELEASE).inputs["values"]["configs"])


def test_a_constrained_vcpu_vm_size_reaches_the_node_pool() -> None:
    run = run_program("dev", overrides={"nodeVmSize": "Standard_E4-2ds_v5"})
    assert run.one(CLUSTER).input("agentPoolProfiles.0.vmSize") == "Standard_E4-2ds_v5"


def test_a_git_tag_with_build_metadata_is_the_revision_synced_and_waited_for() -> None:
    application = run_program("dev", overrides={"bootstrapTargetRevision": "v1.2.0+build.5"}).one(APPLICATION)
    assert application.input("spec.source.targetRevision") == "v1.2.0+build.5"
    assert "jsonpath={.status.sync.comparedTo.source.targetRevision}=v1.2.0+build.5" in application.input(
        "metadata.annotations")["pulumi.com/waitFor"]


def test_a_chart_pre_release_above_the_floor_is_installed() -> None:
    assert run_program("dev", overrides={"argocdChartVersion": "10.4.0-rc.1"}).one(RELEASE).inputs["version"] == "10.4.0-rc.1"


def test_the_readers_model_joins_each_projects_readers_group() -> None:
    run = run_program("dev", overrides={
        "accessModel": "readers", "repositories": [f"{ORG}/gitops/_git/cluster-config", f"{ORG}/platform/_git/apps"],
    })
    assert sorted(m.name for m in run.of_type(MEMBERSHIP)) == ["devops-gitops-readers", "devops-platform-readers"]


def test_argo_cd_under_a_path_gets_its_root_path_and_the_redirect_uri_keeps_it() -> None:
    configs = helm_configs(UNDER_A_PATH)
    assert configs["cm"]["url"] == "https://gitops.contoso.com/argocd"
    assert configs["params"] == {"server.rootpath": "/argocd"}
    run = run_program("dev", overrides=UNDER_A_PATH)
    assert run.one(APP).input("web.redirectUris") == ["https://gitops.contoso.com/argocd/auth/callback"]
    assert "argocd login gitops.contoso.com --grpc-web-root-path /argocd --sso" in run.stack_outputs["nextSteps"][2]


def test_argo_cd_at_the_root_gets_no_root_path() -> None:
    configs = helm_configs({"singleSignOn": True, "argocdUrl": "https://argocd.contoso.com", **GROUP_ROLES})
    assert "params" not in configs and configs["cm"]["url"] == "https://argocd.contoso.com"


def test_the_extension_under_a_path_gets_the_domain_the_url_and_the_root_path() -> None:
    run = run_program("dev", overrides={**UNDER_A_PATH, "argocdInstallMethod": "extension", "nodeCount": 4})
    settings = run.one(EXTENSION).inputs["configurationSettings"]
    assert settings["global.domain"] == "gitops.contoso.com"
    assert settings["configs.cm.url"] == "https://gitops.contoso.com/argocd"
    assert settings["configs.params.server\\.rootpath"] == "/argocd"
