"""Every Kubernetes object the program creates is valid for the Kubernetes API; the chart values avoid its pitfalls.

Built-in objects are checked against the models of the Kubernetes client that the doctor already installs
(requirements-doctor.txt): pydantic models generated from Kubernetes 1.37's OpenAPI, which refuse unknown fields
and take every type strictly. A field that 1.37 has and an older cluster does not would pass here; the program
sets only stringData and metadata (name, namespace, labels, annotations) on core/v1 Secrets and Namespaces.
These models replaced kubernetes-validate, whose schemas for 13 Kubernetes versions were 17,000 of the 31,000
files `scripts/test` installed and 22 MB of its download, for those two kinds. Custom resources have no model;
their apiVersion, kind and metadata are checked by hand.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from kubernetes import client as kubernetes_api

from harness import EXTENSION, RELEASE, TEST_STACKS, run_program
from tools.offline.engine import ProgramRun, Resource, walk

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")

# The built-in kinds the program creates, by (apiVersion, kind), with the client's model of each.
MODELS = {("v1", "Secret"): kubernetes_api.V1Secret, ("v1", "Namespace"): kubernetes_api.V1Namespace}


def schema_problem(obj: dict[str, Any]) -> str | None:
    """What the Kubernetes API schema finds wrong with `obj` (a built-in object as the program sends it), or None."""
    model = MODELS.get((obj.get("apiVersion"), obj.get("kind")))
    if model is None:
        return f"no model for {obj.get('apiVersion')} {obj.get('kind')}: add the client's model to MODELS"
    try:
        parsed = model.model_validate(obj, strict=True, by_alias=True, by_name=False)
    except ValueError as error:  # pydantic's ValidationError, which names each field and what is wrong with it
        return str(error)
    # The models also accept Python's field names (string_data for stringData) and rename them; the API does not.
    if parsed.model_dump(by_alias=True, exclude_unset=True, mode="json") != obj:
        return "a field under its Python name instead of the API's"
    return None


def test_the_schema_check_finds_unknown_fields_wrong_types_and_python_names() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "repo", "namespace": "argocd"},
              "type": "Opaque", "stringData": {"url": "https://dev.azure.com/contoso/p/_git/r"}}
    assert schema_problem(secret) is None
    assert "spec" in str(schema_problem({**secret, "spec": {}}))
    assert "metadata.labelz" in str(schema_problem({**secret, "metadata": {"name": "repo", "labelz": {}}}))
    assert "immutable" in str(schema_problem({**secret, "immutable": "true"}))
    assert "stringData.url" in str(schema_problem({**secret, "stringData": {"url": 1}}))
    renamed = {key: value for key, value in secret.items() if key != "stringData"} | {"string_data": {"url": "x"}}
    assert schema_problem(renamed) == "a field under its Python name instead of the API's"
    assert "no model for apps/v1 Secret" in str(schema_problem({**secret, "apiVersion": "apps/v1"}))


# charts-sso is left out as on main: its chart values set repoServer.env, which CHART_VALUES does not list yet.
SCHEMA_STACKS = [stack for stack in TEST_STACKS if stack != "charts-sso"]


@pytest.fixture(scope="module", params=SCHEMA_STACKS)
def stack_run(request: pytest.FixtureRequest) -> ProgramRun:
    return run_program(request.param)


def kubernetes_objects(run: ProgramRun) -> list[Resource]:
    """Objects the program applies directly (the Helm release renders its own, which the chart owns)."""
    return [r for r in run.resources if r.type.startswith("kubernetes:") and r.custom and r.type != RELEASE]


def _is_custom_resource(resource: Resource) -> bool:
    group = resource.inputs["apiVersion"].split("/")[0] if "/" in resource.inputs["apiVersion"] else ""
    return "." in group and not group.endswith(".k8s.io")


def test_built_in_objects_match_the_kubernetes_schema(stack_run: ProgramRun) -> None:
    built_in = [r for r in kubernetes_objects(stack_run) if not _is_custom_resource(r)]
    assert built_in, "nothing to validate"
    for resource in built_in:
        assert schema_problem(resource.inputs) is None, f"{resource.name}: {schema_problem(resource.inputs)}"


def test_custom_resources_have_a_valid_shape(stack_run: ProgramRun) -> None:
    for resource in kubernetes_objects(stack_run):
        if not _is_custom_resource(resource):
            continue
        _, api_version, kind = resource.type.split(":")
        assert resource.inputs["apiVersion"] == api_version == "argoproj.io/v1alpha1"
        assert resource.inputs["kind"] == kind == "Application"
        metadata = resource.inputs["metadata"]
        assert set(metadata) <= {"name", "namespace", "labels", "annotations", "finalizers"}
        assert _DNS_SUBDOMAIN.match(metadata["name"]) and _DNS_LABEL.match(metadata["namespace"])
        assert isinstance(resource.inputs["spec"], dict)


def test_labels_and_annotations_are_valid_keys_with_string_values(stack_run: ProgramRun) -> None:
    """The schemas only say "map of string"; the API server also checks label syntax, so it is checked here."""
    for resource in kubernetes_objects(stack_run):
        metadata = resource.inputs["metadata"]
        for kind in ("labels", "annotations"):
            for key, value in metadata.get(kind, {}).items():
                prefix, _, name = key.rpartition("/")
                assert not prefix or _DNS_SUBDOMAIN.match(prefix), f"{resource.name}: bad {kind} key {key!r}"
                assert _LABEL_NAME.match(name), f"{resource.name}: bad {kind} key {key!r}"
                assert isinstance(value, str), f"{resource.name}: {kind} {key} is {value!r}, not a string"
                if kind == "labels":
                    assert _LABEL_VALUE.match(value), f"{resource.name}: bad label value {value!r}"


# Keys of the argo-cd chart's values.yaml (argoproj/argo-helm charts/argo-cd/values.yaml, chart 10.1.1) along
# the paths the program sets. FREE marks a map whose keys are the user's and whose values the chart renders
# verbatim into annotations, labels or ConfigMaps: there a YAML bool renders as `true`, which Kubernetes
# refuses in an annotation and Argo CD's ParseBool-reading Secrets/params need as the string "true".
FREE = "free-form map of strings"
_WORKLOAD = {
    "serviceAccount": {"annotations": FREE, "automountServiceAccountToken": None, "create": None, "labels": FREE, "name": None},
    "podAnnotations": FREE, "podLabels": FREE, "deploymentAnnotations": FREE, "deploymentLabels": FREE,
}
CHART_VALUES = {
    "nameOverride": None, "fullnameOverride": None, "namespaceOverride": None, "kubeVersionOverride": None,
    "apiVersionOverrides": None, "createAggregateRoles": None, "createClusterRoles": None, "openshift": None,
    "crds": None, "global": None, "extraObjects": None, "controller": None, "dex": None, "redis": None,
    "redis-ha": None, "externalRedis": None, "redisSecretInit": None, "server": None, "applicationSet": None,
    "notifications": None,
    "repoServer": _WORKLOAD,
    "commitServer": {**_WORKLOAD, "enabled": None},
    "configs": {
        "cm": FREE, "params": FREE, "rbac": FREE, "gpg": None, "ssh": None, "tls": None, "cmp": None,
        "clusterCredentials": None, "credentialTemplatesAnnotations": FREE, "repositoriesAnnotations": FREE,
        "secret": None, "styles": None,
        "repositories": {"*": FREE}, "credentialTemplates": {"*": FREE},
    },
}


def check_values(values: dict[str, Any], known: dict[str, Any], path: str = "") -> list[str]:
    """Problems with `values` against the known keys: unknown keys, and non-strings in free-form maps."""
    problems = []
    for key, value in values.items():
        where = f"{path}.{key}" if path else key
        if key not in known and "*" not in known:
            problems.append(f"{where}: not a key of the argo-cd chart")
            continue
        expected = known.get(key, known.get("*"))
        if expected == FREE:
            problems += [f"{where}.{leaf}: {leaf_value!r} is not a string" for leaf, leaf_value in walk(value)
                         if not isinstance(leaf_value, str)]
        elif isinstance(expected, dict):
            if not isinstance(value, dict):
                problems.append(f"{where}: a map in the chart, {type(value).__name__} here")
            else:
                problems += check_values(value, expected, where)
    return problems


def test_the_value_checker_catches_the_pitfalls() -> None:
    assert check_values({"repoServer": {"podLabels": {"azure.workload.identity/use": True}}}, CHART_VALUES)
    assert check_values({"configs": {"repositories": {"r": {"useAzureWorkloadIdentity": True}}}}, CHART_VALUES)
    assert check_values({"repoServer": {"serviceAcount": {"name": "x"}}}, CHART_VALUES)
    assert check_values({"reposerver": {}}, CHART_VALUES)
    assert check_values({"configs": {"params": {"hydrator.enabled": "true"}}}, CHART_VALUES) == []


def test_install_values_use_known_keys_and_strings_where_strings_are_rendered(stack_run: ProgramRun) -> None:
    releases, extensions = stack_run.of_type(RELEASE), stack_run.of_type(EXTENSION)
    assert len(releases) + len(extensions) == 1
    for release in releases:
        assert check_values(release.inputs["values"], CHART_VALUES) == []
    for extension in extensions:
        # configurationSettings is a map of strings in ARM: the extension's chart gets every value as text.
        settings = extension.inputs["configurationSettings"]
        assert settings and all(isinstance(value, str) for value in settings.values()), settings
