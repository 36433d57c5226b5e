"""What the tests share: resource type tokens, the tests' own stack files, and the engine run on them.

Tests read their stacks from tests/stacks/<stack>.yaml, never from the project's Pulumi.<stack>.yaml: those
are the user's to fill in, and a suite must pass whatever values they hold.
"""

from __future__ import annotations

import json
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.offline import engine
from tools.offline.engine import AzureMocks, ProgramRun, Resource

ROOT = engine.ROOT
PROJECT = engine.PROJECT
STACKS = Path(__file__).resolve().parent / "stacks"
TEST_STACKS = ("charts-sso", "dev", "extension-existing", "fleet", "platform")

# The organisation every stack in tests/stacks/ is configured with.
ORG = "https://dev.azure.com/contoso-platform"

# Azure
RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
CLUSTER = "azure-native:containerservice:ManagedCluster"
IDENTITY = "azure-native:managedidentity:UserAssignedIdentity"
CREDENTIAL = "azure-native:managedidentity:FederatedIdentityCredential"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
EXTENSION = "azure-native:kubernetesconfiguration:Extension"
GET_CLUSTER = "azure-native:containerservice:getManagedCluster"
LIST_USER_CREDENTIALS = "azure-native:containerservice:listManagedClusterUserCredentials"
# Azure Container Registry and Entra ID (sign-in to Argo CD)
REGISTRY = "azure-native:containerregistry:Registry"
APP = "azuread:index/application:Application"
SERVICE_PRINCIPAL = "azuread:index/servicePrincipal:ServicePrincipal"
APP_CREDENTIAL = "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential"
# Azure DevOps
ENTITLEMENT = "azuredevops:index/servicePrincipalEntitlement:ServicePrincipalEntitlement"
GROUP = "azuredevops:index/group:Group"
GIT_PERMISSIONS = "azuredevops:index/gitPermissions:GitPermissions"
MEMBERSHIP = "azuredevops:index/groupMembership:GroupMembership"
GET_GROUP = "azuredevops:index/getGroup:getGroup"
# Kubernetes and Argo CD
RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
SECRET_TYPE = "argocd.argoproj.io/secret-type"


def stack_file(stack: str) -> Path:
    """The tests' own file for `stack`: tests/stacks/<stack>.yaml."""
    return STACKS / f"{stack}.yaml"


def stack_config(stack: str = "dev") -> dict[str, Any]:
    """The `config:` section of tests/stacks/<stack>.yaml as written (namespaced keys, YAML values)."""
    return dict(yaml.safe_load(stack_file(stack).read_text())["config"])


def load_stack_config(stack: str = "dev", overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The config map the CLI would hand the program for the tests' `stack` plus `overrides`."""
    return engine.load_stack_config(stack_file(stack), overrides)


# Runs of a configuration, pickled: a test that asks again for a configuration some test already ran gets a copy
# of that run instead of a new one (a run costs 0.1-0.4 s, a copy under 1 ms), and no test sees another's changes.
_RUNS: dict[tuple[str, str, str, bool], bytes] = {}


def run_program(
    stack: str = "dev",
    overrides: Mapping[str, Any] | None = None,
    *,
    config: str | None = None,
    mocks: AzureMocks | None = None,
    preview: bool = False,
    registered: list[Resource] | None = None,
    fresh: bool = False,
) -> ProgramRun:
    """Run the program as stack `stack` with tests/stacks/<config or stack>.yaml plus `overrides`.

    `config` runs one stack's values under another stack's name (e.g. dev's values as `staging`). A configuration
    run before in this process is not run again: the result is a copy of the first run. `fresh` runs it again (a
    test of determinism), and so does passing `mocks` or `registered`. A run that raises is never remembered.
    """
    def run() -> ProgramRun:
        return engine.run_program(
            stack_file(config or stack), overrides, stack=stack, mocks=mocks, preview=preview, registered=registered
        )

    if fresh or mocks is not None or registered is not None:
        return run()
    key = (stack, config or stack, json.dumps(overrides or {}, sort_keys=True), preview)
    if key not in _RUNS:
        _RUNS[key] = pickle.dumps(run())
    return pickle.loads(_RUNS[key])


def generated(run: ProgramRun, label: str) -> str:
    """The one provider-generated value of `run` labelled `label`, e.g. 'clientId of argocd-wi-identity'."""
    found = [value for value, origin in run.placeholders.items() if origin == label]
    assert len(found) == 1, f"no single placeholder labelled {label!r}"
    return found[0]


# How each refusal names the rule it enforces: a section of docs/facts.md, which cites it upstream, or the schema.
RULE_TAG = re.compile(r" \[(docs/facts\.md#[a-z0-9-]+|Pulumi\.yaml config schema)\]$")


def refusal(overrides: Mapping[str, Any], stack: str = "dev") -> str:
    """The ConfigError message for the tests' `stack` plus `overrides`; fails if anything was registered first, or if a
    problem does not name its rule."""
    from settings import ConfigError  # the program's own error type, importable once the project is on the path

    registered: list[Resource] = []
    with pytest.raises(ConfigError) as raised:
        run_program(stack, overrides=overrides, registered=registered)
    assert registered == [], "a refused configuration registered resources"
    problems = [line for line in str(raised.value).splitlines() if line.startswith("  - ")]
    assert problems and all(RULE_TAG.search(problem) for problem in problems), problems
    return str(raised.value)
