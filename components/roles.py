"""Azure's built-in roles the components assign, by ID (Microsoft's built-in roles list; docs/facts.md#azure-rbac),
and the one way a role definition's ID is written."""

import pulumi

# Kubernetes authorization through Azure RBAC.
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
AKS_RBAC_ADMIN = "3498e952-d568-435e-9b2c-8d77e338d7f7"
AKS_RBAC_WRITER = "a7ffa36f-339b-4b5c-8bdf-e2c188b2c0eb"
# Pulling from Azure Container Registry: AcrPull, and in ABAC mode the repository reader (AcrPull is ignored there).
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
ACR_REPOSITORY_READER = "b93aa761-3e63-49ed-ac28-beffa264f7ac"


def role_definition_id(scope: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    """The built-in role's definition in the subscription of `scope` (an ARM ID, /subscriptions/<id>/...): a role
    assignment names its role in the subscription it is made in."""
    return pulumi.Output.from_input(scope).apply(
        lambda arm_id: f"/subscriptions/{arm_id.split('/')[2]}/providers/Microsoft.Authorization/roleDefinitions/{role}"
    )
