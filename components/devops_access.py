"""What the identity may do in Azure DevOps: a Basic entitlement, then read access to the repositories."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pulumi
import pulumi_azuredevops as azuredevops

READERS = "readers"
REPOSITORIES = "repositories"

# Azure DevOps answers VS403283 ("Could not add user ... at this time") while Entra has not yet replicated a
# new service principal to it; the provider does not retry (docs/facts.md#azure-devops).
NOT_REPLICATED_YET = "VS403283"
# Waits between attempts, in seconds: about ten minutes in all, then pulumi up fails with what to check.
ENTITLEMENT_RETRY_DELAYS = (15, 30, 45, 60, 90, 120, 120, 120)
ENTITLEMENT_GAVE_UP = (
    "Azure DevOps still refuses the identity after about ten minutes (VS403283). Check that the organisation "
    "is connected to the Entra tenant of the subscription (Organization settings > Microsoft Entra), that the "
    "identity exists there (az ad sp show --id <principal id>), then run pulumi up again."
)


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
    push_repositories_by_project: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Source Hydrator targets among the repositories, by project: the identity may also push to these."""
    hydrator_creates_branches: bool = False
    """The hydrator pushes to branches that do not exist yet, so push targets also get CreateBranch."""


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
            opts=pulumi.ResourceOptions.merge(self._child_opts, pulumi.ResourceOptions(
                hooks=pulumi.ResourceHookBinding(on_error=[pulumi.ErrorHook(f"{name}-entitlement-retry", retry_until_replicated)]),
            )),
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
            pushed = {repository.lower() for repository in args.push_repositories_by_project.get(project_name, ())}
            for repository_name in repository_names:
                # The logical name keeps its "-read" ending when push is added: the grant is updated in place.
                azuredevops.GitPermissions(
                    f"{name}-{project_name}-{repository_name}-read",
                    project_id=project_id,
                    repository_id=ids.apply(partial(_id_of, repository_name)),
                    principal=group.descriptor,
                    permissions=repository_permissions(
                        push=repository_name.lower() in pushed, create_branches=args.hydrator_creates_branches
                    ),
                    opts=self._child_opts,
                )


def repository_permissions(push: bool, create_branches: bool) -> dict[str, str]:
    """Git permissions of the identity's group on one repository: read, and for a hydrator target push."""
    permissions = {"GenericRead": "Allow"}
    if push:
        # The hydrator pushes commits and a git note per source commit (docs/facts.md#source-hydrator).
        permissions["GenericContribute"] = "Allow"
        permissions["ManageNote"] = "Allow"
        if create_branches:
            permissions["CreateBranch"] = "Allow"
    return permissions


def entitlement_retry_delay(failed_operation: str, errors: Sequence[str]) -> int | None:
    """Seconds to wait before creating the entitlement again, or None to let the failure stand.

    Only a create refused with VS403283 is retried. `errors` holds every failure so far, newest first, so its
    length counts the attempts and the hook needs no state of its own.
    """
    if not _refused_as_not_replicated(failed_operation, errors):
        return None
    attempt = len(errors) - 1
    return ENTITLEMENT_RETRY_DELAYS[attempt] if attempt < len(ENTITLEMENT_RETRY_DELAYS) else None


def _refused_as_not_replicated(failed_operation: str, errors: Sequence[str]) -> bool:
    return failed_operation == "create" and bool(errors) and NOT_REPLICATED_YET in errors[0]


async def retry_until_replicated(failure: pulumi.ErrorHookArgs) -> bool:
    """Error hook of the entitlement: wait out Entra's replication to Azure DevOps, then retry the create."""
    delay = entitlement_retry_delay(failure.failed_operation, failure.errors)
    if delay is None:
        if _refused_as_not_replicated(failure.failed_operation, failure.errors):
            pulumi.log.error(ENTITLEMENT_GAVE_UP)
        return False
    pulumi.log.info(f"Azure DevOps does not know the new identity yet (VS403283); retrying in {delay} s")
    await asyncio.sleep(delay)
    return True


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
