"""Every Kubernetes object the program creates is valid for the cluster's version; the chart values avoid its pitfalls.

Objects are checked offline with kubernetes-validate (strict: unknown fields fail) against the schemas of the
stack's kubernetesVersion, or the newest version the package ships when that one is not bundled (an empty
kubernetesVersion means the AKS default, which is recent). Custom resources have no bundled schema; their
apiVersion, kind and metadata are checked by hand.
"""

from __future__ import annotations

import re
from typing import Any

import kubernetes_validate
import pytest
from kubernetes_validate import utils as kubernetes_validate_utils

from harness import EXTENSION, RELEASE, TEST_STACKS, run_program
from tools.offline.engine import ProgramRun, Resource, walk

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")


def schema_version(run: ProgramRun) -> str:
    """The bundled schema version for the run's kubernetesVersion (MAJOR.MINOR), else the newest bundled."""
    wanted = run.config.get("argocd-aks-wi:kubernetesVersion", "")
    major_minor = ".".join(wanted.split(".")[:2])
    shipped = kubernetes_validate_utils.all_versions()
    matching = [version for version in shipped if version.rsplit(".", 1)[0] == major_minor]
    return matching[-1] if matching else kubernetes_validate_utils.latest_version()


def test_a_pinned_kubernetes_version_is_validated_against_its_own_schemas() -> None:
    assert schema_version(run_program("dev", overrides={"kubernetesVersion": "1.35"})) == "1.35.0"


def test_the_aks_default_version_is_validated_against_the_newest_schemas() -> None:
    assert schema_version(run_program("dev", overrides={"kubernetesVersion": ""})) == kubernetes_validate_utils.latest_version()


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
    version = schema_version(stack_run)
    built_in = [r for r in kubernetes_objects(stack_run) if not _is_custom_resource(r)]
    assert built_in, "nothing to validate"
    for resource in built_in:
        try:
            kubernetes_validate.validate(resource.inputs, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{resource.name} is not a valid {resource.inputs['kind']} for Kubernetes {version}: {error.message}")


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
