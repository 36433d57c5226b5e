"""The bootstrap Application: it waits for every grant and for its very source, cascades on delete, and is skipped
with a cluster this stack created. Its error hook is called directly in tests/component/test_argocd_registration.py."""

from __future__ import annotations

import json

from harness import (
    APPLICATION,
    CLUSTER,
    ENTITLEMENT,
    GIT_PERMISSIONS,
    MEMBERSHIP,
    refusal,
    run_program,
)
from tools.offline.engine import ProgramRun


def test_the_bootstrap_application_waits_for_every_azure_devops_grant(dev: ProgramRun) -> None:
    application = dev.one(APPLICATION)
    grants = dev.of_type(GIT_PERMISSIONS) + dev.of_type(ENTITLEMENT)
    assert grants
    assert all(dev.depends_on(application, grant) for grant in grants)


def test_in_the_readers_model_it_waits_for_the_readers_membership() -> None:
    run = run_program("dev", overrides={"accessModel": "readers"})
    assert run.depends_on(run.one(APPLICATION), run.one(MEMBERSHIP))


def test_an_update_waits_for_the_new_path_and_revision() -> None:
    run = run_program("dev", overrides={"bootstrapPath": "clusters/next", "bootstrapTargetRevision": "release-2"})
    conditions = json.loads(run.one(APPLICATION).input("metadata.annotations")["pulumi.com/waitFor"])
    assert "jsonpath={.status.sync.comparedTo.source.path}=clusters/next" in conditions
    assert "jsonpath={.status.sync.comparedTo.source.targetRevision}=release-2" in conditions
    assert run.one(APPLICATION).input("spec.source.targetRevision") == "release-2"


def test_a_revision_that_would_break_the_wait_condition_is_refused() -> None:
    assert "argocd-aks-wi:bootstrapTargetRevision" in refusal({"bootstrapTargetRevision": "a=b"})


def test_deleting_the_bootstrap_application_cascades_to_what_it_deployed(dev: ProgramRun) -> None:
    assert dev.one(APPLICATION).input("metadata.finalizers") == ["resources-finalizer.argocd.argoproj.io"]


def test_on_a_new_cluster_destroy_skips_every_kubernetes_object_inside_it(dev: ProgramRun) -> None:
    cluster = dev.one(CLUSTER).urn
    inside = [r for r in dev.resources if r.custom and r.type.startswith("kubernetes:")]
    assert inside and all(r.options["deleted_with"] == cluster for r in inside)


def test_on_an_adopted_cluster_every_kubernetes_object_is_deleted_for_real() -> None:
    run = run_program("dev", overrides={"existingClusterResourceGroup": "rg-aks", "existingClusterName": "aks-shared"})
    assert [r.name for r in run.resources if r.options["deleted_with"]] == []


def test_bootstrap_application_lives_in_the_argocd_namespace() -> None:
    run = run_program("dev", overrides={"argocdNamespace": "gitops-system"})
    assert run.one(APPLICATION).input("metadata.namespace") == "gitops-system"


def test_bootstrap_application_is_optional() -> None:
    assert run_program("dev", overrides={"bootstrapApplication": False}).of_type(APPLICATION) == []
