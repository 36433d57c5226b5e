"""Link 1: the cluster issues service-account tokens Entra can verify, as the issuer the credentials trust."""

from __future__ import annotations

from tools.doctor.context import Context
from tools.doctor.report import Check, broken, ok, unknown

LINK = 1


def check(context: Context) -> list[Check]:
    cluster = context.cluster
    outputs = context.outputs
    found: list[Check] = []
    issuer = context.issuer
    if issuer:
        found.append(ok(LINK, "oidc-issuer-on", f"OIDC issuer on: {issuer}"))
    else:
        found.append(broken(
            LINK, "oidc-issuer-off", "OIDC issuer off",
            "the cluster publishes no OIDC issuer, so Entra cannot verify its service-account tokens",
            context.aks_update("--enable-oidc-issuer"),
        ))
    workload_identity = ((cluster.get("securityProfile") or {}).get("workloadIdentity") or {}).get("enabled")
    if workload_identity:
        found.append(ok(LINK, "workload-identity-on", "workload identity on (the webhook that injects the token runs)"))
    else:
        found.append(broken(
            LINK, "workload-identity-off", "workload identity off",
            "without it no webhook injects the token file and client ID into Argo CD's pods",
            context.aks_update("--enable-workload-identity"),
        ))
    if not issuer:
        return found
    if outputs.oidc_issuer_url and outputs.oidc_issuer_url != issuer:
        found.append(broken(
            LINK, "issuer-output-stale", f"the stack's oidcIssuerUrl differs from the cluster's issuer {issuer}",
            f"the stack last saw {outputs.oidc_issuer_url}: the cluster was recreated or changed since the last pulumi up, "
            "so the federated credentials trust an issuer that no longer signs tokens",
            outputs.pulumi("up"),
        ))
    found.append(_credentials_trust(context, issuer))
    return found


def _credentials_trust(context: Context, issuer: str) -> Check:
    outputs = context.outputs
    if isinstance(context.credentials, str):
        return unknown(
            LINK, "credentials-unreadable", "cannot list the identity's federated credentials",
            f"az identity federated-credential list failed: {context.credentials}",
            f"you need Reader on the identity {outputs.identity_resource_group}/{outputs.identity_name}",
        )
    issuers = sorted({str(credential.get("issuer")) for credential in context.credentials})
    if issuer in issuers:
        return ok(LINK, "issuer-trusted", "the identity's federated credentials trust this issuer")
    near = [other for other in issuers if other.rstrip("/") == issuer.rstrip("/")]
    cause = (
        f"a credential trusts {near[0]}, which differs only in the trailing slash: Entra compares issuers exactly"
        if near else
        f"the credentials trust {', '.join(issuers) or 'no issuer at all (there are none)'}"
    )
    return broken(LINK, "issuer-not-trusted", f"no federated credential trusts the issuer {issuer}", cause, outputs.pulumi("up"))
