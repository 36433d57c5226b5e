"""Entry point the Pulumi CLI runs for `--policy-pack policy`; the rules themselves live in rules.py."""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import ALL_POLICIES

PolicyPack(
    name="argocd-workload-identity",
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
)
