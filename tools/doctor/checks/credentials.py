"""Link 2: a federated credential trusts the service account each Argo CD component really runs as.

The service account is read from the live Deployment, not from configuration: a chart default, a release
name or the AKS extension can make it differ from what the stack was told. When Argo CD's Entra SSO uses
workload identity (argocd-cm `oidc.config` with `azure.useWorkloadIdentity: true`), argocd-server runs as the
SSO app registration, whose federated credentials are checked the same way (docs/facts.md#entra-sso).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from tools.doctor.context import Context, Workload
from tools.doctor.kube import TOKEN_EXCHANGE_AUDIENCE, KubeError
from tools.doctor.report import Check, broken, ok, unknown

LINK = 2
# argo-helm (and the AKS extension, built on it) label each component's objects with its role.
COMPONENT_LABEL = "app.kubernetes.io/component"


def check(context: Context) -> list[Check]:
    outputs = context.outputs
    wanted = [("repo-server", outputs.repo_server_service_account, "repoServerServiceAccount")]
    if outputs.commit_server_service_account or outputs.write_repositories:
        wanted.append(("commit-server", outputs.commit_server_service_account, "commitServerServiceAccount"))
    identity = (outputs.identity_client_id, context.credentials, "the stack's identity")
    roles: list[tuple[str, str | None, str | None, tuple[str, list[dict[str, Any]] | str, str]]] = [
        (role, configured, key, identity) for role, configured, key in wanted
    ]
    sso_client_id = _sso_client_id(context)
    if sso_client_id:
        sso = (sso_client_id, context.azure.app_federated_credentials(sso_client_id), "the SSO app registration")
        roles.append(("server", None, None, sso))
    found: list[Check] = []
    for role, configured, key, (client_id, credentials, identity_name) in roles:
        workload = _live_workload(context, role, configured, key, client_id, credentials, identity_name)
        if isinstance(workload, Check):
            found.append(workload)
            continue
        context.workloads.append(workload)
        if isinstance(workload.credentials, str):
            if workload.role == "server":  # the identity's own credentials were reported unreadable by link 1
                found.append(unknown(
                    LINK, "credentials-unreadable", f"cannot list the federated credentials of {identity_name}",
                    f"az ad app federated-credential list failed: {workload.credentials}",
                    "you need to read the app registration in Entra (its owner, or Application.Read.All)",
                ))
            continue
        found.extend(_trusted(context, workload))
    return found


def _sso_client_id(context: Context) -> str | None:
    """The SSO app registration's client ID when argocd-cm's oidc.config uses workload identity, else None."""
    try:
        config_map = context.kube.config_map(context.namespace, "argocd-cm")
    except KubeError as error:
        if error.status == 404:
            return None
        raise
    text = (config_map.get("data") or {}).get("oidc.config") or ""
    try:
        oidc = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        return None
    if not isinstance(oidc, dict) or not (oidc.get("azure") or {}).get("useWorkloadIdentity"):
        return None
    return str(oidc.get("clientID") or "") or None


def _live_workload(
    context: Context, role: str, configured: str | None, key: str | None,
    client_id: str, credentials: list[dict[str, Any]] | str, identity_name: str,
) -> Workload | Check:
    namespace = context.namespace
    deployments = context.kube.deployments(namespace, f"{COMPONENT_LABEL}={role}")
    if not deployments:
        return broken(
            LINK, "deployment-missing", f"no {role} Deployment in namespace {namespace}",
            f"nothing labelled {COMPONENT_LABEL}={role} runs there: Argo CD is not installed in argocdNamespace "
            f"({namespace})" + (", or the Source Hydrator is off" if role == "commit-server" else ""),
            f"kubectl get deployments --all-namespaces -l {COMPONENT_LABEL}={role}; then {context.outputs.pulumi('up')}",
        )
    deployment: dict[str, Any] = deployments[0]
    spec = deployment.get("spec") or {}
    pod_spec = (spec.get("template") or {}).get("spec") or {}
    match_labels = (spec.get("selector") or {}).get("matchLabels") or {}
    containers = pod_spec.get("containers") or [{}]
    main = next((container for container in containers if container.get("name") == role), containers[0])
    return Workload(
        role=role,
        deployment=str(deployment["metadata"]["name"]),
        namespace=namespace,
        # An empty serviceAccountName means the namespace's "default" account.
        service_account=str(pod_spec.get("serviceAccountName") or "default"),
        pod_selector=",".join(f"{label}={value}" for label, value in sorted(match_labels.items())),
        configured_service_account=configured,
        config_key=key,
        client_id=client_id,
        credentials=credentials,
        identity_name=identity_name,
        image=str(main.get("image") or ""),
        version_label=str(((deployment.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/version") or ""),
    )


def _trusted(context: Context, workload: Workload) -> list[Check]:
    assert not isinstance(workload.credentials, str)
    outputs = context.outputs
    issuer = context.issuer
    same_subject = [credential for credential in workload.credentials if credential.get("subject") == workload.subject]
    trusting = [credential for credential in same_subject if credential.get("issuer") == issuer]
    if not trusting:
        if same_subject:
            cause = f"a credential names this subject but trusts issuer {same_subject[0].get('issuer')} (link 1)"
            fix = outputs.pulumi("up") if workload.config_key else _sso_credential_command(context, workload, "create")
        elif workload.config_key is None:
            subjects = sorted({str(credential.get("subject")) for credential in workload.credentials}) or ["none"]
            cause = f"the app registration's credentials trust {', '.join(subjects)}"
            fix = _sso_credential_command(context, workload, "create")
        elif workload.configured_service_account and workload.configured_service_account != workload.service_account:
            cause = (
                f"the stack was configured with {workload.configured_service_account}, the Deployment runs as "
                f"{workload.service_account}"
            )
            fix = outputs.config_set(workload.config_key, workload.service_account)
        else:
            subjects = sorted({str(credential.get("subject")) for credential in workload.credentials}) or ["none"]
            cause = f"the credentials trust {', '.join(subjects)}"
            fix = outputs.config_set(workload.config_key, workload.service_account)
        return [broken(
            LINK, "subject-not-trusted", f"{workload.role} runs as {workload.namespace}/{workload.service_account}, "
            f"but no federated credential trusts {workload.subject}",
            f"Entra would answer AADSTS70021; {cause}", fix,
        )]
    credential = trusting[0]
    name = credential.get("name")
    found = [ok(
        LINK, "subject-trusted",
        f"{workload.role} runs as {workload.namespace}/{workload.service_account}; credential {name} trusts it",
    )]
    audiences = credential.get("audiences") or []
    if audiences == [TOKEN_EXCHANGE_AUDIENCE]:
        found.append(ok(LINK, "audience-ok", f"credential {name}: audience {TOKEN_EXCHANGE_AUDIENCE}"))
    else:
        found.append(broken(
            LINK, "audience-wrong", f"credential {name}: audience {audiences} instead of [{TOKEN_EXCHANGE_AUDIENCE!r}]",
            f"the webhook's token carries the audience {TOKEN_EXCHANGE_AUDIENCE}, and Entra matches it exactly",
            f"az identity federated-credential update --name {name} --identity-name {outputs.identity_name} "
            f"--resource-group {outputs.identity_resource_group} --audiences {TOKEN_EXCHANGE_AUDIENCE}"
            if workload.config_key else _sso_credential_command(context, workload, "update", str(name)),
        ))
    return found


def _sso_credential_command(context: Context, workload: Workload, verb: str, name: str = "argocd-server") -> str:
    """The az command that makes the SSO app registration trust argocd-server (not managed by this stack)."""
    parameters = json.dumps({
        "name": name, "issuer": context.issuer, "subject": workload.subject, "audiences": [TOKEN_EXCHANGE_AUDIENCE],
    }, separators=(",", ":"))
    target = f" --federated-credential-id {name}" if verb == "update" else ""
    return f"az ad app federated-credential {verb} --id {workload.client_id}{target} --parameters '{parameters}'"
