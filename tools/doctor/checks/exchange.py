"""Link 4: the token exchange itself, as the repo-server does it, without touching Argo CD.

A TokenRequest gives a short-lived token for the repo-server's service account with the audience Entra
accepts (what the webhook's projected volume holds); azure-identity's ClientAssertionCredential presents it
to Entra with the identity's client ID and asks for an Azure DevOps token. Both tokens stay in memory.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError
from azure.core.pipeline.transport import RequestsTransport
from azure.identity import ClientAssertionCredential

from tools.doctor.azure_cli import AZURE_DEVOPS_RESOURCE
from tools.doctor.context import Context
from tools.doctor.kube import KubeError
from tools.doctor.report import Check, broken, ok, skipped, unknown

LINK = 4
AZURE_DEVOPS_SCOPE = f"{AZURE_DEVOPS_RESOURCE}/.default"


def check(context: Context) -> list[Check]:
    repo_server = next((workload for workload in context.workloads if workload.role == "repo-server"), None)
    if repo_server is None:
        return [skipped(
            LINK, "exchange-not-tried",
            "token exchange not tried", "no repo-server service account to ask a token for (link 2)",
        )]
    try:
        assertion = context.kube.service_account_token(repo_server.namespace, repo_server.service_account)
    except KubeError as error:
        if error.status == 403:
            return [unknown(
                LINK, "exchange-not-requested", f"cannot request a token for {repo_server.subject}",
                f"your account may not create service-account tokens in {repo_server.namespace}: {error.reason}",
                f"kubectl auth can-i create serviceaccounts/token --namespace {repo_server.namespace} "
                "must say yes (docs/doctor.md, Permissions)",
            )]
        if error.status == 404:
            return [skipped(
                LINK, "exchange-not-tried",
                "token exchange not tried", f"service account {repo_server.subject} does not exist (link 3)",
            )]
        raise
    context.redact.add(assertion)
    claims = _claims(assertion)
    outputs = context.outputs
    credential = ClientAssertionCredential(
        outputs.tenant_id, outputs.identity_client_id, lambda: assertion,
        transport=RequestsTransport(session=context.http, session_owner=False),
    )
    try:
        token = credential.get_token(AZURE_DEVOPS_SCOPE).token
    except ClientAuthenticationError as error:
        return [_explain(context, claims, str(error.message or error))]
    except ServiceRequestError as error:
        return [unknown(LINK, "entra-unreachable", "cannot reach Entra ID", f"{type(error).__name__}: the token endpoint did not answer")]
    finally:
        credential.close()
    context.redact.add(token)
    context.devops_token = token
    return [ok(
        LINK, "exchange-ok", f"Entra exchanged the token of {claims.get('sub')} for an Azure DevOps token "
        f"(client ID {outputs.identity_client_id})",
    )]


def _claims(jwt: str) -> dict[str, Any]:
    """The token's payload, read without verification: only to name its issuer and subject in a diagnosis."""
    try:
        payload = jwt.split(".")[1]
        decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _explain(context: Context, claims: dict[str, Any], message: str) -> Check:
    outputs = context.outputs
    match = re.search(r"AADSTS(\d+)", message)
    code = match.group(1) if match else ""
    presented = f"the token names issuer {claims.get('iss')} and subject {claims.get('sub')}"
    earlier = sorted(context.broken_links & {1, 2})
    # When link 1 or 2 already names the mismatch, its fix is the one to apply; else pulumi up rewrites the credentials.
    match_fix = f"the fix under link {earlier[0]} above" if earlier else outputs.pulumi("up")
    summary = f"Entra refused the exchange: AADSTS{code}" if code else "Entra refused the exchange"
    causes = {
        # Entra error codes: learn.microsoft.com/entra/identity-platform/reference-error-codes
        "70021": (f"no federated credential matches: {presented}; compare them with links 1 and 2", match_fix),
        "700211": (f"no federated credential trusts the issuer: {presented}", match_fix),
        "700212": ("no federated credential has the audience api://AzureADTokenExchange", match_fix),
        "700213": (f"no federated credential trusts the subject: {presented}", match_fix),
        "700016": (
            f"no application with client ID {outputs.identity_client_id} in tenant {outputs.tenant_id}: "
            "the identity was deleted or the stack's outputs are stale",
            f"{outputs.pulumi('refresh')} && {outputs.pulumi('up')}",
        ),
        "700024": (
            "the presented token is outside its valid time range: this machine's clock is off, or the token expired",
            "sync this machine's clock (e.g. timedatectl set-ntp true) and run the doctor again",
        ),
        "90002": (
            f"tenant {outputs.tenant_id} does not exist: the stack's tenantId output is wrong",
            f"az account show --query tenantId; then {outputs.pulumi('refresh')}",
        ),
    }
    entra_words = _first_line(message[match.start():] if match else message)
    cause, fix = causes.get(code, (entra_words, "see the AADSTS code at https://login.microsoftonline.com/error"))
    return broken(LINK, f"exchange-refused-aadsts{code}" if code else "exchange-refused", summary, cause, fix)


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0][:300] if message.strip() else "no message"
