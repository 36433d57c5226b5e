"""Link 3: the service account names the identity, and the webhook injected it into pods started after that.

The webhook acts only when a pod is created, so a pod older than the service account's client-ID annotation
never got the identity. When the annotation was written is not stored as such; the heuristic here takes the
latest `managedFields` entry that owns the annotation (the time its manager last wrote any of its fields,
so never earlier than the annotation itself), else the service account's creation time. A later unrelated
write by the same manager can make a pod look older than the annotation: the fix (a restart) is harmless.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tools.doctor.context import WI_CLIENT_ID_ANNOTATION, WI_USE_LABEL, Context, Workload
from tools.doctor.kube import KubeError
from tools.doctor.report import Check, broken, ok

LINK = 3
# What the webhook adds to every container of a labelled pod (azure-workload-identity docs, "Mutating admission
# webhook"; docs/facts.md#entra-workload-identity for the label and annotation).
INJECTED_VARIABLES = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_AUTHORITY_HOST")


def check(context: Context) -> list[Check]:
    found: list[Check] = []
    for workload in context.workloads:
        try:
            account = context.kube.service_account(workload.namespace, workload.service_account)
        except KubeError as error:
            if error.status != 404:
                raise
            found.append(broken(
                LINK, "service-account-missing", f"service account {workload.namespace}/{workload.service_account} does not exist",
                f"Deployment {workload.deployment} runs as it, so its pods cannot be created",
                context.outputs.pulumi("up") if workload.config_key else
                f"kubectl --namespace {workload.namespace} create serviceaccount {workload.service_account}",
            ))
            continue
        pods = [pod for pod in context.kube.pods(workload.namespace, workload.pod_selector) if _is_live(pod)]
        found.append(_annotation(context, workload, account))
        if not pods:
            found.append(broken(
                LINK, "pod-not-running", f"{workload.role}: no running pod",
                f"Deployment {workload.deployment} has no pod that is not terminating",
                f"kubectl --namespace {workload.namespace} describe deployment {workload.deployment}",
            ))
            continue
        found.append(_labelled(workload, pods))
        found.append(_started_after_annotation(workload, account, pods))
        found.append(_injected(workload, pods))
    return found


def _restart(workload: Workload) -> str:
    return f"kubectl --namespace {workload.namespace} rollout restart deployment {workload.deployment}"


def _annotation(context: Context, workload: Workload, account: dict[str, Any]) -> Check:
    client_id = workload.client_id
    annotated = ((account.get("metadata") or {}).get("annotations") or {}).get(WI_CLIENT_ID_ANNOTATION)
    name = f"service account {workload.namespace}/{workload.service_account}"
    if annotated == client_id:
        return ok(LINK, "client-id-annotated", f"{name} carries {WI_CLIENT_ID_ANNOTATION}={client_id}")
    cause = (
        f"it names client ID {annotated}, {workload.identity_name} is {client_id}" if annotated
        else "the annotation is missing, so the webhook does not know which identity to inject"
    )
    return broken(
        LINK, "client-id-not-annotated", f"{name} does not carry the identity's client ID", cause,
        f"kubectl --namespace {workload.namespace} annotate serviceaccount {workload.service_account} "
        f"{WI_CLIENT_ID_ANNOTATION}={client_id} --overwrite && {_restart(workload)}",
    )


def _labelled(workload: Workload, pods: list[dict[str, Any]]) -> Check:
    unlabelled = [_name(pod) for pod in pods if (pod["metadata"].get("labels") or {}).get(WI_USE_LABEL) != "true"]
    if not unlabelled:
        return ok(LINK, "pods-labelled", f"{workload.role}: {len(pods)} pod(s) labelled {WI_USE_LABEL}=true")
    patch = '{"spec":{"template":{"metadata":{"labels":{"' + WI_USE_LABEL + '":"true"}}}}}'
    return broken(
        LINK, "pods-not-labelled", f"{workload.role}: pod(s) {', '.join(unlabelled)} lack the label {WI_USE_LABEL}=true",
        "the webhook injects the identity only into pods with that label",
        f"kubectl --namespace {workload.namespace} patch deployment {workload.deployment} -p '{patch}'",
    )


def _started_after_annotation(workload: Workload, account: dict[str, Any], pods: list[dict[str, Any]]) -> Check:
    annotated_at = annotation_time(account)
    early = [pod for pod in pods if _earlier(_created(pod), annotated_at)]
    if not early:
        return ok(LINK, "pods-after-annotation", f"{workload.role}: pods started after the service account got its client ID")
    return broken(
        LINK, "pods-before-annotation", f"{workload.role}: pod(s) {', '.join(map(_name, early))} started before the annotation",
        f"started {early[0]['metadata'].get('creationTimestamp')}, the client ID was written about "
        f"{annotated_at.isoformat() if annotated_at else '?'}; the webhook acts only at pod creation",
        _restart(workload),
    )


def _injected(workload: Workload, pods: list[dict[str, Any]]) -> Check:
    client_id = workload.client_id
    for pod in pods:
        for container in (pod.get("spec") or {}).get("containers") or []:
            env = {item.get("name"): item.get("value") for item in container.get("env") or []}
            missing = [name for name in INJECTED_VARIABLES if name not in env]
            if missing:
                return broken(
                    LINK, "token-not-injected",
                    f"{workload.role}: container {container.get('name')} of pod {_name(pod)} lacks {', '.join(missing)}",
                    "the webhook did not inject the identity: the pod predates the label or annotation, "
                    "or the webhook is not running (workload identity off, link 1)",
                    _restart(workload),
                )
            if env.get("AZURE_CLIENT_ID") not in (None, client_id):
                return broken(
                    LINK, "pod-wrong-client-id", f"{workload.role}: pod {_name(pod)} runs as client ID {env.get('AZURE_CLIENT_ID')}",
                    f"it was injected with another identity than {workload.identity_name} {client_id} (created before a change)",
                    _restart(workload),
                )
    return ok(LINK, "token-injected", f"{workload.role}: the webhook injected {', '.join(INJECTED_VARIABLES)}")


def annotation_time(account: dict[str, Any]) -> datetime | None:
    metadata = account.get("metadata") or {}
    times = [
        _parse(entry.get("time"))
        for entry in metadata.get("managedFields") or []
        if f"f:{WI_CLIENT_ID_ANNOTATION}" in (((entry.get("fieldsV1") or {}).get("f:metadata") or {}).get("f:annotations") or {})
    ]
    known = [time for time in times if time]
    return max(known) if known else _parse(metadata.get("creationTimestamp"))


def _earlier(first: datetime | None, second: datetime | None) -> bool:
    return first is not None and second is not None and first < second


def _is_live(pod: dict[str, Any]) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and (pod.get("status") or {}).get("phase") in ("Running", "Pending")


def _created(pod: dict[str, Any]) -> datetime | None:
    return _parse(pod["metadata"].get("creationTimestamp"))


def _name(pod: dict[str, Any]) -> str:
    return str(pod["metadata"].get("name"))


def _parse(stamp: object) -> datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
