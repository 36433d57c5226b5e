"""Runs the real `__main__.py` under Pulumi's mock engine and records everything a provider would receive.

The CLI is not needed: the stack's config is read from Pulumi.yaml and a stack file (the project's
Pulumi.<stack>.yaml for the offline plan, the tests' own tests/stacks/<stack>.yaml for the tests) as the CLI would,
every resource registration is recorded with its inputs, parent, provider, dependencies and options, and
values only a provider knows (IDs, the issuer URL, client and principal IDs, descriptors) are deterministic
placeholders whose origin the plan can name.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import functools
import gc
import json
import logging
import os
import runpy
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pulumi
import yaml
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import Stack

from settings import split_repository_url
from settings.schema import PROJECT, declared_config

ROOT = Path(__file__).resolve().parents[2]
_P = ParamSpec("_P")
_R = TypeVar("_R")
_PLACEHOLDER_NAMESPACE = uuid.UUID("6f1d7a52-3c0e-4e43-9a55-0f6b8e7c2d10")


@dataclass
class Resource:
    """One registration as the engine saw it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    dependencies: set[str]
    options: dict[str, Any]
    secret_paths: set[str] = field(default_factory=set)
    """Dotted input paths that reached the engine as Pulumi secrets ("" is the whole input)."""

    def input(self, path: str) -> Any:
        """The input at a dotted path, e.g. `oidcIssuerProfile.enabled` (KeyError when absent)."""
        value: Any = self.inputs
        for part in path.split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return value


