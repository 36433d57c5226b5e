"""Pull access for the identity to the Azure Container Registries Argo CD reads Helm charts from."""

from typing import NotRequired, TypedDict

import pulumi
import pulumi_azure_native.authorization as authorization
import pulumi_azure_native.containerregistry as containerregistry

from components.roles import ACR_PULL, ACR_REPOSITORY_READER, role_definition_id
from components.vocabulary import type_token

# What the ABAC condition lets the repository reader do: read a repository's content and metadata
# (docs/facts.md#acr-helm-charts).
_READ_ACTIONS = (
    "Microsoft.ContainerRegistry/registries/repositories/content/read",
    "Microsoft.ContainerRegistry/registries/repositories/metadata/read",
)


class RegistryArgs(TypedDict):
    """One registry the identity pulls charts from."""

    key: str
    """Stable short name of the registry in resource names (its Azure name)."""
    name: str
    """Azure name of the registry (<name>.azurecr.io)."""
    existing_resource_group_name: NotRequired[str]
    """Resource group of an existing registry, which is only looked up; absent, the registry is created."""
    abac: bool
    """The registry ignores AcrPull (ABAC repository permissions): grant the repository reader role instead."""
    repository_paths: list[str]
    """Chart paths inside the registry; with abac the grant is limited to repositories under them."""


class ContainerRegistryAccessArgs(TypedDict):
    """Where new registries go and who gets pull on every registry."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the registries this component creates."""
    location: str
    """Azure region of the registries this component creates."""
    principal_id: pulumi.Input[str]
    """Principal ID of the identity that pulls (WorkloadIdentity.principal_id)."""
    registries: list[RegistryArgs]
    """The registries, each created or looked up."""
    protect: bool
    """Protect created registries from deletion (they hold the charts)."""


class ContainerRegistryAccess(pulumi.ComponentResource):
    """Created or existing registries, and a pull grant scoped to each of them, never to a wider scope."""

    login_servers: pulumi.Output[list[str]]
    """<name>.azurecr.io of every registry."""
    grants_ready: pulumi.Output[list[str]]
    """IDs of the role assignments: whatever pulls charts (Argo CD) waits for them."""

    def __init__(self, name: str, args: ContainerRegistryAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("ContainerRegistryAccess"), name, None, opts)
        grants = []
        for registry in args["registries"]:
            registry_id = pulumi.Output.from_input(self._registry_id(name, registry, args))
            role, condition = pull_role(registry)
            grants.append(authorization.RoleAssignment(
                f"{name}-{registry['key']}-pull",
                # The registry itself, never its resource group or the subscription.
                scope=registry_id,
                principal_id=args["principal_id"],
                principal_type="ServicePrincipal",
                role_definition_id=role_definition_id(registry_id, role),
                condition=condition,
                condition_version="2.0" if condition else None,
                description="Lets Argo CD's repo-server pull Helm charts through workload identity.",
                opts=pulumi.ResourceOptions(parent=self),
            ))
        self.login_servers = pulumi.Output.from_input([f"{registry['name']}.azurecr.io" for registry in args["registries"]])
        self.grants_ready = pulumi.Output.all(*(grant.id for grant in grants)).apply(lambda ids: [str(i) for i in ids])
        self.register_outputs({"login_servers": self.login_servers, "grants_ready": self.grants_ready})

    def _registry_id(self, name: str, registry: RegistryArgs, args: ContainerRegistryAccessArgs) -> pulumi.Input[str]:
        if "existing_resource_group_name" in registry:
            return containerregistry.get_registry_output(
                resource_group_name=registry["existing_resource_group_name"], registry_name=registry["name"],
                opts=pulumi.InvokeOutputOptions(parent=self),
            ).id
        return containerregistry.Registry(
            f"{name}-{registry['key']}",
            registry_name=registry["name"],
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            sku=containerregistry.SkuArgs(name="Basic"),
            # Nothing reads it with a password: the admin user stays off.
            admin_user_enabled=False,
            opts=pulumi.ResourceOptions(parent=self, protect=args["protect"]),
        ).id


def pull_role(registry: RegistryArgs) -> tuple[str, str | None]:
    """AcrPull on the registry; in the RBAC Registry + ABAC Repository Permissions mode, which ignores AcrPull, the
    repository reader role with a condition naming the chart paths."""
    if not registry["abac"]:
        return ACR_PULL, None
    return ACR_REPOSITORY_READER, repository_condition(registry["repository_paths"])


def repository_condition(paths: list[str]) -> str:
    """An ABAC condition: reads are allowed only on repositories under the given paths (charts are pushed as
    <path>/<chart>)."""
    not_a_read = " AND ".join(f"!(ActionMatches{{'{action}'}})" for action in _READ_ACTIONS)
    under = " OR ".join(
        f"@Request[Microsoft.ContainerRegistry/registries/repositories:name] StringStartsWithIgnoreCase '{path}/'"
        for path in paths
    )
    return f"(({not_a_read}) OR ({under}))"
