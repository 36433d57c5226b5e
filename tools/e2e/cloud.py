"""The real checks of a run, against Azure, the cluster and Azure DevOps, through the Azure CLI the user logged in with
(or, in GitHub Actions, a fresh OIDC login before each check), kubelogin and the doctor."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests

from tools.doctor.azure_cli import AZURE_DEVOPS_RESOURCE, AzError, Runner, subprocess_runner
from tools.doctor.cli import main as doctor_main
from tools.doctor.environment import Environment
from tools.e2e.plan import E2eEnvironment

# GitHub's OIDC token for an Entra federated credential (Entra workload identity federation docs).
ENTRA_AUDIENCE = "api://AzureADTokenExchange"


class AzureCloud:
    def __init__(self, az: Runner = subprocess_runner, environ: Mapping[str, str] = os.environ) -> None:
        self._az = az
        self._environ = environ

    def broken_links(self, stack: str, outputs: Mapping[str, Any]) -> list[str]:
        self._login()
        with tempfile.TemporaryDirectory(prefix="argocd-aks-wi-e2e-") as folder:
            outputs_file, kubeconfig = Path(folder) / "outputs.json", Path(folder) / "kubeconfig"
            outputs_file.write_text(json.dumps(dict(outputs)))
            self._kubeconfig(outputs, kubeconfig)
            printed = io.StringIO()
            code = doctor_main(
                [stack, "--outputs", str(outputs_file), "--kubeconfig", str(kubeconfig), "--json"],
                Environment(az=self._az, stdout=printed, stderr=io.StringIO()),
            )
        found = json.loads(printed.getvalue() or "{}")
        problems = [f"link {c['link']} {c['status']}: {c['summary']}" for c in found.get("checks", []) if c["status"] != "ok"]
        return problems or ([] if code == 0 else [f"the doctor exited {code}: {found.get('error', 'see its output')}"])

    def unsynced_applications(self, outputs: Mapping[str, Any]) -> list[str]:
        from kubernetes import client, config

        self._login()
        namespace = str(outputs["argocdNamespace"])
        names = ["bootstrap", *(f"bootstrap-{spoke}" for spoke in outputs.get("spokeServers") or {})]
        with tempfile.TemporaryDirectory(prefix="argocd-aks-wi-e2e-") as folder:
            kubeconfig = Path(folder) / "kubeconfig"
            self._kubeconfig(outputs, kubeconfig)
            api = client.CustomObjectsApi(config.new_client_from_config(config_file=str(kubeconfig)))
            problems = []
            for name in names:
                application = api.get_namespaced_custom_object("argoproj.io", "v1alpha1", namespace, "applications", name)
                status = (application.get("status") if isinstance(application, dict) else None) or {}
                sync, health = (status.get("sync") or {}).get("status"), (status.get("health") or {}).get("status")
                if (sync, health) != ("Synced", "Healthy"):
                    problems.append(f"Application {namespace}/{name} is {sync}/{health}")
        return problems

    def left_behind(self, outputs: Mapping[str, Any], environment: E2eEnvironment) -> list[str]:
        self._login()
        found = []
        group = str(outputs["identityResourceGroup"])
        if self._az(["group", "exists", "--name", group]).strip() == "true":
            found.append(f"resource group {group}: az group delete --name {group} --yes")
        fleet_principal = outputs.get("fleetIdentityPrincipalId")
        if environment.spoke_cluster and fleet_principal:
            spoke_group, spoke_name = environment.spoke_cluster.split("/")
            scope = self._az(["aks", "show", "--resource-group", spoke_group, "--name", spoke_name, "--query", "id",
                              "--output", "tsv"]).strip()
            assignments = json.loads(self._az([
                "role", "assignment", "list", "--scope", scope, "--query", f"[?principalId=='{fleet_principal}'].id",
                "--output", "json",
            ]) or "[]")
            found += [f"role assignment on {environment.spoke_cluster}: az role assignment delete --ids {a}" for a in assignments]
        found += self._entitlement_left(outputs, environment)
        return found

    def _entitlement_left(self, outputs: Mapping[str, Any], environment: E2eEnvironment) -> list[str]:
        member = outputs.get("azureDevOpsEntitlementId")
        if not member:
            return ["the Azure DevOps entitlement could not be checked: the stack exported no azureDevOpsEntitlementId"]
        organization = environment.organization_url.rsplit("/", 1)[-1]
        url = f"https://vsaex.dev.azure.com/{organization}/_apis/serviceprincipalentitlements/{member}?api-version=7.1-preview.1"
        try:
            self._az(["rest", "--method", "get", "--resource", AZURE_DEVOPS_RESOURCE, "--url", url])
        except AzError as error:
            if "not found" in str(error).lower() or "404" in str(error):
                return []
            return [f"the Azure DevOps entitlement {member} could not be checked ({error})"]
        return [f"Azure DevOps entitlement {member} (principal {outputs.get('identityPrincipalId')}): "
                f"Organization settings > Users, remove it, in {environment.organization_url}"]

    def _kubeconfig(self, outputs: Mapping[str, Any], path: Path) -> None:
        self._az(["aks", "get-credentials", "--resource-group", str(outputs["clusterResourceGroup"]),
                  "--name", str(outputs["clusterName"]), "--file", str(path), "--overwrite-existing"])
        kubelogin = shutil.which("kubelogin")
        if kubelogin is None:
            raise RuntimeError("kubelogin is not on the PATH (az aks install-cli installs it)")
        login = "workloadidentity" if self._in_github_actions() else "azurecli"
        subprocess.run([kubelogin, "convert-kubeconfig", "--login", login, "--kubeconfig", str(path)], check=True,
                       capture_output=True, text=True, timeout=60)

    def _in_github_actions(self) -> bool:
        return bool(self._environ.get("ACTIONS_ID_TOKEN_REQUEST_URL") and self._environ.get("ARM_CLIENT_ID"))

    def _login(self) -> None:
        """In GitHub Actions, log the Azure CLI in with a fresh OIDC token before each check: one cached at the start
        of the job expires after about 5 minutes (AADSTS700024, docs/facts.md#ci-logins), long before the checks."""
        if not self._in_github_actions():
            return
        environ = self._environ
        response = requests.get(
            environ["ACTIONS_ID_TOKEN_REQUEST_URL"], params={"audience": ENTRA_AUDIENCE},
            headers={"Authorization": f"Bearer {environ['ACTIONS_ID_TOKEN_REQUEST_TOKEN']}"}, timeout=30,
        )
        response.raise_for_status()
        self._az(["login", "--service-principal", "--username", environ["ARM_CLIENT_ID"], "--tenant",
                  environ["ARM_TENANT_ID"], "--federated-token", response.json()["value"], "--output", "none"])
        self._az(["account", "set", "--subscription", environ["ARM_SUBSCRIPTION_ID"]])
