"""Turns the stack's configuration into one frozen, validated Settings object.

This package is the only reader of `pulumi.Config`. Every key is checked before the program registers a single
resource; all problems are gathered into one ConfigError whose lines each name the key, the value and what would
be accepted. The seams: `model` (the values), `schema` (Pulumi.yaml, where every default lives), `runtime_config`
(the one use of Pulumi's private config listing), `reader` (typed reads), `devops_urls` (Azure DevOps URL rules),
`rules` (limits and vocabularies), `sections` (per-section parsing) and `loading` (the entry point).
"""

from settings.devops_urls import split_repository_url
from settings.loading import check_existing_cluster_capacity, load_settings
from settings.model import (
    PROJECT,
    AdoptedSpoke,
    ArgoCdSettings,
    AzureDevOpsSettings,
    BootstrapSettings,
    ClusterSettings,
    ConfigError,
    CreatedSpoke,
    ExistingCluster,
    ExtensionInstall,
    FleetSettings,
    GitPath,
    HelmChart,
    HelmInstall,
    Repository,
    ServiceAccount,
    Settings,
    Spoke,
)
from settings.reader import has_invisible_characters
from settings.rules import CREDENTIAL_ENV_VARS, stable_hash

__all__ = [
    "CREDENTIAL_ENV_VARS",
    "PROJECT",
    "AdoptedSpoke",
    "ArgoCdSettings",
    "AzureDevOpsSettings",
    "BootstrapSettings",
    "ClusterSettings",
    "ConfigError",
    "CreatedSpoke",
    "ExistingCluster",
    "ExtensionInstall",
    "FleetSettings",
    "GitPath",
    "HelmChart",
    "HelmInstall",
    "Repository",
    "ServiceAccount",
    "Settings",
    "Spoke",
    "check_existing_cluster_capacity",
    "has_invisible_characters",
    "load_settings",
    "split_repository_url",
    "stable_hash",
]
