"""Loopback fakes of what the doctor talks to: the Kubernetes API, Entra's token endpoint and Azure DevOps
(one HTTP server on 127.0.0.1), and the Azure CLI (a function answering the three commands the doctor runs).

The fakes behave like the real services where the doctor's diagnosis depends on it: the Kubernetes fake
issues JWT-shaped service-account tokens for the issuer it is told; the Entra fake accepts one only when a
federated credential of the World matches its issuer, subject and audience (else AADSTS70021, as Entra
answers); Azure DevOps answers a repository it will not show with 404, whether it is missing or forbidden.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from tools.doctor.azure_cli import AzError

TENANT = "11111111-1111-1111-1111-111111111111"
CLIENT_ID = "22222222-2222-2222-2222-222222222222"
PRINCIPAL_ID = "33333333-3333-3333-3333-333333333333"
SSO_APP_ID = "66666666-6666-6666-6666-666666666666"
MEMBER_ID = "44444444-4444-4444-4444-444444444444"
ISSUER = "https://westeurope.oic.prod-aks.azure.com/11111111-1111-1111-1111-111111111111/55555555-5555-5555-5555-555555555555/"
ORG = "contoso"
ORG_URL = f"https://dev.azure.com/{ORG}"
REPO = f"{ORG_URL}/platform/_git/gitops"
HYDRATED = f"{ORG_URL}/platform/_git/gitops-hydrated"
NAMESPACE = "argocd"
CLUSTER = "argocd-wi-dev-aks"
RESOURCE_GROUP = "argocd-wi-dev-rg"
AUDIENCE = "api://AzureADTokenExchange"
ANNOTATED_AT = "2026-11-01T10:00:00Z"
POD_STARTED_AT = "2026-11-01T10:05:00Z"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def deployment(role: str, service_account: str, image: str = "quay.io/argoproj/argocd:v3.5.1") -> dict[str, Any]:
    name = f"argocd-{role}"
    return {
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {
            "app.kubernetes.io/component": role, "app.kubernetes.io/part-of": "argocd", "app.kubernetes.io/name": name,
        }},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            "template": {"spec": {"serviceAccountName": service_account, "containers": [{"name": role, "image": image}]}},
        },
    }


def service_account(name: str, client_id: str | None = CLIENT_ID, annotated_at: str = ANNOTATED_AT) -> dict[str, Any]:
    annotations = {"azure.workload.identity/client-id": client_id} if client_id else {}
    return {"metadata": {
        "name": name, "namespace": NAMESPACE, "annotations": annotations, "creationTimestamp": "2026-10-01T09:00:00Z",
        "managedFields": [{
            "manager": "helm", "operation": "Update", "time": annotated_at,
            "fieldsV1": {"f:metadata": {"f:annotations": {"f:azure.workload.identity/client-id": {}}}},
        }] if client_id else [],
    }}


def pod(role: str, suffix: str = "7d9f-abcde", started: str = POD_STARTED_AT, client_id: str = CLIENT_ID,
        labelled: bool = True, injected: bool = True) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": f"argocd-{role}"} | ({"azure.workload.identity/use": "true"} if labelled else {})
    env = [
        {"name": "AZURE_CLIENT_ID", "value": client_id},
        {"name": "AZURE_TENANT_ID", "value": TENANT},
        {"name": "AZURE_FEDERATED_TOKEN_FILE", "value": "/var/run/secrets/azure/tokens/azure-identity-token"},
        {"name": "AZURE_AUTHORITY_HOST", "value": "https://login.microsoftonline.com/"},
    ] if injected else []
    return {
        "metadata": {"name": f"argocd-{role}-{suffix}", "namespace": NAMESPACE, "labels": labels, "creationTimestamp": started},
        "spec": {"containers": [{"name": role, "env": env}]},
        "status": {"phase": "Running"},
    }


def repository_secret(name: str, url: str, kind: str = "repository", **fields: str) -> dict[str, Any]:
    data = {"type": "git", "url": url, "useAzureWorkloadIdentity": "true"} | fields
    return {
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"argocd.argoproj.io/secret-type": kind}},
        "data": {key: b64(value) for key, value in data.items() if value is not None},
    }


@dataclass
class World:
    """Everything the fakes answer from; a test changes one thing to break one link."""

    outputs: dict[str, Any] = field(default_factory=lambda: {
        "clusterName": CLUSTER, "clusterResourceGroup": RESOURCE_GROUP, "oidcIssuerUrl": ISSUER,
        "identityClientId": CLIENT_ID, "identityPrincipalId": PRINCIPAL_ID, "identityName": "argocd-wi-identity",
        "identityResourceGroup": RESOURCE_GROUP, "tenantId": TENANT, "argocdInstallMethod": "helm",
        "argocdNamespace": NAMESPACE, "repoServerServiceAccount": "argocd-repo-server", "commitServerServiceAccount": None,
        "azureDevOpsOrgUrl": ORG_URL, "readRepositories": [REPO], "writeRepositories": [], "bootstrapApplication": "bootstrap",
    })
    logged_in: bool = True
    aks: dict[str, Any] = field(default_factory=lambda: {
        "name": CLUSTER, "fqdn": "127.0.0.1",
        "oidcIssuerProfile": {"enabled": True, "issuerUrl": ISSUER},
        "securityProfile": {"workloadIdentity": {"enabled": True}},
    })
    credentials: list[dict[str, Any]] = field(default_factory=lambda: [{
        "name": "cluster-repo-server", "issuer": ISSUER, "subject": f"system:serviceaccount:{NAMESPACE}:argocd-repo-server",
        "audiences": [AUDIENCE],
    }])
    credentials_readable: bool = True
    """False: the person may not list the credentials (they still exist for Entra)."""
    deployments: list[dict[str, Any]] = field(default_factory=lambda: [deployment("repo-server", "argocd-repo-server")])
    service_accounts: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "argocd-repo-server": service_account("argocd-repo-server"),
    })
    pods: list[dict[str, Any]] = field(default_factory=lambda: [pod("repo-server")])
    secrets: list[dict[str, Any]] = field(default_factory=lambda: [repository_secret("repo-gitops", REPO)])
    config_maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    sso_credentials: list[dict[str, Any]] = field(default_factory=list)
    """Federated credentials of the SSO app registration."""
    applications: dict[str, dict[str, Any]] = field(default_factory=lambda: {
        "bootstrap": {"status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}, "conditions": []}},
    })
    token_issuer: str = ISSUER
    """The issuer the cluster's API server writes into the tokens it issues."""
    may_read_namespace: bool = True
    may_create_tokens: bool = True
    may_read_secrets: bool = True
    entra_error: str | None = None
    """Force an AADSTS code (for failures the World cannot otherwise produce, such as clock skew)."""
    member: bool = True
    licence: str = "express"
    entitlement_readable: bool = True
    """The identity may read its own entitlement."""
    person_reads_entitlements: bool = True
    repositories: dict[str, dict[str, str]] = field(default_factory=lambda: {
        "platform/gitops": {"id": "repo-gitops-id", "project": "project-platform-id"},
        "platform/gitops-hydrated": {"id": "repo-hydrated-id", "project": "project-platform-id"},
    })
    readable: set[str] = field(default_factory=lambda: {"platform/gitops", "platform/gitops-hydrated"})
    forbidden: set[str] = field(default_factory=set)
    """Repositories answering 403 (project-level denial) instead of 404."""
    push_bits: dict[str, int] = field(default_factory=lambda: {"platform/gitops-hydrated": 4 | 16 | 64})
    """Git permission bits the identity holds per repository (GenericContribute 4, CreateBranch 16, ManageNote 64)."""
    # Token values: the doctor must never print any of them.
    devops_token: str = field(default_factory=lambda: f"eyJ0eXAiOiJKV1QifQ.devops-{uuid.uuid4().hex}.sig{uuid.uuid4().hex}")
    person_token: str = field(default_factory=lambda: f"eyJ0eXAiOiJKV1QifQ.person-{uuid.uuid4().hex}.sig{uuid.uuid4().hex}")
    issued_service_account_tokens: list[str] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    """What reached the Entra fake (form fields, the assertion left out)."""

    def with_hydrator(self) -> World:
        self.outputs |= {"commitServerServiceAccount": "argocd-commit-server", "writeRepositories": [HYDRATED]}
        self.deployments.append(deployment("commit-server", "argocd-commit-server"))
        self.service_accounts["argocd-commit-server"] = service_account("argocd-commit-server")
        self.pods.append(pod("commit-server"))
        self.credentials.append({
            "name": "cluster-commit-server", "issuer": ISSUER,
            "subject": f"system:serviceaccount:{NAMESPACE}:argocd-commit-server", "audiences": [AUDIENCE],
        })
        self.secrets.append(repository_secret("write-hydrated", HYDRATED, kind="repository-write"))
        return self

    def with_sso(self) -> World:
        """Entra SSO with workload identity: argocd-server runs as the SSO app registration."""
        self.config_maps["argocd-cm"] = {"metadata": {"name": "argocd-cm"}, "data": {"oidc.config": (
            f"name: Azure\nissuer: https://login.microsoftonline.com/{TENANT}/v2.0\nclientID: {SSO_APP_ID}\n"
            "azure:\n  useWorkloadIdentity: true\nrequestedScopes: [openid, profile, email]\n")}}
        self.deployments.append(deployment("server", "argocd-server"))
        self.service_accounts["argocd-server"] = service_account("argocd-server", client_id=SSO_APP_ID)
        self.pods.append(pod("server", client_id=SSO_APP_ID))
        self.sso_credentials.append({
            "name": "argocd-server", "issuer": ISSUER, "subject": f"system:serviceaccount:{NAMESPACE}:argocd-server",
            "audiences": [AUDIENCE],
        })
        return self

    def secrets_seen(self) -> list[str]:
        return [self.devops_token, self.person_token, *self.issued_service_account_tokens]

    # ----------------------------------------------------------------------------------------------
    # Azure CLI
    # ----------------------------------------------------------------------------------------------

    def az(self, args: list[str]) -> str:
        if not self.logged_in:
            raise AzError("ERROR: Please run 'az login' to setup account.")
        command = " ".join(arg for arg in args[:3] if not arg.startswith("--"))
        if command == "account show":
            return json.dumps({"tenantId": TENANT, "user": {"name": "someone@contoso.com"}})
        if command == "aks show":
            return json.dumps(self.aks)
        if command == "identity federated-credential list":
            if not self.credentials_readable:
                raise AzError("ERROR: (AuthorizationFailed) The client does not have authorization to perform action")
            return json.dumps(self.credentials)
        if command == "ad app federated-credential":
            return json.dumps(self.sso_credentials)
        if command == "account get-access-token":
            return json.dumps({"accessToken": self.person_token, "tokenType": "Bearer"})
        raise AzError(f"ERROR: the fake az does not know `az {' '.join(args)}`")


