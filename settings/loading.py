"""The one entry point: read the stack's config, check every key, and return Settings or raise one ConfigError."""

from __future__ import annotations

import difflib
import os
from collections import Counter
from collections.abc import Mapping
from enum import StrEnum

import pulumi

from settings.charts import chart_settings
from settings.fleet import fleet_settings
from settings.model import PROJECT, ConfigError, ExtensionInstall, ServiceAccount, Settings
from settings.reader import CREDENTIAL_WORDS, ConfigReader, compact, naming_rule
from settings.rules import (
    CREDENTIAL_ENV_VARS,
    DEVOPS,
    EXTENSION,
    KUBERNETES_NAMES,
    MAX_FEDERATED_CREDENTIALS,
    MIN_NODES_FOR_EXTENSION_HA,
    NO_PAT,
    PAT_FREE_OPTIONS,
    SCHEMA,
    WORKLOAD_IDENTITY,
    is_dns_label,
    is_dns_subdomain,
    is_issuer_url,
    stable_hash,
)
from settings.runtime_config import all_config_keys
from settings.schema import declared_config
from settings.sections import argocd_settings, azure_devops_settings, cluster_settings


class Protection(StrEnum):
    """protectResources: protect the cluster and the identity from deletion."""

    AUTO = "auto"
    """On for every stack but dev."""
    ON = "true"
    OFF = "false"


def load_settings(config: pulumi.Config | None = None, stack: str | None = None) -> Settings:
    """Read and validate the whole configuration; raise one ConfigError naming every bad key."""
    reader = ConfigReader(config or pulumi.Config(PROJECT), declared_config())
    stack = stack or pulumi.get_stack()
    every_key = all_config_keys()

    _refuse_credentials(reader, every_key)
    _refuse_unknown_keys(reader, every_key)

    cluster = cluster_settings(reader)
    _refuse_a_second_region(reader, every_key, cluster.location)
    azure_devops = azure_devops_settings(reader)
    charts = chart_settings(reader)
    argocd = argocd_settings(reader, azure_devops, charts)
    additional_issuers = tuple(
        reader.matching("additionalIssuers", issuer, is_issuer_url, "HTTPS OIDC issuer URLs", rule=WORKLOAD_IDENTITY)
        for issuer in reader.strings("additionalIssuers")
    )
    additional_accounts = []
    for text in reader.strings("additionalServiceAccounts"):
        account = _parse_service_account(text)
        if account is None:
            reader.fail("additionalServiceAccounts", text, '"namespace/name" (DNS-1123 names)', rule=KUBERNETES_NAMES)
        else:
            additional_accounts.append(account)

    fleet = fleet_settings(reader, cluster, argocd)
    protection = reader.choice("protectResources", Protection)
    settings = Settings(
        stack=stack,
        protect=(stack != "dev") if protection == Protection.AUTO else protection == Protection.ON,
        cluster=cluster,
        azure_devops=azure_devops,
        argocd=argocd,
        charts=charts,
        additional_issuers=additional_issuers,
        additional_service_accounts=tuple(additional_accounts),
        fleet=fleet,
    )
    _check_cross_field_rules(reader, settings)
    if reader.problems:
        raise ConfigError(reader.problems)
    return settings


def wants_extension_high_availability(settings: Settings) -> bool:
    """The extension's high-availability mode, which needs MIN_NODES_FOR_EXTENSION_HA nodes."""
    install = settings.argocd.install
    return isinstance(install, ExtensionInstall) and install.high_availability


def check_existing_cluster_capacity(settings: Settings, node_count: int) -> None:
    """The extension's HA mode on an adopted cluster: its node count is only known after the lookup."""
    if wants_extension_high_availability(settings) and node_count < MIN_NODES_FOR_EXTENSION_HA:
        raise ConfigError([naming_rule(
            f"{PROJECT}:extensionHighAvailability = 'true': the existing cluster has {node_count} nodes, "
            f"redis-ha needs at least {MIN_NODES_FOR_EXTENSION_HA}; set it false or add nodes", EXTENSION,
        )])


