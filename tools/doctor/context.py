"""What every check reads: the stack's outputs, the Azure facts, the cluster and the HTTP session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests

from tools.doctor.azure_cli import AzureCli
from tools.doctor.inputs import StackOutputs
from tools.doctor.kube import Kube
from tools.doctor.report import Redactor

# Pod label and service-account annotation the Entra workload identity webhook acts on; the same names as
# components/workload_identity.py writes (literals here, so the doctor does not import the azure-native SDK).
WI_USE_LABEL = "azure.workload.identity/use"
WI_CLIENT_ID_ANNOTATION = "azure.workload.identity/client-id"


@dataclass(frozen=True)
class Workload:
    """An Argo CD component that must run as the identity, as the cluster really runs it."""

    role: str
    """repo-server, commit-server, or server (Entra SSO with workload identity)."""
    deployment: str
    namespace: str
    service_account: str
    """The service account the Deployment's pods run as (spec.template.spec.serviceAccountName)."""
    pod_selector: str
    """Label selector of the Deployment's pods."""
    configured_service_account: str | None
    """The service account the stack was configured with (stack output), when known."""
    config_key: str | None
    """The config key that names this service account; None when the stack does not manage it (SSO)."""
    client_id: str
    """Client ID the service account must name: the stack's identity, or the SSO app registration's."""
    credentials: list[dict[str, Any]] | str
    """Federated credentials that may trust this account (of the identity, or of the SSO app), or why unreadable."""
    identity_name: str = "the stack's identity"
    """How fixes and causes name the identity this workload runs as."""
    image: str = ""
    """Image of the component's main container (its tag names the Argo CD release)."""
    version_label: str = ""
    """The Deployment's app.kubernetes.io/version label, where the chart sets it."""

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


@dataclass
class Context:
    outputs: StackOutputs
    cluster: dict[str, Any]
    """`az aks show` of the stack's cluster."""
    credentials: list[dict[str, Any]] | str
    """The identity's federated credentials, or why they could not be read."""
    kube: Kube
    http: requests.Session
    """Session for Entra and Azure DevOps (tests route it to loopback fakes)."""
    azure: AzureCli
    redact: Redactor
    broken_links: set[int] = field(default_factory=set)
    """Links already found broken, so a later symptom can point at its cause instead of repeating a fix."""
    workloads: list[Workload] = field(default_factory=list)
    """Filled by the federated-credential link: what later links check."""
    devops_token: str | None = None
    """The identity's Azure DevOps token from the exchange link: in memory only, never printed."""
    member_id: str = ""
    """The identity's ID in Azure DevOps (connectionData's authenticatedUser.id)."""
    repository_ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    """(project ID, repository ID) of each repository the identity could read, by URL."""

    @property
    def namespace(self) -> str:
        return self.outputs.argocd_namespace

    @property
    def issuer(self) -> str | None:
        profile = self.cluster.get("oidcIssuerProfile") or {}
        return profile.get("issuerUrl") if profile.get("enabled") else None

    def aks_update(self, flag: str) -> str:
        return (
            f"az aks update --resource-group {self.outputs.cluster_resource_group} --name {self.outputs.cluster_name} {flag}"
        )
