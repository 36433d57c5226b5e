"""Link 2: a federated credential trusts the service account each Argo CD component really runs as.

The service account is read from the live Deployment, not from configuration: a chart default, a release
name or the AKS extension can make it differ from what the stack was told.
"""

from __future__ import annotations

from typing import Any

from tools.doctor.context import Context, Workload
from tools.doctor.kube import TOKEN_EXCHANGE_AUDIENCE
from tools.doctor.report import Check, broken, ok

LINK = 2
# argo-helm (and the AKS extension, built on it) label each component's objects with its role.
COMPONENT_LABEL = "app.kubernetes.io/component"


def check(context: Context) -> list[Check]:
    outputs = context.outputs
    wanted = [("repo-server", outputs.repo_server_service_account, "repoServerServiceAccount")]
    if outputs.commit_server_service_account or outputs.write_repositories:
        wanted.append(("commit-server", outputs.commit_server_service_account, "commitServerServiceAccount"))
    found: list[Check] = []
    for role, configured, key in wanted:
        workload = _live_workload(context, role, configured, key)
        if isinstance(workload, Check):
            found.append(workload)
            continue
        context.workloads.append(workload)
        if not isinstance(context.credentials, str):
            found.extend(_trusted(context, workload))
    return found


def _live_workload(context: Context, role: str, configured: str | None, key: str) -> Workload | Check:
    namespace = context.namespace
    deployments = context.kube.deployments(namespace, f"{COMPONENT_LABEL}={role}")
    if not deployments:
        return broken(
            LINK, f"no {role} Deployment in namespace {namespace}",
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
        image=str(main.get("image") or ""),
        version_label=str(((deployment.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/version") or ""),
    )


def _trusted(context: Context, workload: Workload) -> list[Check]:
    assert not isinstance(context.credentials, str)
    outputs = context.outputs
    issuer = context.issuer
    same_subject = [credential for credential in context.credentials if credential.get("subject") == workload.subject]
    trusting = [credential for credential in same_subject if credential.get("issuer") == issuer]
    if not trusting:
        if same_subject:
            cause = f"a credential names this subject but trusts issuer {same_subject[0].get('issuer')} (link 1)"
            fix = outputs.pulumi("up")
        elif workload.configured_service_account and workload.configured_service_account != workload.service_account:
            cause = (
                f"the stack was configured with {workload.configured_service_account}, the Deployment runs as "
                f"{workload.service_account}"
            )
            fix = outputs.config_set(workload.config_key, workload.service_account)
        else:
            subjects = sorted({str(credential.get("subject")) for credential in context.credentials}) or ["none"]
            cause = f"the credentials trust {', '.join(subjects)}"
            fix = outputs.config_set(workload.config_key, workload.service_account)
        return [broken(
            LINK, f"{workload.role} runs as {workload.namespace}/{workload.service_account}, "
            f"but no federated credential trusts {workload.subject}",
            f"Entra would answer AADSTS70021; {cause}", fix,
        )]
    credential = trusting[0]
    name = credential.get("name")
    found = [ok(LINK, f"{workload.role} runs as {workload.namespace}/{workload.service_account}; credential {name} trusts it")]
    audiences = credential.get("audiences") or []
    if audiences == [TOKEN_EXCHANGE_AUDIENCE]:
        found.append(ok(LINK, f"credential {name}: audience {TOKEN_EXCHANGE_AUDIENCE}"))
    else:
        found.append(broken(
            LINK, f"credential {name}: audience {audiences} instead of [{TOKEN_EXCHANGE_AUDIENCE!r}]",
            f"the webhook's token carries the audience {TOKEN_EXCHANGE_AUDIENCE}, and Entra matches it exactly",
            f"az identity federated-credential update --name {name} --identity-name {outputs.identity_name} "
            f"--resource-group {outputs.identity_resource_group} --audiences {TOKEN_EXCHANGE_AUDIENCE}",
        ))
    return found
