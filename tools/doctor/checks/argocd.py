"""Link 6: Argo CD's own view: a version with the workload-identity fixes, credential-free repository
Secrets that say useAzureWorkloadIdentity, and the bootstrap Application's status."""

from __future__ import annotations

import base64
import re
from typing import Any

from tools.doctor.context import Context
from tools.doctor.kube import KubeError
from tools.doctor.report import Check, broken, ok, unknown

LINK = 6
SECRET_TYPE_LABEL = "argocd.argoproj.io/secret-type"
# The releases with all three Azure DevOps workload-identity fixes (argo-cd#23100, #23348, #23478): v3.0.13+
# on the 3.0 line, v3.1.1+ on 3.1, and every release from v3.2.0 (docs/facts.md#argo-cd-versions-and-bugs).
SAFE_FLOORS = {(3, 0): (3, 0, 13), (3, 1): (3, 1, 1)}
FIRST_SAFE_MINOR = (3, 2)
# Credentials Argo CD uses before workload identity, which is then silently ignored
# (docs/facts.md#argo-cd-repository-secrets); and fields that are not used first but have no place here either.
WINNING_CREDENTIALS = ("password", "bearerToken", "sshPrivateKey", "githubAppPrivateKey", "gcpServiceAccountKey")
CREDENTIAL_FIELDS = ("username", *WINNING_CREDENTIALS, "tlsClientCertData", "tlsClientCertKey")
READ_TYPES = ("repository", "repo-creds")
WRITE_TYPES = ("repository-write", "repo-write-creds")
_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def check(context: Context) -> list[Check]:
    found = [_version(context)]
    try:
        secrets = context.kube.secrets(context.namespace, SECRET_TYPE_LABEL)
    except KubeError as error:
        if error.status != 403:
            raise
        found.append(unknown(
            LINK, "argocd-secrets-unreadable", "cannot read the repository Secrets", f"Kubernetes answered 403: {error.reason}",
            f"kubectl auth can-i list secrets --namespace {context.namespace} must say yes (docs/doctor.md, Permissions)",
        ))
        secrets = None
    if secrets is not None:
        found.extend(_secret_for(context, url, secrets, READ_TYPES) for url in context.outputs.read_repositories)
        found.extend(_secret_for(context, url, secrets, WRITE_TYPES) for url in context.outputs.write_repositories)
    if context.outputs.bootstrap_application:
        found.append(_bootstrap(context, context.outputs.bootstrap_application))
    return found


def is_safe_version(version: tuple[int, int, int]) -> bool:
    floor = SAFE_FLOORS.get(version[:2])
    return version >= floor if floor else version[:2] >= FIRST_SAFE_MINOR


def _version(context: Context) -> Check:
    repo_server = next((workload for workload in context.workloads if workload.role == "repo-server"), None)
    if repo_server is None:
        return unknown(LINK, "argocd-version-unknown", "Argo CD version unknown", "no repo-server Deployment (link 2)")
    image = repo_server.image
    reference = image.split("@", 1)[0].rsplit("/", 1)[-1]  # registry/path/name:tag@sha256:digest
    tag = reference.rsplit(":", 1)[-1] if ":" in reference else ""
    match = _VERSION.fullmatch(tag) or _VERSION.fullmatch(repo_server.version_label)
    if not match:
        return unknown(
            LINK, "argocd-version-unknown",
            "Argo CD version unknown", f"neither the image {image!r} nor the version label names a release",
        )
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3)))
    shown = "v" + ".".join(map(str, version))
    if is_safe_version(version):
        return ok(LINK, "argocd-version-ok", f"Argo CD {shown} (workload identity for Azure DevOps fixed from v3.1.1, v3.0.13)")
    fix = (
        context.outputs.config_set("argocdChartVersion", "10.3.3") if context.outputs.install_method == "helm"
        else context.outputs.config_set("extensionVersion", "<a version shipping Argo CD v3.1.1 or newer>")
    )
    return broken(
        LINK, "argocd-version-too-old", f"Argo CD {shown} is older than the workload-identity floor v3.1.1",
        "its Azure DevOps workload identity is broken: tokens cached past expiry (argo-cd#23100) and fetches without "
        "the bearer header (argo-cd#23478)", fix,
    )


