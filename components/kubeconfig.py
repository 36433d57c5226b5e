"""Builds the Kubernetes provider's kubeconfig without any long-lived credential.

AKS returns a user kubeconfig whose exec block runs kubelogin in interactive device-code mode. We keep only
its server address and CA certificate and replace the exec block with one that runs kubelogin non-interactively
(`--login azurecli` by default), so the kubeconfig in Pulumi state holds no token at all: each Kubernetes call
gets a fresh Entra token from the machine running `pulumi up`.
"""

import base64
from typing import NamedTuple

import yaml

from components.vocabulary import KubeloginMode

# The Entra application every AKS cluster with managed Entra integration accepts tokens for
# (Azure/kubelogin docs/book/src/concepts/aks.md).
AKS_ENTRA_SERVER_APP_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"


class ClusterEndpoint(NamedTuple):
    """What the provider needs from AKS's kubeconfig: the cluster's name there, its API server and CA certificate."""

    name: str
    server: str
    certificate_authority_data: str
    """Base64, as kubeconfigs carry it."""


def cluster_endpoint(user_kubeconfig_b64: str) -> ClusterEndpoint:
    """The parts of AKS's user kubeconfig worth keeping: the rest is its interactive exec block."""
    cluster = yaml.safe_load(base64.b64decode(user_kubeconfig_b64))["clusters"][0]
    return ClusterEndpoint(cluster["name"], cluster["cluster"]["server"], cluster["cluster"]["certificate-authority-data"])


def exec_kubeconfig(endpoint: ClusterEndpoint, login_mode: KubeloginMode) -> str:
    """Return a kubeconfig (YAML text) for the cluster at `endpoint`, authenticated by kubelogin."""
    name, server, certificate_authority = endpoint
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server, "certificate-authority-data": certificate_authority}}],
        "users": [{"name": "kubelogin", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "kubelogin",
            "args": ["get-token", "--login", str(login_mode), "--server-id", AKS_ENTRA_SERVER_APP_ID],
            "interactiveMode": "Never",
            "provideClusterInfo": False,
        }}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": "kubelogin"}}],
        "current-context": name,
    }
    return yaml.safe_dump(kubeconfig, sort_keys=True)
