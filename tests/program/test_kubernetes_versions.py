"""Kubernetes versions AKS still creates: an end-of-life minor is refused, long-term support allows older ones."""

from __future__ import annotations

from harness import (
    CLUSTER,
    refusal,
    run_program,
)
from tools.offline.engine import ProgramRun


def test_an_end_of_life_minor_is_refused_naming_the_key_and_how_to_list_versions() -> None:
    message = refusal({"kubernetesVersion": "1.33"})
    assert "argocd-aks-wi:kubernetesVersion = '1.33'" in message
    assert "1.35 or newer" in message and "az aks get-versions --location <region>" in message
    assert "longTermSupport" in message


def test_long_term_support_allows_an_older_minor_on_the_premium_tier() -> None:
    cluster = run_program("dev", overrides={"kubernetesVersion": "1.33", "longTermSupport": True}).one(CLUSTER)
    assert cluster.inputs["kubernetesVersion"] == "1.33"
    assert cluster.inputs["sku"] == {"name": "Base", "tier": "Premium"}
    assert cluster.inputs["supportPlan"] == "AKSLongTermSupport"


def test_long_term_support_still_has_a_floor() -> None:
    message = refusal({"kubernetesVersion": "1.31", "longTermSupport": True})
    assert "1.32 or newer" in message and "long-term support" in message


def test_without_long_term_support_the_cluster_keeps_the_aks_default_tier_and_plan(dev: ProgramRun) -> None:
    assert "sku" not in dev.one(CLUSTER).inputs and "supportPlan" not in dev.one(CLUSTER).inputs