def _parse_service_account(text: str) -> ServiceAccount | None:
    namespace, _, name = text.partition("/")
    if is_dns_label(namespace) and is_dns_subdomain(name):
        return ServiceAccount(namespace, name, key=f"extra-{stable_hash(text)}")
    return None


def _refuse_credentials(reader: ConfigReader, every_key: Mapping[str, str]) -> None:
    for full_key in sorted(every_key):
        namespace, _, key = full_key.partition(":")
        if namespace in (PROJECT, "azuredevops", "kubernetes") and CREDENTIAL_WORDS.search(compact(key)):
            reader.refuse(f"{full_key} is set: {PAT_FREE_OPTIONS}", rule=NO_PAT)
    for variable in CREDENTIAL_ENV_VARS:
        if os.environ.get(variable):
            reader.refuse(
                f"environment variable {variable} is set: the Azure DevOps provider would use it; {PAT_FREE_OPTIONS}", rule=NO_PAT
            )


# Keys this program read once and no longer does, with what replaced them: a stack that still sets one is told why.
RETIRED_KEYS = {
    "azureDevOpsAccessLevel": "the identity's entitlement is always Basic, the one access level that reads code "
    "(Stakeholder gets 401/403); remove the key",
}


def _refuse_unknown_keys(reader: ConfigReader, every_key: Mapping[str, str]) -> None:
    declared = reader.declared
    for full_key in sorted(every_key):
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT or key in declared or CREDENTIAL_WORDS.search(key.lower()):
            continue
        if key in RETIRED_KEYS:
            reader.refuse(f"{full_key} is retired: {RETIRED_KEYS[key]}", rule=DEVOPS)
            continue
        close = difflib.get_close_matches(key, sorted(declared), n=1)
        hint = f"did you mean {close[0]}?" if close else "see Pulumi.yaml for every key"
        reader.refuse(f"{full_key} is not a key this program reads: {hint}", rule=SCHEMA)


def _refuse_a_second_region(reader: ConfigReader, every_key: Mapping[str, str], location: str) -> None:
    """Every resource is given `location` explicitly, so azure-native:location would be silently ignored."""
    provider_location = every_key.get("azure-native:location")
    if provider_location is not None and provider_location.strip() != location:
        reader.refuse(
            f"azure-native:location = {provider_location!r} differs from {PROJECT}:location = {location!r}: the program "
            f"puts every resource in {PROJECT}:location; remove azure-native:location (or make it the same)", rule=SCHEMA
        )


def _check_cross_field_rules(reader: ConfigReader, settings: Settings) -> None:
    cluster = settings.cluster
    if wants_extension_high_availability(settings) and cluster.existing is None and cluster.node_count < MIN_NODES_FOR_EXTENSION_HA:
        reader.fail(
            "nodeCount", cluster.node_count,
            f"at least {MIN_NODES_FOR_EXTENSION_HA} with extensionHighAvailability true (redis-ha spreads over 4 nodes), "
            "or set extensionHighAvailability false", rule=EXTENSION,
        )
    subjects = Counter(account.subject for account in settings.trusted_service_accounts)
    for subject in sorted(s for s, count in subjects.items() if count > 1):
        reader.refuse(f"{PROJECT}:additionalServiceAccounts repeats {subject}: each service account once", rule=WORKLOAD_IDENTITY)
    if settings.federated_credential_count > MAX_FEDERATED_CREDENTIALS:
        reader.refuse(
            f"{PROJECT}:additionalIssuers/additionalServiceAccounts need {settings.federated_credential_count} federated "
            f"credentials ({len(settings.trusted_service_accounts)} service accounts x "
            f"{1 + len(settings.additional_issuers)} issuers), but one managed identity holds at most "
            f"{MAX_FEDERATED_CREDENTIALS}: split the clusters over several stacks, each with its own identity", rule=WORKLOAD_IDENTITY
        )