# --------------------------------------------------------------------------------------------------
# The loopback server
# --------------------------------------------------------------------------------------------------


def fake_jwt(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'kid': 'fake'})}.{part(claims)}.SIGNATURE{uuid.uuid4().hex}"


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def _matches(selector: str, labels: dict[str, str]) -> bool:
    for term in filter(None, selector.split(",")):
        key, _, value = term.partition("=")
        if key not in labels or (value and labels[key] != value):
            return False
    return True


class _Handler(BaseHTTPRequestHandler):
    server: LoopbackServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        world = self.server.world
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        host, _, path = parts.path.lstrip("/").partition("/")
        path = "/" + path
        if host == "k8s":
            status, answer = _kubernetes(world, method, path, query, body)
        elif host == "login.microsoftonline.com":
            status, answer = _entra(world, path, body)
        elif host in ("dev.azure.com", "vsaex.dev.azure.com"):
            status, answer = _devops(world, host, path, query, self.headers.get("Authorization", ""))
        else:
            status, answer = 599, {"message": f"the fakes do not serve {host}"}
        if status in (203, 302):
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            if status == 302:
                self.send_header("Location", "https://spsprodweu5.vssps.visualstudio.com/_signin")
            self.end_headers()
            self.wfile.write(b"<html>Sign in</html>")
            return
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _not_found(what: str) -> tuple[int, dict[str, Any]]:
    return 404, {"kind": "Status", "status": "Failure", "message": f"{what} not found", "reason": "NotFound", "code": 404}


