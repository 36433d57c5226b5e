"""The whole chain on a real subscription: skipped unless ARGOCD_AKS_WI_E2E_* name a subscription and an Azure DevOps
organisation (scripts/e2e --help, docs/e2e.md). Each variant creates and destroys its own throw-away stack."""

from __future__ import annotations

import os

import pytest

from tools.e2e.plan import VARIANTS, E2eEnvironment, E2eSetupError


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_chain_holds_and_nothing_is_left(variant: str) -> None:
    try:
        environment = E2eEnvironment.from_environ(os.environ, variant)
    except E2eSetupError as error:
        pytest.skip(f"no real subscription: {error}")
    from tools.e2e.automation import AutomationWorkspace
    from tools.e2e.cloud import AzureCloud
    from tools.e2e.runner import run_e2e

    report = run_e2e(variant, environment, AutomationWorkspace(print), AzureCloud())
    assert report.passed, report.render()
