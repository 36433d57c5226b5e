"""The policy pack (policy/rules.py) over what the program really registers: every stack file passes it,
and the same resources with a credential added fail it. The pack and settings.py agree on the chart floor."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

from harness import ROOT, SECRET, TEST_STACKS, run_program
from tools.offline.engine import ProgramRun, Resource


def _load_rules() -> ModuleType:
    # The pack's folder is not a package; load rules.py under a name no other suite uses, with its shared facts
    # importable as `facts`, as they are from the pack's own folder.
    sys.modules.setdefault("facts", importlib.import_module("policy.facts"))
    spec = importlib.util.spec_from_file_location("argocd_wi_policy_rules_on_stacks", ROOT / "policy" / "rules.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rules = _load_rules()
_OPTIONS = PolicyResourceOptions(
    protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
    custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
)


def violations(resource: Resource, props: dict[str, Any] | None = None) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(
        resource_type=resource.type, props=props if props is not None else resource.inputs,
        urn=resource.urn, name=resource.name, opts=_OPTIONS, provider=None,
    )
    for policy in rules.ALL_POLICIES:
        policy.validate(args, lambda message, urn=None, name=policy.name: found.append(f"{name}: {message}"))
    return found


@pytest.mark.parametrize("stack", TEST_STACKS)
def test_every_test_stack_passes_the_policy_pack(stack: str) -> None:
    run: ProgramRun = run_program(stack)
    assert {resource.name: violations(resource) for resource in run.resources if violations(resource)} == {}


def test_a_password_added_to_a_registered_repository_secret_fails_the_pack(dev: ProgramRun) -> None:
    secret = dev.of_type(SECRET)[0]
    tampered = {**secret.inputs, "stringData": {**secret.inputs["stringData"], "password": "hunter2"}}
    assert any("password" in message for message in violations(secret, tampered))


def test_a_pat_on_the_registered_azure_devops_provider_fails_the_pack(dev: ProgramRun) -> None:
    provider = dev.one("pulumi:providers:azuredevops")
    assert violations(provider, {**provider.inputs, "personalAccessToken": "pat"}) != []



def test_a_bearer_token_added_to_a_registered_cluster_secret_fails_the_pack() -> None:
    run = run_program("dev", overrides={"spokes": [{"name": "spoke", "location": "northeurope"}]})
    secret = run.one("kubernetes:core/v1:Secret", "spoke-spoke-cluster-secret")
    config = {**json.loads(secret.inputs["stringData"]["config"]), "bearerToken": "eyJhbGciOi"}
    tampered = {**secret.inputs, "stringData": {**secret.inputs["stringData"], "config": json.dumps(config)}}
    assert violations(secret) == []
    assert any("bearerToken" in message for message in violations(secret, tampered))
