"""What Argo CD is told about Entra single sign-on, shared by both ways of installing it: oidc.config with workload
identity and no client secret, and the RBAC policy that maps Entra groups to Argo CD roles."""

from typing import TypedDict

import pulumi
import yaml

# The repo-server asks Entra for a token for this resource instead of ARM's; ACR refuses an ARM token with 401
# (util/helm/creds.go defaults to https://management.core.windows.net; docs/facts.md#acr-helm-charts).
ACR_TOKEN_RESOURCE_ENV = "AZURE_ARM_TOKEN_RESOURCE"
ACR_TOKEN_RESOURCE = "https://containerregistry.azure.net"


class SingleSignOnArgs(TypedDict):
    """Sign-in through an Entra app registration that argocd-server uses with workload identity."""

    client_id: pulumi.Input[str]
    """Client ID of the app registration, from EntraSingleSignOn (known once its federated credential exists)."""
    tenant_id: pulumi.Input[str]
    """Entra tenant of the app registration."""
    url: str
    """Argo CD's external address (argocd-cm url)."""
    group_roles: dict[str, str]
    """Entra group object ID -> Argo CD role name (policy.csv `g, <group>, role:<role>`)."""
    disable_local_admin: bool
    """Turn the local admin account off (admin.enabled "false")."""


def url_address(url: str) -> str:
    """host[:port] of Argo CD's external URL: its global.domain, and what `argocd login` connects to."""
    return url.removeprefix("https://").split("/", 1)[0]


def url_root_path(url: str) -> str:
    """The path of Argo CD's external URL ("" at the root): argocd-server's server.rootpath and the CLI's
    --grpc-web-root-path (Argo CD operator manual, Ingress: serving under a path)."""
    return url.removeprefix("https://")[len(url_address(url)):]


def oidc_config(client_id: pulumi.Input[str], tenant_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """argocd-cm oidc.config: Entra as the issuer, the app's client ID, azure.useWorkloadIdentity and no clientSecret
    (docs/facts.md#entra-sso)."""
    return pulumi.Output.all(client_id, tenant_id).apply(lambda ids: yaml.safe_dump({
        "name": "Microsoft Entra ID",
        "issuer": f"https://login.microsoftonline.com/{ids[1]}/v2.0",
        "clientID": str(ids[0]),
        "azure": {"useWorkloadIdentity": True},
        "requestedIDTokenClaims": {"groups": {"essential": True}},
        "requestedScopes": ["openid", "profile", "email"],
    }, sort_keys=False))


def rbac_policy(group_roles: dict[str, str]) -> str:
    """argocd-rbac-cm policy.csv: each Entra group (by object ID, as the groups claim carries it) gets its role."""
    return "".join(f"g, {group}, role:{role}\n" for group, role in group_roles.items())
