"""What the identity may do in Azure DevOps: a Basic entitlement, then read access to the repositories."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import pulumi
import pulumi_azuredevops as azuredevops

READERS = "readers"
REPOSITORIES = "repositories"


@dataclass(frozen=True)
class AzureDevOpsAccessArgs:
    organization_url: str
    """https://dev.azure.com/<organisation>; the provider authenticates without a PAT (Azure CLI, OIDC or MSI)."""
    principal_id: pulumi.Input[str]
    """Object (principal) ID of the managed identity to admit."""
    access_model: str
    """readers: the project's Readers group; repositories: GenericRead on the named repositories only."""
    repositories_by_project: Mapping[str, Sequence[str]]
    """Repository names to read, by project name."""
    license_type: str = "express"
    """Entitlement licence; express is the API's name for Basic, the least that can read code."""
    group_label: str = "argocd"
    """Readable part of the dedicated group's name (the stack's name), so stacks do not collide."""


class AzureDevOpsAccess(pulumi.ComponentResource):
    """Admits the identity to the organisation and grants it read access to what Argo CD syncs from."""

    descriptor: pulumi.Output[str]

    def __init__(self, name: str, args: AzureDevOpsAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("argocd-wi:devops:AzureDevOpsAccess", name, None, opts)
        # No personal_access_token: the provider falls back to the Azure CLI login, or to OIDC / managed
        # identity when ARM_USE_OIDC / ARM_USE_MSI are set (settings.py refuses a PAT in config or env).
        provider = azuredevops.Provider(
            f"{name}-provider",
            org_service_url=args.organization_url,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._child_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        entitlement = azuredevops.ServicePrincipalEntitlement(
            f"{name}-entitlement",
            origin="aad",
            origin_id=args.principal_id,
            account_license_type=args.license_type,
            opts=self._child_opts,
        )
        self.descriptor = entitlement.descriptor
        if args.access_model == READERS:
            self._join_readers(name, args, entitlement)
        else:
            self._grant_repositories(name, args, entitlement)
        self.register_outputs({"descriptor": self.descriptor})

    def _invoke_opts(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(parent=self, provider=self._child_opts.provider)

    def _join_readers(
        self, name: str, args: AzureDevOpsAccessArgs, entitlement: azuredevops.ServicePrincipalEntitlement
    ) -> None:
        for project_name in args.repositories_by_project:
            project = azuredevops.get_project_output(name=project_name, opts=self._invoke_opts())
            readers = azuredevops.get_group_output(project_id=project.id, name="Readers", opts=self._invoke_opts())
            azuredevops.GroupMembership(
                f"{name}-{project_name}-readers",
                group=readers.descriptor,
                members=[entitlement.descriptor],
                # add: leave the Readers group's other members alone.
                mode="add",
                opts=self._child_opts,
            )

    def _grant_repositories(
        self, name: str, args: AzureDevOpsAccessArgs, entitlement: azuredevops.ServicePrincipalEntitlement
    ) -> None:
        import pulumi_random as random  # loaded only for the access model that uses it

        # Group names must be unique in a project; the suffix lives in state, so it never changes.
        suffix = random.RandomString(
            f"{name}-group-suffix", length=4, special=False, upper=False, opts=pulumi.ResourceOptions(parent=self)
        )
        for project_name, repository_names in args.repositories_by_project.items():
            # One Output for the project's ID, shared by its repositories (each `.id` would lift a new one).
            project_id = azuredevops.get_project_output(name=project_name, opts=self._invoke_opts()).id
            group = azuredevops.Group(
                f"{name}-{project_name}-group",
                scope=project_id,
                display_name=suffix.result.apply(lambda s: f"Argo CD readers ({args.group_label}, {s})"),
                description="Managed by Pulumi: the Argo CD workload identity reads the repositories granted to this group.",
                members=[entitlement.descriptor],
                opts=self._child_opts,
            )
            # One lookup per project, not per repository: it lists the project's repositories once.
            found = azuredevops.get_repositories_output(project_id=project_id, opts=self._invoke_opts()).repositories
            ids = found.apply(partial(_ids_by_name, wanted=tuple(repository_names), project=project_name))
            for repository_name in repository_names:
                azuredevops.GitPermissions(
                    f"{name}-{project_name}-{repository_name}-read",
                    project_id=project_id,
                    repository_id=ids.apply(partial(_id_of, repository_name)),
                    principal=group.descriptor,
                    permissions={"GenericRead": "Allow"},
                    opts=self._child_opts,
                )


def _ids_by_name(listed: Sequence[Any], wanted: Sequence[str], project: str) -> dict[str, str]:
    """Repository IDs by lower-cased name (Azure DevOps names are case-insensitive); refuse missing ones."""
    by_name = {str(repository.name).lower(): str(repository.id) for repository in listed or []}
    missing = [name for name in wanted if name.lower() not in by_name]
    if missing:
        raise RepositoryNotFoundError(
            f"Azure DevOps project {project!r} has no repository named {', '.join(map(repr, missing))} "
            "(or the account running pulumi up cannot see it): check the repositories config"
        )
    return by_name


def _id_of(name: str, by_name: Mapping[str, str]) -> str:
    return by_name[name.lower()]


class RepositoryNotFoundError(LookupError):
    """A configured repository does not exist in its project."""