@dataclass
class ProgramRun:
    """What one run of the program registered, in registration order."""

    resources: list[Resource]
    stack_outputs: dict[str, Any]
    secret_outputs: set[str]
    invokes: list[tuple[str, dict[str, Any]]]
    placeholders: dict[str, str]
    stack: str
    config: dict[str, str]

    def of_type(self, type_: str) -> list[Resource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> Resource:
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise AssertionError(f"expected one {type_} named {name!r}, found {len(found)} among {names}")
        return found[0]

    @cached_property
    def index(self) -> dict[str, Resource]:
        """Every recorded resource by URN (built once; a run is not changed after it returns)."""
        return {r.urn: r for r in self.resources}

    def by_urn(self, urn: str) -> Resource:
        return self.index[urn]

    def direct_dependencies(self, resource: Resource) -> set[str]:
        """What the engine waits for before creating `resource`: inputs, depends_on and its provider."""
        found = set(resource.dependencies)
        if resource.provider:
            found.add(resource.provider)
        return found

    def depends_on(self, resource: Resource, other: Resource) -> bool:
        """True when `resource` waits (directly or through others) for `other`."""
        seen: set[str] = set()
        todo = [resource.urn]
        while todo:
            current = self.by_urn(todo.pop())
            for urn in self.direct_dependencies(current) - seen:
                if urn == other.urn:
                    return True
                seen.add(urn)
                if urn in self.index:
                    todo.append(urn)
        return False

    def component_of(self, resource: Resource) -> Resource | None:
        """The top-level component that owns `resource` (None for stack-level resources)."""
        current: Resource | None = resource
        owner = None
        while current is not None and current.parent:
            parent = self.index.get(current.parent)
            if parent is not None and not parent.custom:
                owner = parent
            current = parent
        return owner

    def label(self, value: Any) -> str | None:
        """Where a provider-generated value came from, e.g. 'clientId of argocd-identity'."""
        return self.placeholders.get(value) if isinstance(value, str) else None


# ----------------------------------------------------------------------------------------------------
# Mocks: plausible provider answers, each generated value remembered with its origin
# ----------------------------------------------------------------------------------------------------


@dataclass
class ExistingClusterMock:
    """How the cluster to adopt looks in Azure."""

    oidc_issuer: bool = True
    workload_identity: bool = True
    location: str = "westeurope"
    node_count: int = 3
    azure_rbac: bool = True
    """Entra ID with Azure RBAC for Kubernetes authorization (what a spoke needs)."""


@dataclass
class AzureMocks(pulumi_mocks.Mocks):
    subscription_id: str = "00000000-0000-0000-0000-00000000a2e5"
    tenant_id: str = "00000000-0000-0000-0000-0000000e1a1d"
    existing_cluster: ExistingClusterMock = field(default_factory=ExistingClusterMock)
    repositories: set[tuple[str, str]] | None = None
    """(project, repository) pairs that exist in Azure DevOps; None: every configured repository exists."""
    configured_repositories: set[tuple[str, str]] = field(default_factory=set)
    """(project, repository) pairs of the current run's config (set by run_program)."""
    placeholders: dict[str, str] = field(default_factory=dict)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def _generated(self, value: str, label: str) -> str:
        self.placeholders.setdefault(value, label)
        return value

    def _uuid(self, owner: str, field_name: str) -> str:
        return self._generated(str(uuid.uuid5(_PLACEHOLDER_NAMESPACE, f"{owner}/{field_name}")), f"{field_name} of {owner}")

    def _autoname(self, logical: str, given: Any) -> str:
        if given:
            return str(given)
        suffix = uuid.uuid5(_PLACEHOLDER_NAMESPACE, logical).hex[:6]
        return self._generated(f"{logical}{suffix}", f"Azure name of {logical}")

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        handler = _RESOURCE_OUTPUTS.get(args.typ)
        extra = handler(self, args.name, inputs) if handler else {}
        state = {**inputs, **extra}
        resource_id = state.pop("__id", None) or self._generated(f"{args.name}-id", f"id of {args.name}")
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self.invokes.append((args.token, dict(args.args)))
        handler = _INVOKE_RESULTS.get(args.token)
        if handler is None:
            raise NotImplementedError(f"the offline engine has no answer for invoke {args.token}")
        return handler(self, dict(args.args)), []

    def arm_id(self, group: str, kind: str = "", name: str = "") -> str:
        tail = f"/providers/{kind}/{name}" if kind else ""
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{group}{tail}"


def _resource_group(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    group = mocks._autoname(name, inputs.get("resourceGroupName"))
    return {"name": group, "__id": mocks.arm_id(group)}


def _managed_cluster(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    cluster = mocks._autoname(name, inputs.get("resourceName"))
    issuer = mocks._generated(
        f"https://{inputs.get('location', 'westeurope')}.oic.prod-aks.azure.com/{mocks.tenant_id}/"
        f"{uuid.uuid5(_PLACEHOLDER_NAMESPACE, name)}/",
        f"OIDC issuer URL of {name}",
    )
    profile = dict(inputs.get("oidcIssuerProfile") or {})
    if profile.get("enabled"):
        profile["issuerURL"] = issuer
    return {
        "name": cluster,
        "oidcIssuerProfile": profile,
        "fqdn": f"{inputs.get('dnsPrefix', cluster)}.hcp.{inputs.get('location')}.azmk8s.io",
        "__id": mocks.arm_id(str(inputs.get("resourceGroupName")), "Microsoft.ContainerService/managedClusters", cluster),
    }


def _identity(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    identity = mocks._autoname(name, inputs.get("resourceName"))
    return {
        "name": identity,
        "clientId": mocks._uuid(name, "clientId"),
        "principalId": mocks._uuid(name, "principalId"),
        "tenantId": mocks.tenant_id,
        "__id": mocks.arm_id(
            str(inputs.get("resourceGroupName")), "Microsoft.ManagedIdentity/userAssignedIdentities", identity
        ),
    }


def _entitlement(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"descriptor": mocks._generated(f"aadsp.{uuid.uuid5(_PLACEHOLDER_NAMESPACE, name).hex}", f"descriptor of {name}")}


def _devops_group(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"descriptor": mocks._generated(f"vssgp.{uuid.uuid5(_PLACEHOLDER_NAMESPACE, name).hex}", f"descriptor of {name}")}


def _random_string(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    length = int(inputs.get("length", 8))
    return {"result": mocks._generated(uuid.uuid5(_PLACEHOLDER_NAMESPACE, name).hex[:length], f"random result of {name}")}


def _role_assignment(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"name": mocks._uuid(name, "name")}


def _registry(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    registry = mocks._autoname(name, inputs.get("registryName"))
    return {
        "name": registry,
        "loginServer": f"{registry}.azurecr.io",
        "__id": mocks.arm_id(str(inputs.get("resourceGroupName")), "Microsoft.ContainerRegistry/registries", registry),
    }


def _application(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    object_id = mocks._uuid(name, "objectId")
    return {"clientId": mocks._uuid(name, "clientId"), "objectId": object_id, "__id": f"/applications/{object_id}"}


def _service_principal(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"objectId": mocks._uuid(name, "objectId")}


def _application_credential(mocks: AzureMocks, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    credential = mocks._uuid(name, "credentialId")
    return {"credentialId": credential, "__id": f"{inputs.get('applicationId')}/federatedIdentityCredential/{credential}"}


_RESOURCE_OUTPUTS: dict[str, Callable[[AzureMocks, str, dict[str, Any]], dict[str, Any]]] = {
    "azure-native:containerregistry:Registry": _registry,
    "azuread:index/application:Application": _application,
    "azuread:index/servicePrincipal:ServicePrincipal": _service_principal,
    "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": _application_credential,
    "azure-native:resources:ResourceGroup": _resource_group,
    "azure-native:containerservice:ManagedCluster": _managed_cluster,
    "azure-native:managedidentity:UserAssignedIdentity": _identity,
    "azure-native:authorization:RoleAssignment": _role_assignment,
    "azuredevops:index/servicePrincipalEntitlement:ServicePrincipalEntitlement": _entitlement,
    "azuredevops:index/group:Group": _devops_group,
    "random:index/randomString:RandomString": _random_string,
}


def _client_config(mocks: AzureMocks, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "clientId": mocks._uuid("the deployer", "clientId"),
        "objectId": mocks._uuid("the deployer", "objectId"),
        "subscriptionId": mocks.subscription_id,
        "tenantId": mocks.tenant_id,
    }


def _user_credentials(mocks: AzureMocks, args: dict[str, Any]) -> dict[str, Any]:
    name = args.get("resourceName", "cluster")
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {
            "server": f"https://{name}.hcp.westeurope.azmk8s.io:443",
            "certificate-authority-data": base64.b64encode(b"offline CA certificate").decode(),
        }}],
        "users": [{"name": "clusterUser", "user": {"exec": {"command": "kubelogin", "args": ["get-token", "--login", "devicecode"]}}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "clusterUser"}}],
        "current-context": name,
    }
    encoded = base64.b64encode(yaml.safe_dump(kubeconfig).encode()).decode()
    return {"kubeconfigs": [{"name": "clusterUser", "value": encoded}]}


def _existing_cluster(mocks: AzureMocks, args: dict[str, Any]) -> dict[str, Any]:
    group, name = str(args["resourceGroupName"]), str(args["resourceName"])
    shape = mocks.existing_cluster
    profile: dict[str, Any] = {"enabled": shape.oidc_issuer}
    if shape.oidc_issuer:
        profile["issuerURL"] = mocks._generated(
            f"https://{shape.location}.oic.prod-aks.azure.com/{mocks.tenant_id}/{uuid.uuid5(_PLACEHOLDER_NAMESPACE, name)}/",
            f"OIDC issuer URL of the existing cluster {name}",
        )
    return {
        "id": mocks.arm_id(group, "Microsoft.ContainerService/managedClusters", name),
        "name": name,
        "location": shape.location,
        "oidcIssuerProfile": profile,
        "securityProfile": {"workloadIdentity": {"enabled": shape.workload_identity}},
        "aadProfile": {"managed": shape.azure_rbac, "enableAzureRBAC": shape.azure_rbac},
        "agentPoolProfiles": [{"name": "system", "count": shape.node_count, "mode": "System"}],
    }


def _project_repositories(mocks: AzureMocks, args: dict[str, Any]) -> dict[str, Any]:
    project = mocks.placeholders.get(str(args.get("projectId")), "").removeprefix("id of project ")
    existing = mocks.configured_repositories if mocks.repositories is None else mocks.repositories
    names = [name for owner, name in sorted(existing) if owner.lower() == project.lower()]
    return {"repositories": [
        {"id": mocks._uuid(f"repository {name}", "id"), "name": name, "projectId": args.get("projectId")}
        for name in names
    ]}


def _devops_lookup(kind: str) -> Callable[[AzureMocks, dict[str, Any]], dict[str, Any]]:
    def answer(mocks: AzureMocks, args: dict[str, Any]) -> dict[str, Any]:
        owner = f"{kind} {args.get('name')}"
        result = {"id": mocks._uuid(owner, "id"), "name": args.get("name")}
        if kind == "group":
            result["descriptor"] = mocks._generated(f"vssgp.{uuid.uuid5(_PLACEHOLDER_NAMESPACE, owner).hex}", f"descriptor of {owner}")
        return result

    return answer


def _existing_registry(mocks: AzureMocks, args: dict[str, Any]) -> dict[str, Any]:
    group, name = str(args["resourceGroupName"]), str(args["registryName"])
    return {
        "id": mocks.arm_id(group, "Microsoft.ContainerRegistry/registries", name),
        "name": name,
        "location": "westeurope",
        "loginServer": f"{name}.azurecr.io",
        "sku": {"name": "Standard"},
        "adminUserEnabled": False,
    }


def _entra_client_config(mocks: AzureMocks, args: dict[str, Any]) -> dict[str, Any]:
    return {
        "clientId": mocks._uuid("the deployer", "clientId"),
        "objectId": mocks._uuid("the deployer", "objectId"),
        "tenantId": mocks.tenant_id,
    }


_INVOKE_RESULTS: dict[str, Callable[[AzureMocks, dict[str, Any]], dict[str, Any]]] = {
    "azure-native:containerregistry:getRegistry": _existing_registry,
    "azuread:index/getClientConfig:getClientConfig": _entra_client_config,
    "azure-native:authorization:getClientConfig": _client_config,
    "azure-native:containerservice:listManagedClusterUserCredentials": _user_credentials,
    "azure-native:containerservice:getManagedCluster": _existing_cluster,
    "azuredevops:index/getProject:getProject": _devops_lookup("project"),
    "azuredevops:index/getGroup:getGroup": _devops_lookup("group"),
    "azuredevops:index/getRepositories:getRepositories": _project_repositories,
}


# ----------------------------------------------------------------------------------------------------
# Recording monitor
# ----------------------------------------------------------------------------------------------------


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: AzureMocks, recorded: list[Resource]) -> None:
        super().__init__(mocks)
        self.recorded = recorded
        # Each resource's type as the engine qualifies it in a URN: its ancestors' types, then its own, joined by "$"
        # (the mock's URNs name only the parent's type, so two of them can match where the engine's differ).
        self.qualified_types: dict[str, str] = {}
        self.engine_urns: set[str] = set()
        # Each resource's deletedWith, protect and retainOnDelete after the engine's inheritance (by mock URN).
        self.inherited: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type == "pulumi:pulumi:Stack":
            return response
        parent_type = self.qualified_types.get(request.parent)
        qualified = f"{parent_type}${request.type}" if parent_type else request.type
        urn = f"urn:pulumi:{runtime_settings.get_stack()}::{runtime_settings.get_project()}::{qualified}::{request.name}"
        if urn in self.engine_urns:
            # The engine refuses a second resource with the same URN, so `pulumi up` would stop here.
            raise ValueError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
        self.engine_urns.add(urn)
        self.qualified_types[response.urn] = qualified
        # A plain call: super() has given this thread its event loop, which resource references need.
        raw = rpc.deserialize_properties(request.object, keep_unknowns=True)
        outputs = self.resources[response.urn].state
        secret_paths: set[str] = set()
        inherited = _inherit_from_parent(request, self.inherited.get(request.parent, {}))
        self.inherited[response.urn] = inherited
        self.recorded.append(Resource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent or None,
            provider=_provider_urn(request.provider),
            inputs=_unwrap_secrets(raw, "", secret_paths),
            outputs=dict(outputs),
            dependencies=set(request.dependencies),
            options={
                "protect": inherited["protect"],
                "delete_before_replace": bool(request.deleteBeforeReplace),
                "aliases": [_alias(alias) for alias in request.aliases],
                "ignore_changes": list(request.ignoreChanges),
                "retain_on_delete": inherited["retain_on_delete"],
                "error_hooks": list(request.hooks.on_error),
                "deleted_with": inherited["deleted_with"],
                "custom_timeouts": {
                    "create": request.customTimeouts.create,
                    "update": request.customTimeouts.update,
                    "delete": request.customTimeouts.delete,
                },
            },
            secret_paths=secret_paths,
        ))
        return response



def _inherit_from_parent(request: Any, parent: dict[str, Any]) -> dict[str, Any]:
    """deletedWith, protect and retainOnDelete as the engine applies them: a resource that does not set one takes its
    parent's (already inherited) value, so an option set on a component reaches every descendant (pulumi/pulumi
    pkg/resource/deploy/source_eval.go, inheritFromParent; docs/facts.md#pulumi)."""
    return {
        "deleted_with": request.deletedWith or parent.get("deleted_with"),
        "protect": request.protect if request.HasField("protect") else parent.get("protect", False),
        "retain_on_delete": (
            request.retainOnDelete if request.HasField("retainOnDelete") else parent.get("retain_on_delete", False)
        ),
    }


def _alias(alias: Any) -> dict[str, Any]:
    """An alias as sent to the engine: {"urn": ...}, or the parts of a spec that differ from the resource."""
    if alias.HasField("urn") or not alias.HasField("spec"):
        return {"urn": alias.urn}
    spec = alias.spec
    parts = {"name": spec.name, "type": spec.type, "stack": spec.stack, "project": spec.project, "parent": spec.parentUrn}
    return {key: value for key, value in parts.items() if value} | ({"noParent": True} if spec.noParent else {})


async def _resolve(outputs: dict[str, Any]) -> dict[str, Any]:
    """Exported values as the engine would store them: Outputs awaited, secrets still marked as such."""
    return rpc.deserialize_properties(await rpc.serialize_properties(outputs, {}), keep_unknowns=True)


def _provider_urn(reference: str) -> str | None:
    # A provider reference is "<urn>::<id>"; the URN itself contains "::".
    return reference.rsplit("::", 1)[0] if reference else None


def _unwrap_secrets(value: Any, path: str, secret_paths: set[str]) -> Any:
    """The plain value, with the dotted path of every secret inside it added to `secret_paths`."""
    if rpc.is_rpc_secret(value):
        secret_paths.add(path)
        value = rpc.unwrap_rpc_secret(value)
    if isinstance(value, dict):
        return {k: _unwrap_secrets(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v, f"{path}.{i}" if path else str(i), secret_paths) for i, v in enumerate(value)]
    return value


# ----------------------------------------------------------------------------------------------------
# Config as the CLI would pass it
# ----------------------------------------------------------------------------------------------------


def stack_files() -> list[str]:
    """Names of the stacks that have a Pulumi.<stack>.yaml in the project."""
    return sorted(stack_name(path) for path in ROOT.glob("Pulumi.*.yaml"))


def project_stack_file(stack: str) -> Path:
    """The project's own stack file, Pulumi.<stack>.yaml: the user's to edit."""
    return ROOT / f"Pulumi.{stack}.yaml"


def stack_name(stack_file: Path) -> str:
    """The stack a file configures: `Pulumi.dev.yaml` and `dev.yaml` both configure `dev`."""
    return stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")


def load_stack_config(stack_file: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The config map the CLI would hand the program: project defaults, then `stack_file`, then overrides.

    Keys are namespaced (`argocd-aks-wi:nodeCount`); structured values become JSON strings; `secure:`
    values, which only the CLI can decrypt, become a visible stand-in. A stack file that does not exist
    adds nothing, as for a stack that has no config yet.
    """
    config: dict[str, str] = {}
    for key, declaration in declared_config().items():
        if isinstance(declaration, dict) and "default" in declaration:
            config[_namespaced(key)] = _as_config_string(declaration["default"])
    if stack_file.exists():
        status = stack_file.stat()
        for key, value in _stack_file_config(stack_file, status.st_mtime_ns, status.st_size).items():
            config[_namespaced(key)] = _as_config_string(value)
    for key, value in (overrides or {}).items():
        if value is None:
            config.pop(_namespaced(key), None)
        else:
            config[_namespaced(key)] = _as_config_string(value)
    return config


@functools.lru_cache(maxsize=64)
def _stack_file_config(stack_file: Path, modified_ns: int, size: int) -> dict[str, Any]:
    # One parse per version of a file (keyed on its modification time and size): the tests run the same few
    # stack files hundreds of times, and the pure-Python YAML parser takes about 10 ms for each.
    return dict((yaml.safe_load(stack_file.read_text()) or {}).get("config") or {})


def _configured_repositories(config: Mapping[str, str]) -> set[tuple[str, str]]:
    """(project, repository) of every well-formed repository URL in the config."""
    try:
        urls = json.loads(config.get(f"{PROJECT}:repositories", "[]"))
    except (ValueError, RecursionError):  # "[[[[..." as deep as the fuzzer makes it: settings refuses it by name
        return set()
    split = [split_repository_url(str(url)) for url in (urls if isinstance(urls, list) else [])]
    return {(parts[1], parts[2]) for parts in split if parts is not None}


def _namespaced(key: str) -> str:
    return key if ":" in key else f"{PROJECT}:{key}"


def _as_config_string(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return "[secure value: decrypted only by the Pulumi CLI]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


# ----------------------------------------------------------------------------------------------------
# Running the program
# ----------------------------------------------------------------------------------------------------


def run_program(
    stack_file: Path,
    overrides: Mapping[str, Any] | None = None,
    *,
    stack: str | None = None,
    mocks: AzureMocks | None = None,
    preview: bool = False,
    registered: list[Resource] | None = None,
) -> ProgramRun:
    """Run `__main__.py` once with the config of `stack_file` plus `overrides`; return what it registered.

    The stack's name is `stack`, by default the one the file is named after (see stack_name). Raises what
    the program raises (e.g. settings.ConfigError); pass `registered` to see what was registered before that
    (a test that proves a bad value registers nothing).
    """
    config = load_stack_config(stack_file, overrides)
    return _on_program_thread(
        _record, _run_main, stack or stack_name(stack_file), config, mocks or AzureMocks(), preview, registered
    )


def run_components(
    build: Callable[[], None], *, config: Mapping[str, str] | None = None, stack: str = "test", mocks: AzureMocks | None = None
) -> ProgramRun:
    """Run `build` (code that creates components directly, as a test of one component does) under the same mocks
    and record what it registered; `config` is the namespaced config it may read, usually none."""
    return _on_program_thread(_record, build, stack, dict(config or {}), mocks or AzureMocks(), False, None)


# Every run happens on this one thread, where the call stack starts at the run as it does under `pulumi up`. The SDK
# records each resource's call stack, resolving every frame below it to a file URI; below a pytest-xdist worker's 40
# frames that was about 10% of a run (callgrind, fleet stack: 918 M instructions per run on the caller's thread, 830 M
# here).
_PROGRAM_THREAD = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="offline-program")


def _on_program_thread(function: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    return _PROGRAM_THREAD.submit(function, *args, **kwargs).result()


def _record(
    body: Callable[[], None],
    stack: str,
    config: dict[str, str],
    mocks: AzureMocks,
    preview: bool,
    registered: list[Resource] | None,
) -> ProgramRun:
    mocks.configured_repositories = _configured_repositories(config)
    monitor = _RecordingMonitor(mocks, registered if registered is not None else [])
    # set_mocks creates the root stack only when none exists (forget the previous run's first), and registers
    # it at once, on this thread's event loop (which an earlier asyncio.run in a test session may have unset).
    runtime_settings.reset_options(project=PROJECT, stack=stack, preview=preview)
    loop = _event_loop()
    # As the language host that `pulumi up` runs does (docs/facts.md#pulumi): when a run fails, the Outputs that
    # waited on the failure are never observed, and asyncio would log each one with its traceback at exit.
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    pulumi_mocks.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    set_all_config(config, [])
    # Collector tuning, kept for `scripts/test` (measured: the suite takes about 12 s more CPU without it; the
    # offline plan only 0.2 s): the collector skips everything alive before the run (the SDK modules, earlier
    # runs a test module keeps), and a full pass comes at most every 100 middle ones (CPython: 10), since the
    # program builds one graph that lives until the run ends. Both are undone after the run.
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(threshold[0], threshold[1], 100)
    try:
        with _project_on_path():
            # Runs the program, then waits for every outstanding registration and Output, as `pulumi up` does
            # (the SDK's own entry point for programs under mocks).
            pulumi.runtime.test(body)()
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
    root = runtime_settings.get_root_resource()
    assert isinstance(root, Stack), "set_mocks installs a root Stack"
    secret_outputs: set[str] = set()
    stack_outputs = _unwrap_secrets(loop.run_until_complete(_resolve(root.outputs)), "", secret_outputs)
    return ProgramRun(
        resources=list(monitor.recorded),
        stack_outputs=stack_outputs,
        secret_outputs=secret_outputs,
        invokes=list(mocks.invokes),
        placeholders=dict(mocks.placeholders),
        stack=stack,
        config=config,
    )


def _event_loop() -> asyncio.AbstractEventLoop:
    """This thread's event loop, made if it has none (an earlier asyncio.run in a test session unsets it)."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


def end_runs() -> None:
    """Call once when a process has finished its runs (the offline plan, a pytest process); no run may follow.

    The SDK gives every worker thread that serves a monitor call an event loop and never closes it; left to
    interpreter shutdown, such a loop may be collected after its socket and print an "Invalid file
    descriptor" traceback. Closing them while the interpreter is whole avoids that. Then the collector is
    frozen: the process is ending, and its passes at exit over the 200,000-odd objects the runs leave behind
    took 0.7 s after the dev stack's plan and 1.7 s after a pytest worker's tests (pytest's last gc.collect
    among them). Weakref finalizers, such as temporary directories', still run at exit.
    """
    for candidate in gc.get_objects():
        if isinstance(candidate, asyncio.AbstractEventLoop) and not candidate.is_running() and not candidate.is_closed():
            candidate.close()
    gc.freeze()


def _run_main() -> None:
    runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")


class _project_on_path:  # noqa: N801 - used as a context manager
    def __enter__(self) -> None:
        sys.path.insert(0, str(ROOT))
        self._cwd = os.getcwd()
        os.chdir(ROOT)

    def __exit__(self, *exc: object) -> None:
        os.chdir(self._cwd)
        sys.path.remove(str(ROOT))


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted path, leaf value) inside a nested input."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, f"{path}.{index}" if path else str(index))
    else:
        yield path, value
