"""The user-assigned identity Argo CD runs as, and the federated credentials that let pods use it."""

from typing import TypedDict

import pulumi
import pulumi_azure_native.managedidentity as managedidentity

from components.ordering import once_created
from components.vocabulary import type_token

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
# Pod label and service-account annotation the Entra workload identity webhook acts on (docs/facts.md#entra-workload-identity).
WI_USE_LABEL = "azure.workload.identity/use"
WI_CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"


class WorkloadIdentityArgs(TypedDict):
    """The identity's home and exactly whom it trusts."""

    resource_group_name: pulumi.Input[str]
    """Resource group that holds the identity."""
    location: str
    """Azure region of the identity."""
    issuer_urls: dict[str, pulumi.Input[str]]
    """OIDC issuers to trust, by a stable key (it names the credentials): this stack's cluster, then any others."""
    subjects: dict[str, str]
    """Token subjects to trust (system:serviceaccount:<namespace>:<name>), by a stable key such as repo-server."""
    protect: bool
    """Protect the identity from deletion (its client ID is what Argo CD is configured with)."""


class WorkloadIdentity(pulumi.ComponentResource):
    """A user-assigned managed identity trusting exactly the given service accounts of the given clusters."""

    identity_name: pulumi.Output[str]
    """Azure name of the managed identity."""
    client_id: pulumi.Output[str]
    """Client ID for the service-account annotation; known only once every federated credential exists, so whatever
    is configured with it (Argo CD's pods) cannot ask Entra for a token before the identity trusts them."""
    principal_id: pulumi.Output[str]
    """Object (principal) ID: what Azure DevOps admits and Azure RBAC grants roles to."""
    tenant_id: pulumi.Output[str]
    """Entra tenant of the identity."""

    def __init__(self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("WorkloadIdentity"), name, None, opts)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=args["resource_group_name"],
            location=args["location"],
            opts=pulumi.ResourceOptions(parent=self, protect=args["protect"]),
        )
        credentials: list[managedidentity.FederatedIdentityCredential] = []
        for issuer_key, issuer in args["issuer_urls"].items():
            for subject_key, subject in args["subjects"].items():
                # Keys, not the subject text, name the credential: renaming a namespace or service account
                # then updates the credential in place rather than creating a second one beside it.
                credential_name = f"{issuer_key}-{subject_key}"
                credentials.append(managedidentity.FederatedIdentityCredential(
                    f"{name}-{credential_name}",
                    federated_identity_credential_resource_name=credential_name,
                    resource_group_name=args["resource_group_name"],
                    resource_name_=identity.name,
                    issuer=issuer,
                    subject=subject,
                    audiences=[TOKEN_EXCHANGE_AUDIENCE],
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        # Azure refuses concurrent writes of federated credentials on one identity, so they
                        # are created one after another.
                        depends_on=credentials[-1:],
                        # The Azure name is fixed, so a replacement must free it first.
                        delete_before_replace=True,
                    ),
                ))
        self.identity_name = identity.name
        self.client_id = once_created(identity.client_id, credentials)
        self.principal_id = identity.principal_id
        self.tenant_id = identity.tenant_id
        self.register_outputs({
            "identity_name": self.identity_name,
            "client_id": self.client_id,
            "principal_id": self.principal_id,
            "tenant_id": self.tenant_id,
        })
