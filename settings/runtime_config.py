"""The one place that uses Pulumi's private runtime config: listing every key the stack sets.

`pulumi.Config` reads one key at a time and has no public listing. The language host fills the runtime's config
map and the PULUMI_CONFIG environment variable, so both are read. If a future SDK moves them, only this module
(and its test) changes.
"""

from __future__ import annotations

import pulumi.runtime.config as runtime_config


def all_config_keys() -> dict[str, str]:
    """Every config value of the stack by its namespaced key (`argocd-aks-wi:nodeCount`, `azure-native:location`)."""
    keys: dict[str, str] = dict(runtime_config.get_config_env())
    keys.update(runtime_config.CONFIG.get())
    return keys