def _kubernetes(world: World, method: str, path: str, query: dict[str, str], body: str) -> tuple[int, Any]:
    selector = query.get("labelSelector", "")

    def listed(items: list[dict[str, Any]]) -> tuple[int, Any]:
        return 200, {"items": [copy.deepcopy(i) for i in items if _matches(selector, i["metadata"].get("labels") or {})]}

    prefix = f"/namespaces/{NAMESPACE}"
    if not world.may_read_namespace:
        return 403, {"kind": "Status", "code": 403, "message": f'User "someone@contoso.com" cannot list resource "deployments" '
                                                               f'in API group "apps" in the namespace "{NAMESPACE}"'}
    if path == f"/apis/apps/v1{prefix}/deployments":
        return listed(world.deployments)
    if path == f"/api/v1{prefix}/pods":
        return listed(world.pods)
    if path == f"/api/v1{prefix}/secrets":
        if not world.may_read_secrets:
            return 403, {"kind": "Status", "code": 403, "message": (
                f'secrets is forbidden: User "someone@contoso.com" cannot list resource "secrets" in API group "" in the '
                f'namespace "{NAMESPACE}"')}
        return listed(world.secrets)
    match = re.fullmatch(rf"/api/v1{prefix}/configmaps/([^/]+)", path)
    if match:
        config_map = world.config_maps.get(match.group(1))
        return (200, config_map) if config_map is not None else _not_found(f'configmaps "{match.group(1)}"')
    match = re.fullmatch(rf"/api/v1{prefix}/serviceaccounts/([^/]+)(/token)?", path)
    if match:
        account = world.service_accounts.get(match.group(1))
        if account is None:
            return _not_found(f'serviceaccounts "{match.group(1)}"')
        if not match.group(2):
            return 200, account
        if method != "POST":
            return 405, {"message": "method not allowed"}
        if not world.may_create_tokens:
            return 403, {"kind": "Status", "code": 403, "message": (
                f'serviceaccounts "{match.group(1)}" is forbidden: User "someone@contoso.com" cannot create resource '
                f'"serviceaccounts/token" in API group "" in the namespace "{NAMESPACE}"')}
        spec = json.loads(body).get("spec") or {}
        token = fake_jwt({
            "iss": world.token_issuer, "sub": f"system:serviceaccount:{NAMESPACE}:{match.group(1)}",
            "aud": spec.get("audiences"), "exp": 4102444800,
        })
        world.issued_service_account_tokens.append(token)
        return 201, {"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": spec,
                     "status": {"token": token, "expirationTimestamp": "2100-01-01T00:00:00Z"}}
    match = re.fullmatch(rf"/apis/argoproj.io/v1alpha1{prefix}/applications/([^/]+)", path)
    if match:
        application = world.applications.get(match.group(1))
        return (200, application) if application is not None else _not_found(f'applications.argoproj.io "{match.group(1)}"')
    return _not_found(path)


