"""scripts/doctor: parse the arguments, gather what the checks need, run the six links, print the verdict.

Exit status 0 when every link holds, 1 when one is broken, 2 when the doctor could not run (one line, no
traceback).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import requests

from tools.doctor.azure_cli import AzureCli, Runner, subprocess_runner
from tools.doctor.checks import argocd, cluster, credentials, devops, exchange, pods
from tools.doctor.context import Context
from tools.doctor.inputs import StackOutputs, read_outputs_file, read_stack_outputs
from tools.doctor.kube import Kube, KubeError, api_server_host, connect
from tools.doctor.report import (
    EXIT_COULD_NOT_RUN,
    CannotRunError,
    Check,
    Redactor,
    Status,
    exit_code,
    render_cannot_run_json,
    render_json,
    render_text,
    unknown,
)

ROOT = Path(__file__).resolve().parents[2]
LINKS: tuple[tuple[int, Callable[[Context], list[Check]]], ...] = (
    (1, cluster.check), (2, credentials.check), (3, pods.check), (4, exchange.check), (5, devops.check), (6, argocd.check),
)


@dataclass
class Environment:
    """What the doctor talks to; tests replace each with a loopback fake."""

    az: Runner = subprocess_runner
    http: Callable[[], requests.Session] = requests.Session
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)


def parser() -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(
        prog="scripts/doctor",
        description="Walk the chain Argo CD uses to read private Azure DevOps repositories with Entra Workload ID, "
        "on a stack that pulumi up built, and name the broken link with its fix. Run after `az login`.",
        epilog="Exit status: 0 every link holds, 1 a link is broken, 2 the doctor could not run. See docs/doctor.md.",
    )
    parsed.add_argument("stack", nargs="?", help="Pulumi stack (default: the selected stack)")
    parsed.add_argument("--outputs", type=Path, metavar="FILE.json",
                        help="the stack's outputs (`pulumi stack output --json`), so no Pulumi CLI is needed")
    parsed.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parsed.add_argument("--context", help="kubeconfig context (default: the one named after the cluster, else the current one)")
    parsed.add_argument("--json", action="store_true", help="print the findings as JSON (for CI)")
    return parsed


def main(argv: Sequence[str] | None = None, environment: Environment | None = None) -> int:
    env = environment or Environment()
    args = parser().parse_args(argv)
    # Library warnings (azure-identity logs each failed token request) would repeat a finding without its fix.
    for name in ("azure", "kubernetes", "urllib3", "msal"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    redact = Redactor()
    try:
        checks = diagnose(args, env, redact)
    except CannotRunError as error:
        return _could_not_run(args, env, redact(str(error)))
    except KeyboardInterrupt:
        return _could_not_run(args, env, "interrupted")
    except Exception as error:  # never a traceback: the one line names what failed
        return _could_not_run(args, env, redact(f"unexpected {type(error).__name__}: {error}"))
    title = f"doctor: stack {args.stack or '(selected)'}"
    env.stdout.write(redact(render_json(args.stack, checks) if args.json else render_text(title, checks)) + "\n")
    return exit_code(checks)


def _could_not_run(args: argparse.Namespace, env: Environment, reason: str) -> int:
    if args.json:
        env.stdout.write(render_cannot_run_json(args.stack, reason) + "\n")
    env.stderr.write(f"doctor: could not run: {reason}\n")
    return EXIT_COULD_NOT_RUN


def diagnose(args: argparse.Namespace, env: Environment, redact: Redactor) -> list[Check]:
    azure = AzureCli(env.az)
    azure.ensure_logged_in()
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
            checks.append(unknown(link, "could not read the cluster", f"Kubernetes answered {error.status}: {error.reason}"))
        except requests.RequestException as error:
            checks.append(unknown(link, "could not reach Azure DevOps", type(error).__name__))
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
