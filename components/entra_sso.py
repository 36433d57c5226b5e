"""Entra single sign-on for Argo CD: an app registration that argocd-server uses through workload identity.

No client secret exists: Argo CD's server presents its Kubernetes service-account token, which the app's federated
credential trusts (docs/facts.md#entra-sso).
"""

from typing import TypedDict

import pulumi
from pulumi_azuread import (
    Application,
    ApplicationFederatedIdentityCredential,
    ApplicationOptionalClaimsArgs,
    ApplicationOptionalClaimsIdTokenArgs,
    ApplicationPublicClientArgs,
    ApplicationWebArgs,
    ServicePrincipal,
    get_client_config_output,
)

from components.ordering import once_created
from components.vocabulary import type_token
from components.workload_identity import TOKEN_EXCHANGE_AUDIENCE

# The argocd CLI's `argocd login --sso` listens here (Argo CD docs, Entra ID App Registration Auth using OIDC).
CLI_REDIRECT_URI = "http://localhost:8085/auth/callback"
# Security groups the user belongs to, as object IDs, in the ID token's groups claim: what policy.csv matches.
GROUP_CLAIMS = "SecurityGroup"


class EntraSingleSignOnArgs(TypedDict):
    """The app registration's name, where Argo CD is reached, and exactly which service account may use the app."""

    display_name: str
    """Display name of the app registration in Entra."""
    argocd_url: str
    """Argo CD's external address; the web redirect URI is <argocd_url>/auth/callback."""
    issuer_url: pulumi.Input[str]
    """OIDC issuer of the cluster argocd-server runs on (the cluster's output, never typed in)."""
    subject: str
    """system:serviceaccount:<namespace>:<argocd-server's service account>: the only token the app trusts."""


class EntraSingleSignOn(pulumi.ComponentResource):
    """An app registration with redirect URIs and group claims, its service principal, and a federated credential."""

    client_id: pulumi.Output[str]
    """Application (client) ID for argocd-server's service-account annotation and oidc.config; known only once the
    federated credential exists, so the server cannot ask Entra for a token before the app trusts it."""
    tenant_id: pulumi.Output[str]
    """Entra tenant of the app: oidc.config's issuer is https://login.microsoftonline.com/<tenant>/v2.0."""
    application_object_id: pulumi.Output[str]
    """Object ID of the app registration."""

    def __init__(self, name: str, args: EntraSingleSignOnArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_token("EntraSingleSignOn"), name, None, opts)
        deployer = get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        application = Application(
            f"{name}-app",
            display_name=args["display_name"],
            sign_in_audience="AzureADMyOrg",
            owners=[deployer.object_id],
            group_membership_claims=[GROUP_CLAIMS],
            web=ApplicationWebArgs(redirect_uris=[f"{args['argocd_url']}/auth/callback"]),
            public_client=ApplicationPublicClientArgs(redirect_uris=[CLI_REDIRECT_URI]),
            optional_claims=ApplicationOptionalClaimsArgs(
                id_tokens=[ApplicationOptionalClaimsIdTokenArgs(name="groups", essential=True)],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        ServicePrincipal(
            f"{name}-service-principal",
            client_id=application.client_id,
            owners=[deployer.object_id],
            opts=pulumi.ResourceOptions(parent=self),
        )
        credential = ApplicationFederatedIdentityCredential(
            f"{name}-server",
            application_id=application.id,
            display_name="argocd-server",
            description="argocd-server signs users in with this app through workload identity (no client secret).",
            issuer=args["issuer_url"],
            subject=args["subject"],
            audiences=[TOKEN_EXCHANGE_AUDIENCE],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.client_id = once_created(application.client_id, [credential])
        self.tenant_id = deployer.tenant_id
        self.application_object_id = application.object_id
        self.register_outputs({
            "client_id": self.client_id,
            "tenant_id": self.tenant_id,
            "application_object_id": self.application_object_id,
        })