def _aadsts(code: str, text: str) -> tuple[int, dict[str, Any]]:
    return 400, {
        "error": "invalid_client" if code != "90002" else "invalid_request",
        "error_description": f"AADSTS{code}: {text}\r\nTrace ID: 0000\r\nCorrelation ID: 0000\r\nTimestamp: 2026-11-30 00:00:00Z",
        "error_codes": [int(code)],
    }


FORCED_ENTRA_ERRORS = {
    "700024": "Client assertion is not within its valid time range.",
    "70021": "No matching federated identity record found for presented assertion.",
    "50058": "A silent sign-in request was sent but no user is signed in.",
}


def _entra(world: World, path: str, body: str) -> tuple[int, Any]:
    match = re.fullmatch(r"/([^/]+)/oauth2/v2.0/token", path)
    if not match:
        return 404, {"error": "not_found"}
    form = {key: values[0] for key, values in parse_qs(body).items()}
    world.token_requests.append({key: value for key, value in form.items() if key != "client_assertion"})
    if world.entra_error:
        return _aadsts(world.entra_error, FORCED_ENTRA_ERRORS[world.entra_error])
    if match.group(1) != TENANT:
        return _aadsts("90002", f"Tenant '{match.group(1)}' not found.")
    if form.get("client_id") != world.outputs["identityClientId"] or form.get("client_id") != CLIENT_ID:
        return _aadsts("700016", f"Application with identifier '{form.get('client_id')}' was not found in the directory.")
    assertion = form.get("client_assertion", "")
    if assertion not in world.issued_service_account_tokens:
        return _aadsts("50027", "Invalid JWT token.")
    claims = _claims(assertion)
    audiences = claims.get("aud") or []
    for credential in world.credentials:
        if (credential["issuer"] == claims["iss"] and credential["subject"] == claims["sub"]
                and any(audience in credential["audiences"] for audience in audiences)):
            return 200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": world.devops_token}
    return _aadsts("70021", (
        f"No matching federated identity record found for presented assertion. Assertion Issuer: '{claims['iss']}'. "
        f"Assertion Subject: '{claims['sub']}'. Assertion Audience: '{','.join(audiences)}'."
    ))


