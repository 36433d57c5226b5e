"""Read-only access to the cluster (plus one TokenRequest), as plain JSON dicts.

Every object is read with the Kubernetes Python client and decoded as the API server sent it, so the checks
see the same field names as `kubectl get -o json`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlparse

import kubernetes.client as k8s
import kubernetes.config as k8s_config
import urllib3

from tools.doctor.report import CannotRunError

TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
# The shortest lifetime the API server accepts for a requested token (TokenRequestSpec.expirationSeconds).
SHORTEST_TOKEN_SECONDS = 600


class KubeError(Exception):
    """One Kubernetes call failed; status is the HTTP status (0 when the server was not reached)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"{status} {reason}")
        self.status = status
        self.reason = reason


def connect(kubeconfig: str | None, context: str | None, cluster_name: str) -> tuple[k8s.ApiClient, str]:
    """An API client for the context named after the cluster (what `az aks get-credentials` writes),
    else the given or current context; and the context's name."""
    try:
        contexts, current = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
    except (k8s_config.ConfigException, OSError) as error:
        raise CannotRunError(f"no usable kubeconfig ({error}): run `az aks get-credentials` for the cluster") from None
    names = [entry["name"] for entry in contexts or []]
    chosen = context or (cluster_name if cluster_name in names else (current or {}).get("name"))
    if not chosen or chosen not in names:
        raise CannotRunError(f"kubeconfig has no context {chosen or '(current)'}: run `az aks get-credentials` for the cluster")
    try:
        client = k8s_config.new_client_from_config(config_file=kubeconfig, context=chosen)
    except (k8s_config.ConfigException, OSError) as error:
        raise CannotRunError(f"kubeconfig context {chosen} is not usable: {error}") from None
    return client, chosen


def api_server_host(client: k8s.ApiClient) -> str:
    return urlparse(client.configuration.host).hostname or ""


class Kube:
    def __init__(self, client: k8s.ApiClient) -> None:
        self.core = k8s.CoreV1Api(client)
        self.apps = k8s.AppsV1Api(client)
        self.custom = k8s.CustomObjectsApi(client)

    @staticmethod
    def _decode(call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            response = call(*args, _preload_content=False, _request_timeout=20, **kwargs)
        except k8s.ApiException as error:
            raise KubeError(int(error.status or 0), _reason(error)) from None
        except urllib3.exceptions.HTTPError as error:
            raise KubeError(0, f"API server not reachable ({type(error).__name__})") from None
        return json.loads(response.data or b"null")

    def deployments(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return list(self._decode(self.apps.list_namespaced_deployment, namespace, label_selector=selector).get("items") or [])

    def pods(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return list(self._decode(self.core.list_namespaced_pod, namespace, label_selector=selector).get("items") or [])

    def service_account(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(self._decode(self.core.read_namespaced_service_account, name, namespace))

    def secrets(self, namespace: str, selector: str) -> list[dict[str, Any]]:
        return list(self._decode(self.core.list_namespaced_secret, namespace, label_selector=selector).get("items") or [])

    def config_map(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(self._decode(self.core.read_namespaced_config_map, name, namespace))

    def application(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(self._decode(self.custom.get_namespaced_custom_object, "argoproj.io", "v1alpha1", namespace, "applications", name))

    def service_account_token(self, namespace: str, name: str) -> str:
        """A short-lived token for the service account with the audience Entra accepts: what the webhook's
        projected volume gives the pod. Kept in memory by the caller, never printed."""
        request = k8s.AuthenticationV1TokenRequest(
            spec=k8s.V1TokenRequestSpec(audiences=[TOKEN_EXCHANGE_AUDIENCE], expiration_seconds=SHORTEST_TOKEN_SECONDS)
        )
        created = self._decode(self.core.create_namespaced_service_account_token, name, namespace, request)
        token = (created.get("status") or {}).get("token")
        if not isinstance(token, str) or not token:
            raise KubeError(500, "the API server returned no token")
        return token


def _reason(error: k8s.ApiException) -> str:
    try:
        return str(json.loads(error.body or "{}").get("message") or error.reason)
    except ValueError:
        return str(error.reason)
