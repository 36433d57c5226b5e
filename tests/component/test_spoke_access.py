"""SpokeAccess used directly, as a program in another language would: options that would leave a spoke behind."""

from __future__ import annotations

import pulumi
import pulumi_random as random
import pytest

from components.spoke_access import SpokeAccess
from components.vocabulary import SpokeAccessRole
from tools.offline.engine import run_components


def test_deleted_with_is_refused_because_every_child_would_inherit_it() -> None:
    def build() -> None:
        hub = random.RandomString("hub", length=4)
        SpokeAccess("spoke", {
            "display_name": "payments",
            "existing_cluster": {"id": "/subscriptions/s/resourceGroups/rg/providers/x/managedClusters/aks",
                                 "resource_group_name": "rg", "name": "aks"},
            "principal_id": "principal", "client_id": "client", "tenant_id": "tenant",
            "access_role": SpokeAccessRole.WRITER, "argocd_namespace": "argocd", "labels": {},
        }, pulumi.ResourceOptions(deleted_with=hub))

    with pytest.raises(Exception, match=r"role assignment.*leave it unset"):
        run_components(build)
