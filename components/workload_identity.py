"""The user-assigned identity Argo CD runs as, and the federated credentials that let pods use it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native.managedidentity as managedidentity

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


@dataclass(frozen=True)
class WorkloadIdentityArgs:
    resource_group_name: pulumi.Input[str]
    """Resource group that holds the identity."""
    location: str
    """Azure region of the identity."""
    issuer_urls: Mapping[str, pulumi.Input[str]]
    """OIDC issuers to trust, by a stable key: this stack's cluster, then any further clusters."""
    subjects: Mapping[str, str]
    """Token subjects to trust (system:serviceaccount:<namespace>:<name>), by a stable key such as repo-server."""
    protect: bool = False
    """Protect the identity from deletion (its client ID is what Argo CD is configured with)."""


class WorkloadIdentity(pulumi.ComponentResource):
    """A user-assigned managed identity trusting exactly the given service accounts of the given clusters."""

    identity_name: pulumi.Output[str]
    client_id: pulumi.Output[str]
    principal_id: pulumi.Output[str]
    tenant_id: pulumi.Output[str]
    credentials: list[managedidentity.FederatedIdentityCredential]

    def __init__(self, name: str, args: WorkloadIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("argocd-wi:identity:WorkloadIdentity", name, None, opts)
        identity = managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=args.resource_group_name,
            location=args.location,
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.identity_name = identity.name
        self.client_id = identity.client_id
        self.principal_id = identity.principal_id
        self.tenant_id = identity.tenant_id

        self.credentials = []
        for issuer_key, issuer in args.issuer_urls.items():
            for subject_key, subject in args.subjects.items():
                # Keys, not the subject text, name the credential: renaming a namespace or service account
                # then updates the credential in place rather than creating a second one beside it.
                credential_name = f"{issuer_key}-{subject_key}"
                previous = self.credentials[-1:]
                self.credentials.append(managedidentity.FederatedIdentityCredential(
                    f"{name}-{credential_name}",
                    federated_identity_credential_resource_name=credential_name,
                    resource_group_name=args.resource_group_name,
                    resource_name_=identity.name,
                    issuer=issuer,
                    subject=subject,
                    audiences=[TOKEN_EXCHANGE_AUDIENCE],
                    opts=pulumi.ResourceOptions(
                        parent=self,
                        # Azure refuses concurrent writes of federated credentials on one identity, so they
                        # are created one after another.
                        depends_on=previous,
                        # The Azure name is fixed, so a replacement must free it first.
                        delete_before_replace=True,
                    ),
                ))
        self.register_outputs({
            "identity_name": self.identity_name,
            "client_id": self.client_id,
            "principal_id": self.principal_id,
            "tenant_id": self.tenant_id,
        })

