"""The diagnosis proper: gather what the checks need, refuse a cluster that is not the stack's, run the six links."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import requests

from tools.doctor.azure_cli import AzureCli
from tools.doctor.checks import argocd, cluster, credentials, devops, exchange, pods
from tools.doctor.context import Context
from tools.doctor.environment import Environment
from tools.doctor.inputs import StackOutputs, read_outputs_file, read_stack_outputs
from tools.doctor.kube import Kube, KubeError, api_server_host, connect
from tools.doctor.report import CannotRunError, Check, Redactor, Status, unknown

ROOT = Path(__file__).resolve().parents[2]
LINKS: tuple[tuple[int, Callable[[Context], list[Check]]], ...] = (
    (1, cluster.check), (2, credentials.check), (3, pods.check), (4, exchange.check), (5, devops.check), (6, argocd.check),
)


def diagnose(args: argparse.Namespace, env: Environment, azure: AzureCli, redact: Redactor) -> list[Check]:
    """The findings of the six links; `azure` is the Azure CLI the caller found logged in."""
    outputs = read_outputs_file(args.outputs, args.stack) if args.outputs else read_stack_outputs(args.stack, ROOT)
    aks = azure.cluster(outputs.cluster_resource_group, outputs.cluster_name)
    client, context_name = connect(args.kubeconfig, args.context, outputs.cluster_name)
    _same_cluster(outputs, aks, api_server_host(client), context_name)
    http = env.http()
    try:
        context = Context(
            outputs=outputs, cluster=aks,
            credentials=azure.federated_credentials(outputs.identity_name, outputs.identity_resource_group),
            kube=Kube(client), http=http, azure=azure, redact=redact,
        )
        _can_read_namespace(context)
        return _run_links(context)
    finally:
        http.close()
        client.close()


def _run_links(context: Context) -> list[Check]:
    checks: list[Check] = []
    for link, check in LINKS:
        try:
            found = check(context)
            checks.extend(found)
            if any(finding.status is Status.BROKEN for finding in found):
                context.broken_links.add(link)
        except KubeError as error:
            checks.append(unknown(
                link, "cluster-unreadable",
                "could not read the cluster", f"Kubernetes answered {error.status}: {error.reason}",
            ))
        except requests.RequestException as error:
            checks.append(unknown(link, "devops-unreachable", "could not reach Azure DevOps", type(error).__name__))
    return checks


def _same_cluster(outputs: StackOutputs, aks: dict[str, object], host: str, context_name: str) -> None:
    """Refuse to diagnose another cluster than the stack's: a stale current context would mislead every link."""
    known = {str(aks.get(key)).lower() for key in ("fqdn", "privateFqdn", "azurePortalFqdn") if aks.get(key)}
    if host.lower() not in known:
        raise CannotRunError(
            f"kubeconfig context {context_name} points at {host}, not at cluster "
            f"{outputs.cluster_resource_group}/{outputs.cluster_name}: run `az aks get-credentials --resource-group "
            f"{outputs.cluster_resource_group} --name {outputs.cluster_name}` and `kubelogin convert-kubeconfig -l azurecli`"
        )


def _can_read_namespace(context: Context) -> None:
    try:
        context.kube.deployments(context.namespace, "app.kubernetes.io/part-of=argocd")
    except KubeError as error:
        if error.status == 0:
            raise CannotRunError(f"no cluster access: {error.reason}") from None
        if error.status == 401:
            raise CannotRunError("the cluster refused your credentials: run `kubelogin convert-kubeconfig -l azurecli`") from None
        if error.status == 403:
            raise CannotRunError(
                f"you may not read namespace {context.namespace}: you need at least Azure Kubernetes Service RBAC "
                "Reader on the cluster (docs/doctor.md, Permissions)"
            ) from None
        raise