def _field(secret: dict[str, Any], name: str) -> str | None:
    raw = (secret.get("data") or {}).get(name)
    if raw is None:
        return None
    try:
        return base64.b64decode(raw).decode()
    except ValueError:
        return ""


def _normalise(url: str) -> str:
    # Argo CD compares repository URLs lower-cased and without a trailing .git (docs/facts.md#argo-cd-repository-secrets).
    lowered = url.lower().rstrip("/")
    return lowered[: -len(".git")] if lowered.endswith(".git") else lowered


def _secret_for(context: Context, url: str, secrets: list[dict[str, Any]], types: tuple[str, str]) -> Check:
    exact_type, template_type = types
    wanted = _normalise(url)
    exact = [s for s in secrets if _type(s) == exact_type and _normalise(_field(s, "url") or "") == wanted]
    templates = sorted(
        (s for s in secrets if _type(s) == template_type and url.lower().startswith((_field(s, "url") or "\0").lower())),
        key=lambda s: len(_field(s, "url") or ""), reverse=True,
    )
    # The repository's own Secret, and the longest-prefix template Argo CD would fill missing credentials from.
    matching = exact[:1] + templates[:1]
    kind = "push" if exact_type == "repository-write" else "read"
    if not matching:
        return broken(
            LINK, "repository-secret-missing", f"no {exact_type} or {template_type} Secret covers {url}",
            f"Argo CD has no registration to {kind} this repository with", context.outputs.pulumi("up"),
        )
    for secret in matching:
        name = secret["metadata"]["name"]
        present = [field for field in CREDENTIAL_FIELDS if _field(secret, field)]
        if present:
            winning = [field for field in present if field in WINNING_CREDENTIALS]
            return broken(
                LINK, "repository-secret-holds-credential", f"Secret {name} ({_type(secret)}) for {url} holds {', '.join(present)}",
                f"{', '.join(winning)} wins over useAzureWorkloadIdentity, which is then silently ignored" if winning
                else "a leftover of a credential setup: this program registers repositories with workload identity only",
                f"kubectl --namespace {context.namespace} patch secret {name} --type=json -p '["
                + ",".join(f'{{"op":"remove","path":"/data/{field}"}}' for field in present) + "]'",
            )
    primary = matching[0]
    name = primary["metadata"]["name"]
    if _field(primary, "useAzureWorkloadIdentity") != "true":
        return broken(
            LINK, "repository-secret-not-workload-identity", f"Secret {name} for {url} lacks useAzureWorkloadIdentity: \"true\"",
            "without it Argo CD fetches anonymously and Azure DevOps answers 401",
            f"kubectl --namespace {context.namespace} patch secret {name} -p "
            "'{\"stringData\":{\"useAzureWorkloadIdentity\":\"true\"}}'",
        )
    return ok(LINK, "repository-secret-ok", f"Secret {name} ({_type(primary)}) covers {url}: workload identity, no other credential")


def _type(secret: dict[str, Any]) -> str:
    return str(((secret.get("metadata") or {}).get("labels") or {}).get(SECRET_TYPE_LABEL))


def _bootstrap(context: Context, name: str) -> Check:
    try:
        application = context.kube.application(context.namespace, name)
    except KubeError as error:
        if error.status != 404:
            raise
        return broken(
            LINK, "bootstrap-application-missing",
            f"Application {name} not found in {context.namespace}", "the bootstrap Application was never created or was deleted",
            context.outputs.pulumi("up"),
        )
    status = application.get("status") or {}
    sync = (status.get("sync") or {}).get("status", "Unknown")
    health = (status.get("health") or {}).get("status", "Unknown")
    errors = [c for c in status.get("conditions") or [] if str(c.get("type", "")).endswith("Error")]
    if sync == "Synced" and health == "Healthy" and not errors:
        return ok(LINK, "bootstrap-application-synced", f"Application {name}: Synced and Healthy")
    first = errors[0] if errors else {}
    message = str(first.get("message") or "").strip().splitlines()[0][:300] if first else ""
    return broken(
        LINK, "bootstrap-application-not-synced", f"Application {name}: {sync}, {health}",
        f"{first.get('type')}: {message}" if first else "not synced yet: Argo CD is still trying, or the sync failed",
        "repair the first broken link above, then refresh: "
        f"kubectl --namespace {context.namespace} annotate application {name} argocd.argoproj.io/refresh=hard --overwrite",
    )
