"""Fuzzed configuration: whatever a key holds, the program ends in valid Settings or a ConfigError naming it.

Each case sets one declared key (on top of the dev stack) to a random or hostile config string, the form in
which the Pulumi CLI hands every value to the program: empty, huge, unicode, control characters, JSON of the
wrong type, injection-like text, lists where strings are expected and strings where lists are. The bulk calls
`settings.load_settings` directly; a smaller sample runs the whole program to show that a refused
configuration registers nothing and an accepted one registers a consistent stack.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any

import pulumi
import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pulumi.runtime.config import set_all_config

import settings as program_settings
from harness import ORG, ROOT, load_stack_config, run_program, stack_config
from settings import PROJECT, ConfigError, Settings, has_invisible_characters
from tools.offline.engine import Resource

DECLARED = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
DEV = stack_config("dev")
DEV_CONFIG = load_stack_config("dev")  # parsed once: the fuzz loop only changes one key of it
REPO = f"{ORG}/gitops/_git/cluster-config"

# Keys by the part of the program that reads them; every declared key is in exactly one group.
KEY_GROUPS = {
    "cluster": (
        "location", "existingClusterResourceGroup", "existingClusterName", "kubernetesVersion", "nodeCount",
        "nodeVmSize", "systemPoolName", "clusterAdminGroupObjectIds", "kubeloginMode", "deployerPrincipalType",
        "grantDeployerClusterAdmin", "protectResources", "longTermSupport",
    ),
    "azure-devops": (
        "azureDevOpsOrgUrl", "azureDevOpsProject", "repositories", "accessModel",
        "credentialTemplates",
    ),
    "argocd": (
        "argocdInstallMethod", "argocdNamespace", "argocdReleaseName", "repoServerServiceAccount",
        "argocdChartVersion", "sourceHydrator", "commitServerServiceAccount", "hydrationRepositories",
        "hydratorCreatesBranches",
    ),
    "extension-and-trust": (
        "extensionReleaseTrain", "extensionVersion", "extensionHighAvailability", "extensionSettings",
        "additionalIssuers", "additionalServiceAccounts",
    ),
    "fleet": ("spokes", "spokeAccessRole", "controllerServiceAccount"),
    "bootstrap": (
        "bootstrapApplication", "bootstrapRepository", "bootstrapPath", "bootstrapTimeoutSeconds", "bootstrapTargetRevision",
        "bootstrapChart", "bootstrapChartPushed",
    ),
    "charts": ("containerRegistries", "abacRegistries", "helmChartRepositories"),
    "single-sign-on": ("singleSignOn", "argocdUrl", "ssoGroupRoles", "ssoDisablesLocalAdmin", "serverServiceAccount"),
}
ALL_KEYS = tuple(key for keys in KEY_GROUPS.values() for key in keys)

# Values that flow into Azure, Kubernetes or Helm names and versions: accepted only in ASCII, whatever
# Unicode digits or letters Python's own parsers would take.
FREE_TEXT_KEYS = {
    "azureDevOpsProject", "repositories", "bootstrapRepository", "bootstrapPath", "extensionSettings", "hydrationRepositories",
    "existingClusterResourceGroup",  # Azure resource group names may hold Unicode letters
    "containerRegistries",  # "<resourceGroup>/<name>": the same resource group names
    "bootstrapTargetRevision",  # git names branches and tags in any script (git-check-ref-format(1))
}

# A refusal may rightly name the key the fuzzed one must agree with rather than the fuzzed key itself:
# a valid organisation URL that the configured repositories do not belong to is reported on `repositories`.
AGREES_WITH = {
    "azureDevOpsOrgUrl": {"repositories"},
    "azureDevOpsProject": {"repositories"},
    "accessModel": {"repositories"},
    "argocdInstallMethod": {"argocdNamespace", "sourceHydrator", "nodeCount"},
    "extensionHighAvailability": {"nodeCount"},
    "existingClusterResourceGroup": {"existingClusterName"},
    "existingClusterName": {"existingClusterResourceGroup"},
    "repositories": {"bootstrapRepository", "hydrationRepositories"},
    "sourceHydrator": {"hydrationRepositories"},
    "longTermSupport": {"kubernetesVersion"},
    "repoServerServiceAccount": {"additionalServiceAccounts"},
    "argocdNamespace": {"additionalServiceAccounts"},
    "singleSignOn": {"ssoGroupRoles"},
    "bootstrapApplication": {"bootstrapChart"},
    "bootstrapChartPushed": {"bootstrapChart"},
}

# Realistic values for keys whose default is empty, so that mutations start from something valid.
SAMPLE_VALUES: dict[str, Any] = {
    "existingClusterResourceGroup": "rg-platform",
    "existingClusterName": "aks-platform",
    "clusterAdminGroupObjectIds": ["3f2504e0-4f89-41d3-9a0c-0305e82c3301"],
    "extensionVersion": "1.0.0-preview",
    "extensionSettings": ["configs.cm.url=https://argocd.example.com"],
    "additionalIssuers": ["https://westeurope.oic.prod-aks.azure.com/tenant/cluster/"],
    "additionalServiceAccounts": ["argocd/argocd-applicationset-controller"],
    "bootstrapRepository": REPO,
    "containerRegistries": ["contosocharts", "rg-shared/contososhared"],
    "abacRegistries": ["contososhared"],
    "helmChartRepositories": ["contosocharts.azurecr.io/charts"],
    "bootstrapChart": "contosocharts.azurecr.io/charts/guestbook",
    "ssoGroupRoles": ["3f2504e0-4f89-41d3-9a0c-0305e82c3301=admin"],
    "hydrationRepositories": [REPO],
}

HOSTILE_TEXT = [
    "", " ", "\t", "\n", "\x00", "\x1b[31m", "\u200b", "\u202e", "\ufeff", "\u2028", "\ud800", "null", "None",
    "true", "True", "yes", "on", "0", "-1", "1e309", "NaN", "Infinity", "0x10", "1_000", "١٢", "1.٣٣",
    "9" * 5000, "a" * 70_000, "ａｒｇｏｃｄ", "ARGOCD", "argocd\n", " argocd ", "argo cd", "../../etc/passwd",
    "'; DROP TABLE settings;--", "$(rm -rf /)", "`id`", "${HOME}", "{{ .Values.secret }}", "<script>x</script>",
    "a=b=c", "=", "/", "a/", "/b", "::", "urn:pulumi:dev::x", "https://", "https://x@dev.azure.com/o",
    f"{ORG}/", f"{ORG}/gitops", f"{REPO}.git", f"{REPO}/", f"{REPO}%0A", REPO.replace("cluster-config", "a%2Fb"),
    REPO.replace("cluster-config", "%20x"), REPO.replace("https", "ssh"), REPO.upper(),
    "git@ssh.dev.azure.com:v3/contoso-platform/gitops/cluster-config",
    "[", "[[[[[[[[", "[" * 5000, "]", "{}", "[]", "[null]", "[1]", '[""]', '[" "]', "[[]]", '{"a": "b"}',
    '"quoted"', '["\\ud800"]', '["a\\u0000b"]', '["\\u202e"]', "\\u0000",
]


def _json_of_any_type() -> st.SearchStrategy[str]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
    nested = st.recursive(
        scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
        max_leaves=6,
    )
    return nested.map(json.dumps)


def _mutated(value: Any) -> st.SearchStrategy[str]:
    """The valid value with a hostile fragment inserted, or one list entry mutated."""
    fragment = st.sampled_from(["%0A", "%2F", "%00", " ", "@", "/", ":", "..", "١", "é", "*"]) | st.characters(
        categories=["Cc", "Cf", "Cs", "Zl", "Zp"]  # control, format, surrogate, line/paragraph separators
    )

    def insert(text: str) -> st.SearchStrategy[str]:
        return st.tuples(st.integers(0, len(text)), fragment).map(lambda pair: text[: pair[0]] + pair[1] + text[pair[0]:])

    if isinstance(value, list):
        if not value:
            return st.just("[]")
        return st.integers(0, len(value) - 1).flatmap(
            lambda index: insert(value[index]).map(lambda text: json.dumps([*value[:index], text, *value[index + 1:]]))
        )
    return insert(str(value))


def _valid_value(key: str) -> Any:
    return DEV.get(f"{PROJECT}:{key}", SAMPLE_VALUES.get(key, DECLARED[key].get("default", "")))


@functools.cache  # built once per key: hypothesis validates a new strategy object on every draw
def config_values(key: str) -> st.SearchStrategy[str]:
    """Config strings for `key`: hostile literals, random text, JSON of any type, lists and near-valid values."""
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.text(max_size=60),
        _json_of_any_type(),
        st.lists(st.text(max_size=30) | st.sampled_from(HOSTILE_TEXT[:40]), max_size=4).map(json.dumps),
        _mutated(_valid_value(key)),
        _mutated(_valid_value(key)),  # twice: near-valid values reach the deepest checks
    )


def load(key: str, value: str) -> Settings | ConfigError:
    """Settings for the dev stack with `key` set to the config string `value`, read as the program reads them."""
    set_all_config({**DEV_CONFIG, f"{PROJECT}:{key}": value}, [])
    try:
        return program_settings.load_settings(pulumi.Config(PROJECT), stack="dev")
    except ConfigError as error:
        return error


def _strings_in(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value):
        return [text for f in dataclasses.fields(value) for text in _strings_in(getattr(value, f.name))]
    if isinstance(value, (tuple, list)):
        return [text for item in value for text in _strings_in(item)]
    return []


def assert_valid_or_names_the_key(key: str, value: str) -> Settings | ConfigError:
    outcome = load(key, value)
    if isinstance(outcome, ConfigError):
        named = {key} | AGREES_WITH.get(key, set())
        assert any(f"{PROJECT}:{name}" in problem for problem in outcome.problems for name in named), (
            f"{key}={value!r} was refused without naming {sorted(named)}: {outcome.problems}"
        )
        return outcome
    for text in _strings_in(outcome):
        assert not has_invisible_characters(text), f"{key}={value!r} let {text!r} into Settings"
        assert text == text.strip(), f"{key}={value!r} let {text!r} (untrimmed) into Settings"
    if key not in FREE_TEXT_KEYS:
        assert value.strip().isascii(), f"{key}={value!r} was accepted although names and versions are ASCII"
    return outcome


FUZZ = hypothesis_settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_every_declared_key_is_fuzzed() -> None:
    assert sorted(ALL_KEYS) == sorted(DECLARED), "add new config keys to KEY_GROUPS so they are fuzzed"
    assert len(ALL_KEYS) == len(set(ALL_KEYS))


@pytest.mark.parametrize("group", sorted(KEY_GROUPS))
def test_any_value_gives_settings_or_an_error_naming_the_key(group: str) -> None:
    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(KEY_GROUPS[group]), label="key")
        assert_valid_or_names_the_key(key, data.draw(config_values(key), label="value"))

    run()


@FUZZ
@given(key=st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,30}", fullmatch=True), value=st.sampled_from(HOSTILE_TEXT[:20]))
def test_an_undeclared_key_is_refused_by_name(key: str, value: str) -> None:
    outcome = load(key, value)
    if key in DECLARED:
        return
    assert isinstance(outcome, ConfigError)
    assert any(f"{PROJECT}:{key}" in problem for problem in outcome.problems), outcome.problems


@pytest.mark.parametrize(
    ("key", "value"),
    [
        # Each of these once crashed load_settings or was accepted and broke the stack later.
        ("repositories", "[" * 5000),  # RecursionError from json.loads
        ("clusterAdminGroupObjectIds", "[" * 5000),
        ("repositories", json.dumps([REPO.replace("cluster-config", "a%0Ab")])),  # newline in a resource name
        ("repositories", json.dumps([REPO.replace("cluster-config", "\ud800")])),  # UnicodeEncodeError at registration
        ("repositories", json.dumps([REPO.replace("cluster-config", "%20x")])),
        # Same repository twice: two GitPermissions with one URN.
        ("repositories", json.dumps([REPO.replace("cluster-config", "a-b"), REPO.replace("cluster-config", "a%2Db")])),
        # One project in two spellings: two groups of one name in one Azure DevOps project.
        ("repositories", json.dumps([REPO, REPO.replace("gitops", "GitOps").replace("cluster-config", "x")])),
        ("azureDevOpsProject", "git\nops"),
        ("location", "west\u200beurope"),
        ("extensionSettings", json.dumps(["configs.cm.url\x00=x"])),
        ("nodeCount", "١٢"),  # int() takes Unicode digits
        ("nodeCount", "1_0"),  # and underscores
        ("kubernetesVersion", "1.٣٣"),  # \d in a regex takes Unicode digits
        ("argocdChartVersion", "١٠.٣.٣"),
        ("extensionVersion", "１.0.0"),
    ],
)
def test_values_found_by_fuzzing_are_refused_by_name(key: str, value: str) -> None:
    outcome = assert_valid_or_names_the_key(key, value)
    assert isinstance(outcome, ConfigError), f"{key}={value!r} was accepted"


@hypothesis_settings(max_examples=10, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_refused_configuration_registers_nothing_and_an_accepted_one_runs(data: st.DataObject) -> None:
    key = data.draw(st.sampled_from(ALL_KEYS), label="key")
    value = data.draw(config_values(key), label="value")
    registered: list[Resource] = []
    try:
        run = run_program("dev", overrides={key: value}, registered=registered)
    except ConfigError:
        assert registered == [], f"{key}={value!r} was refused after registering {[r.name for r in registered]}"
        return
    urns = [resource.urn for resource in run.resources]
    assert len(urns) == len(set(urns)), f"{key}={value!r} registered one URN twice"