def _devops(world: World, host: str, path: str, query: dict[str, str], authorization: str) -> tuple[int, Any]:
    token = authorization.removeprefix("Bearer ")
    identity = token == world.devops_token
    person = token == world.person_token
    if not (identity or person):
        return 401, {"message": "TF400813: The user '' is not authorized to access this resource."}
    if identity and not world.member:
        return 401, {"message": f"TF400813: The user '{PRINCIPAL_ID}' is not authorized to access this resource."}
    if host == "vsaex.dev.azure.com":
        if path != f"/{ORG}/_apis/serviceprincipalentitlements/{MEMBER_ID}":
            return 404, {"message": "not found"}
        if (identity and not world.entitlement_readable) or (person and not world.person_reads_entitlements):
            return 403, {"message": "VS403309: access denied"}
        display = {"express": "Basic", "stakeholder": "Stakeholder"}.get(world.licence, world.licence)
        return 200, {"id": MEMBER_ID, "accessLevel": {"accountLicenseType": world.licence, "licenseDisplayName": display}}
    if path == f"/{ORG}/_apis/connectionData":
        return 200, {"authenticatedUser": {"id": MEMBER_ID, "providerDisplayName": "argocd-wi-identity"}}
    match = re.fullmatch(rf"/{ORG}/([^/]+)/_apis/git/repositories/([^/]+)", path)
    if match:
        key = f"{unquote(match.group(1))}/{unquote(match.group(2))}"
        repository = world.repositories.get(key)
        if identity and world.licence == "stakeholder":
            return 203, None
        if identity and key in world.forbidden:
            return 403, {"message": "TF401027: You need the Git 'GenericRead' permission to perform this action."}
        if repository is None or (identity and key not in world.readable):
            return 404, {"message": f"TF401019: The Git repository with name or identifier {match.group(2)} does not exist "
                                    "or you do not have permissions for the operation you are attempting."}
        return 200, {"id": repository["id"], "name": match.group(2), "project": {"id": repository["project"]}}
    match = re.fullmatch(rf"/{ORG}/_apis/permissions/([^/]+)/(\d+)", path)
    if match:
        bits = int(match.group(2))
        held = {f"repoV2/{repo['project']}/{repo['id']}": world.push_bits.get(key, 0) for key, repo in world.repositories.items()}
        return 200, {"count": 1, "value": [identity and held.get(query.get("tokens", ""), 0) & bits == bits]}
    return 404, {"message": f"the fake Azure DevOps does not serve {path}"}


class LoopbackServer(ThreadingHTTPServer):
    """One HTTP server on 127.0.0.1 for all three services; `world` is swapped per test."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.world = World()
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _ToLoopback(HTTPAdapter):
    """Sends https://<host>/<path> to http://127.0.0.1:<port>/<host>/<path>; nothing leaves the machine."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self._base = base

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        if parts.scheme != "https":
            raise requests.ConnectionError(f"the tests allow only loopback fakes, not {request.url}")
        request.url = f"{self._base}/{parts.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
        return super().send(request, *args, **kwargs)


def loopback_session(base: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy from the environment
    session.mount("https://", _ToLoopback(base))
    session.mount("http://", _ToLoopback(base))
    return session


def kubeconfig(base: str, api_server: str | None = None) -> str:
    """The person's kubeconfig: a context named after the cluster (as az aks get-credentials writes) and a current
    context of another cluster, which the doctor must not use."""
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "someone-else",
        "clusters": [{"name": CLUSTER, "cluster": {"server": api_server or f"{base}/k8s"}},
                     {"name": "other", "cluster": {"server": "https://other.example.invalid"}}],
        "users": [{"name": "someone", "user": {"token": "kube-credential-of-the-person"}}],
        "contexts": [{"name": CLUSTER, "context": {"cluster": CLUSTER, "user": "someone"}},
                     {"name": "someone-else", "context": {"cluster": "other", "user": "someone"}}],
    })
