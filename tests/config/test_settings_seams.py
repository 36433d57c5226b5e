"""The settings' seams, tested directly: one region, the schema as the only home of defaults, the adapter
over Pulumi's private config listing, and plain-text lists as `pulumi new` writes them."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import yaml
from pulumi.runtime.config import set_all_config

from harness import ROOT, refusal, run_program
from settings import load_settings
from settings.runtime_config import all_config_keys
from settings.schema import PROJECT, declared_config

DECLARED = declared_config()


def test_a_second_region_that_disagrees_is_refused_by_both_names() -> None:
    message = refusal({"azure-native:location": "northeurope", "location": "westeurope"})
    assert "azure-native:location = 'northeurope' differs from argocd-aks-wi:location = 'westeurope'" in message


def test_a_second_region_that_agrees_is_harmless() -> None:
    run = run_program("dev", overrides={"azure-native:location": "swedencentral", "location": "swedencentral"})
    assert {r.inputs["location"] for r in run.resources if "location" in r.inputs} == {"swedencentral"}


def test_without_a_location_every_resource_takes_the_schemas_default() -> None:
    run = run_program("dev", overrides={"location": None})
    assert {r.inputs["location"] for r in run.resources if "location" in r.inputs} == {DECLARED["location"]["default"]}


def test_the_adapter_lists_every_key_of_every_namespace() -> None:
    set_all_config({f"{PROJECT}:nodeCount": "3", "azure-native:location": "westeurope"}, [])
    assert all_config_keys() == {f"{PROJECT}:nodeCount": "3", "azure-native:location": "westeurope"}


def test_no_default_is_written_in_the_settings_package() -> None:
    """Defaults live in Pulumi.yaml only: no reader call passes one, and no settings dataclass field has one."""
    sources = "\n".join(path.read_text() for path in (ROOT / "settings").glob("*.py"))
    assert not re.search(r"reader\.(text|boolean|integer|strings|choice)\(\"\w+\", \"", sources)
    assert not re.search(r"reader\.boolean\(\"\w+\", (True|False)\)", sources)


def test_component_args_have_no_defaults() -> None:
    """A component's caller supplies every value (or leaves an optional one out); the package has no second copy."""
    sources = "\n".join(path.read_text() for path in (ROOT / "components").glob("*.py"))
    for block in re.findall(r"class \w+Args\(TypedDict\):\n((?:    .*\n|\n)+)", sources):
        assert not re.search(r"^    \w+: [^=\n]+ = ", block, flags=re.M), block


def test_a_comma_separated_list_reads_like_a_yaml_sequence() -> None:
    repositories = ["https://dev.azure.com/contoso-platform/gitops/_git/cluster-config",
                    "https://dev.azure.com/contoso-platform/gitops/_git/team-apps"]
    set_all_config({**run_program("dev").config, f"{PROJECT}:repositories": " , ".join(repositories)}, [])
    settings = load_settings(pulumi.Config(PROJECT), stack="dev")
    assert [repo.url for repo in settings.azure_devops.repositories] == repositories


def test_the_template_prompts_only_for_declared_keys() -> None:
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    prompted = set(project["template"]["config"])
    assert prompted == {"azureDevOpsOrgUrl", "azureDevOpsProject", "repositories", "location"}
    assert prompted <= set(DECLARED)
    assert all("default" not in DECLARED[key] for key in prompted - {"location"}), "prompt for what has no default"


def render_configuration_table() -> list[str]:
    """The README's configuration rows as Pulumi.yaml's schema gives them."""
    def kind(declaration: dict[str, Any]) -> str:
        declared_type = declaration.get("type", "string")
        return f"array of {declaration['items']['type']}" if declared_type == "array" else declared_type

    def default(declaration: dict[str, Any]) -> str:
        if "default" not in declaration:
            return "*required*"
        value = declaration["default"]
        if isinstance(value, bool):
            return f"`{str(value).lower()}`"
        return {"": '`""`', "[]": "`[]`"}.get(str(value) if value != [] else "[]", f"`{value}`")

    return [f"| `{key}` | {kind(d)} | {default(d)} | {d['description']} |" for key, d in DECLARED.items()]


def test_the_readme_configuration_table_is_the_schema() -> None:
    readme = (ROOT / "README.md").read_text().splitlines()
    rows = [line for line in readme if re.match(r"^\| `\w+` \| (string|integer|boolean|array)", line)]
    assert rows == render_configuration_table()
