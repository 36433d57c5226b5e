"""The components as a Pulumi package any language can use, checked through the SDK's own schema analyzer
(what `pulumi package add` runs), without the Pulumi CLI."""

from __future__ import annotations

import runpy
import subprocess
import sys
from typing import Any

import pytest
import yaml
from pulumi.provider.experimental.analyzer import Analyzer, ComponentDefinition
from semver import Version

from components.package import COMPONENTS, PACKAGE
from tools.offline.engine import ROOT, ProgramRun

EXPECTED_COMPONENTS = {
    "AksCluster", "WorkloadIdentity", "AzureDevOpsAccess", "ContainerRegistryAccess", "EntraSingleSignOn", "ArgoCdRelease",
    "ArgoCdExtension", "SpokeAccess",
}
# Components a stack registers only when their feature is configured (Helm charts in ACR, Entra sign-in, spokes).
OPTIONAL_COMPONENTS = {"ArgoCdExtension", "ContainerRegistryAccess", "EntraSingleSignOn", "SpokeAccess"}


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return dict(Analyzer(PACKAGE).analyze(list(COMPONENTS)))


def component(schema: dict[str, Any], name: str) -> ComponentDefinition:
    return schema["component_definitions"][name]


def test_the_package_offers_every_component(schema: dict[str, Any]) -> None:
    assert set(schema["component_definitions"]) == EXPECTED_COMPONENTS


def test_the_program_registers_each_component_under_the_token_the_schema_gives_it(dev: ProgramRun) -> None:
    registered = {r.type for r in dev.resources if r.type.startswith(f"{PACKAGE}:")}
    assert registered == {f"{PACKAGE}:index:{name}" for name in EXPECTED_COMPONENTS - OPTIONAL_COMPONENTS}


def test_every_input_and_output_is_described(schema: dict[str, Any]) -> None:
    undescribed = [
        f"{name}.{prop}"
        for name, definition in schema["component_definitions"].items()
        for prop, spec in {**definition.inputs, **definition.outputs}.items()
        if not spec.description
    ]
    assert undescribed == [] and all(d.description for d in schema["component_definitions"].values())


@pytest.mark.parametrize(("name", "inputs", "outputs"), [
    ("AksCluster", {"location", "resourceGroupName", "kubeloginMode", "existingCluster"},
     {"clusterName", "oidcIssuerUrl", "kubeconfig"}),
    ("WorkloadIdentity", {"resourceGroupName", "issuerUrls", "subjects"}, {"clientId", "principalId", "tenantId"}),
    ("AzureDevOpsAccess", {"organizationUrl", "principalId", "accessModel", "repositories"}, {"descriptor"}),
    ("ArgoCdRelease", {"namespace", "chartVersion", "repoServer", "registrations", "bootstrap"},
     {"namespace", "repositoryUrls", "serverServiceName"}),
    ("ArgoCdExtension", {"clusterName", "releaseTrain", "clientId", "registrations"}, {"namespace", "repositoryUrls"}),
    ("ContainerRegistryAccess", {"principalId", "registries"}, {"loginServers", "grantsReady"}),
    ("EntraSingleSignOn", {"issuerUrl", "subject", "argocdUrl"}, {"clientId", "tenantId"}),
])
def test_the_chained_values_are_inputs_and_outputs(schema: dict[str, Any], name: str, inputs: set[str], outputs: set[str]) -> None:
    definition = component(schema, name)
    assert inputs <= set(definition.inputs) and outputs <= set(definition.outputs)


def test_choices_are_enums_in_the_schema(schema: dict[str, Any]) -> None:
    enums = {name: {value.value for value in definition.enum} for name, definition in schema["type_definitions"].items()
             if definition.enum}
    assert enums["AccessModel"] == {"repositories", "readers"}
    assert enums["PrincipalType"] == {"User", "ServicePrincipal"}
    assert enums["SecretType"] == {"repository", "repo-creds", "repository-write"}
    assert enums["RepositoryKind"] == {"git", "helm-oci"}
    assert component(schema, "AzureDevOpsAccess").inputs["accessModel"].ref == f"#/types/{PACKAGE}:index:AccessModel"


def test_no_input_takes_a_provider_or_a_credential(schema: dict[str, Any]) -> None:
    """Providers come through resource options; no input is a secret the caller would have to hold."""
    names = {prop.lower() for d in schema["component_definitions"].values() for prop in d.inputs}
    assert not {name for name in names if "provider" in name or "password" in name or "token" in name or "secret" in name}


def test_absent_means_off_only_where_the_schema_says_optional(schema: dict[str, Any]) -> None:
    cluster = component(schema, "AksCluster").inputs
    assert cluster["existingCluster"].optional and cluster["kubernetesVersion"].optional
    assert not cluster["nodeCount"].optional and not cluster["location"].optional


def test_the_plugin_file_holds_only_what_pulumis_plugin_loader_reads() -> None:
    """PulumiPlugin.yaml has runtime, packages and requiredPulumiVersion (Pulumi's plugin project file): a name or
    version written there would be ignored while looking authoritative."""
    plugin = yaml.safe_load((ROOT / "components" / "PulumiPlugin.yaml").read_text())
    assert set(plugin) <= {"runtime", "packages", "requiredPulumiVersion"} and plugin["runtime"]["name"] == "python"


def test_the_entry_point_gives_the_host_the_package_name_and_a_released_version(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi.provider.experimental as experimental

    hosted: dict[str, Any] = {}
    monkeypatch.setattr(experimental, "component_provider_host", lambda **kwargs: hosted.update(kwargs))
    runpy.run_path(str(ROOT / "components" / "__main__.py"), run_name="__main__")
    assert hosted["name"] == "argocd-wi" and [c.__name__ for c in hosted["components"]] == [c.__name__ for c in COMPONENTS]
    assert Version.is_valid(hosted["version"]) and hosted["version"] != "0.0.0", "0.0.0 is the SDK's placeholder"


def test_the_plugin_entry_point_imports_from_inside_its_own_directory() -> None:
    """Pulumi runs the plugin from components/, where `components` itself is not importable without help."""
    code = "import runpy; runpy.run_path('__main__.py', run_name='plugin-check'); print('imported')"
    result = subprocess.run([sys.executable, "-I", "-c", code], cwd=ROOT / "components", capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "imported"


def test_the_yaml_example_uses_only_declared_inputs_and_every_required_one(schema: dict[str, Any]) -> None:
    example = yaml.safe_load((ROOT / "examples" / "yaml" / "Pulumi.yaml").read_text())
    assert example["packages"][PACKAGE] == "../../components"
    used = {name: resource for name, resource in example["resources"].items() if resource["type"].startswith(f"{PACKAGE}:")}
    assert {resource["type"].split(":")[-1] for resource in used.values()} == EXPECTED_COMPONENTS - OPTIONAL_COMPONENTS
    for name, resource in used.items():
        definition = component(schema, resource["type"].split(":")[-1])
        given = set(resource["properties"])
        assert given <= set(definition.inputs), f"{name}: {sorted(given - set(definition.inputs))} are not inputs"
        required = {prop for prop, spec in definition.inputs.items() if not spec.optional}
        assert required <= given, f"{name} lacks {sorted(required - given)}"
