"""What the identity may do in Azure DevOps: a Basic entitlement, then read access to the repositories."""

import asyncio
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_azuredevops as azuredevops
import pulumi_random as random

from components.ordering import once_created
from components.vocabulary import AccessModel, type_token

# "express" is the API's name for Basic, the least that can read code: Stakeholder cannot (docs/facts.md#azure-devops).
BASIC_LICENCE = "express"

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


class RepositoryGrantArgs(TypedDict):
    """One repository the identity may read, and perhaps push to."""

    project: str
    """Project of the repository (its name, as in the URL, decoded)."""
    name: str
    """Name of the repository."""
    push: NotRequired[bool]
    """Also push (GenericContribute, ManageNote): a Source Hydrator target. Absent: read only."""


class AzureDevOpsAccessArgs(TypedDict):
    """Whom to admit to which organisation, and what they may read."""

    organization_url: str
    """https://dev.azure.com/<organisation>; the provider authenticates without a PAT (Azure CLI, OIDC or MSI)."""
    principal_id: pulumi.Input[str]
    """Object (principal) ID of the managed identity to admit."""
    access_model: AccessModel
    """Read through each project's Readers group, or through GenericRead on the listed repositories only."""
    repositories: list[RepositoryGrantArgs]
    """The repositories to read; with the readers model, their projects' Readers groups are joined."""
    group_label: str
    """Readable part of the dedicated group's name (the stack's name), so stacks do not collide."""
    hydrator_creates_branches: NotRequired[bool]
    """The hydrator pushes to branches that do not exist yet, so push targets also get CreateBranch."""


class AzureDevOpsAccess(pulumi.ComponentResource):
    """Admits the identity to the organisation and grants it read access to what Argo CD syncs from."""

    entitlement_id: pulumi.Output[str]
    """Azure DevOps' ID of the identity's service principal entitlement (its member ID in the organisation)."""
    descriptor: pulumi.Output[str]
    """Azure DevOps descriptor of the identity, known only once every grant exists: whatever is configured with it
    (the bootstrap Application) cannot try to read before the identity may."""

    def __init__(self, name: str, args: AzureDevOpsAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("AzureDevOpsAccess"), name, None, opts)
        # No personal_access_token: the provider falls back to the Azure CLI login, or to OIDC / managed
        # identity when ARM_USE_OIDC / ARM_USE_MSI are set (settings refuses a PAT in config or env).
        provider = azuredevops.Provider(
            f"{name}-provider",
            org_service_url=args["organization_url"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._child_opts = pulumi.ResourceOptions(parent=self, provider=provider)
        entitlement = azuredevops.ServicePrincipalEntitlement(
            f"{name}-entitlement",
            origin="aad",
            origin_id=args["principal_id"],
            account_license_type=BASIC_LICENCE,
            opts=pulumi.ResourceOptions.merge(self._child_opts, pulumi.ResourceOptions(
                hooks=pulumi.ResourceHookBinding(on_error=[pulumi.ErrorHook(f"{name}-entitlement-retry", retry_until_replicated)]),
            )),
        )
        by_project: dict[str, list[RepositoryGrantArgs]] = {}
        for repository in args["repositories"]:
            by_project.setdefault(repository["project"], []).append(repository)
        if args["access_model"] == AccessModel.READERS:
            grants = self._join_readers(name, by_project, entitlement)
        else:
            grants = self._grant_repositories(name, args, by_project, entitlement)
        self.descriptor = once_created(entitlement.descriptor, grants)
        self.entitlement_id = entitlement.id
        self.register_outputs({"descriptor": self.descriptor, "entitlement_id": self.entitlement_id})

    def _invoke_opts(self) -> pulumi.InvokeOptions:
        return pulumi.InvokeOptions(parent=self, provider=self._child_opts.provider)

    def _join_readers(
        self,
        name: str,
        by_project: Mapping[str, Sequence[RepositoryGrantArgs]],
        entitlement: azuredevops.ServicePrincipalEntitlement,
    ) -> list[pulumi.CustomResource]:
        memberships: list[pulumi.CustomResource] = []
        for project_name in by_project:
            project = azuredevops.get_project_output(name=project_name, opts=self._invoke_opts())
            readers = azuredevops.get_group_output(project_id=project.id, name="Readers", opts=self._invoke_opts())
            memberships.append(azuredevops.GroupMembership(
                f"{name}-{project_name}-readers",
                group=readers.descriptor,
                members=[entitlement.descriptor],
                # add: leave the Readers group's other members alone.
                mode="add",
                opts=self._child_opts,
            ))
        return memberships

    def _grant_repositories(
        self,
        name: str,
        args: AzureDevOpsAccessArgs,
        by_project: Mapping[str, Sequence[RepositoryGrantArgs]],
        entitlement: azuredevops.ServicePrincipalEntitlement,
    ) -> list[pulumi.CustomResource]:
        # Group names must be unique in a project; the suffix lives in state, so it never changes.
        suffix = random.RandomString(
            f"{name}-group-suffix", length=4, special=False, upper=False, opts=pulumi.ResourceOptions(parent=self)
        )
        label = args["group_label"]
        create_branches = args.get("hydrator_creates_branches", False)
        # A grant is named "<project>/<repository>": both names may hold hyphens but neither may hold a slash, so
        # platform/team-apps and platform-team/apps stay two resources. Grants were once named "<project>-<repository>",
        # which runs those two together; that older name stays an alias, so a stack deployed with it updates its
        # grants in place. Two grants share the alias only when their older names were the same. That is harmless
        # unless a stack still holds the older name: then the engine refuses the second claim at preview, which is
        # better than taking the deployed grant for the other repository (README, Troubleshooting: "Duplicate resource alias").
        grants: list[pulumi.CustomResource] = []
        for project_name, repositories in by_project.items():
            # One Output for the project's ID, shared by its repositories (each `.id` would lift a new one).
            project_id = azuredevops.get_project_output(name=project_name, opts=self._invoke_opts()).id
            group = azuredevops.Group(
                f"{name}-{project_name}-group",
                scope=project_id,
                display_name=suffix.result.apply(lambda s: f"Argo CD readers ({label}, {s})"),
                description="Managed by Pulumi: the Argo CD workload identity reads the repositories granted to this group.",
                members=[entitlement.descriptor],
                opts=self._child_opts,
            )
            # One lookup per project, not per repository: it lists the project's repositories once.
            found = azuredevops.get_repositories_output(project_id=project_id, opts=self._invoke_opts()).repositories
            wanted = tuple(repository["name"] for repository in repositories)
            ids = found.apply(partial(_ids_by_name, wanted=wanted, project=project_name))
            grants.append(group)
            for repository in repositories:
                aliases = [pulumi.Alias(name=f"{name}-{project_name}-{repository['name']}-read")]
                # The logical name keeps its "-read" ending when push is added: the grant is updated in place.
                grants.append(azuredevops.GitPermissions(
                    f"{name}-{project_name}/{repository['name']}-read",
                    project_id=project_id,
                    repository_id=ids.apply(partial(_id_of, repository["name"])),
                    principal=group.descriptor,
                    permissions=repository_permissions(
                        push=repository.get("push", False), create_branches=create_branches
                    ),
                    opts=pulumi.ResourceOptions.merge(self._child_opts, pulumi.ResourceOptions(aliases=aliases)),
                ))
        return grants


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
