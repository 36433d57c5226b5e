"""The Azure DevOps entitlement waits out Entra's replication on its own, off the cluster's path. The retry hook itself
is called directly in tests/component/test_devops_access.py."""

from __future__ import annotations

from harness import (
    CLUSTER,
    ENTITLEMENT,
    RELEASE,
)
from tools.offline.engine import ProgramRun


def test_the_entitlement_carries_the_replication_retry_hook(dev: ProgramRun) -> None:
    assert dev.one(ENTITLEMENT).options["error_hooks"] == ["devops-entitlement-retry"]


def test_the_entitlement_stays_off_the_clusters_path(dev: ProgramRun) -> None:
    entitlement = dev.one(ENTITLEMENT)
    assert not dev.depends_on(entitlement, dev.one(CLUSTER))
    assert not dev.depends_on(dev.one(RELEASE), entitlement)
