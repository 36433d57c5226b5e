"""scripts/e2e: prove the whole chain on a real subscription with one throw-away stack, then leave nothing behind.

Exit status: 0 passed and cleaned up, 1 a step failed or something was left behind (the report says what, with the
command that removes it), 2 the environment does not say where to run (nothing was created).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tools.e2e.plan import VARIANTS, E2eEnvironment, E2eSetupError, describe_variables

COST = (
    "Cost per run: one AKS cluster with two Standard_D4ds_v5 nodes for about 30-45 minutes (the fleet variant adds "
    "nothing: it adopts an existing spoke), a managed identity and an Azure DevOps Basic licence while the stack "
    "exists; see docs/e2e.md."
)


def parser() -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(
        prog="scripts/e2e",
        description="Create a uniquely named throw-away stack, pulumi up, run the doctor, check the bootstrap "
        "Application synced from the private repository, add a repository in place and check nothing is replaced, "
        "then pulumi destroy, check nothing is left and remove the stack, also when a step fails.",
        epilog=f"Environment: {describe_variables()}. {COST} Exit status: 0 passed, 1 failed or left something "
        "behind, 2 not configured.",
    )
    parsed.add_argument("variant", nargs="?", default="helm", choices=VARIANTS,
                        help="helm (the argo-cd chart), extension (the AKS extension) or fleet (a hub with one adopted spoke)")
    parsed.add_argument("--preflight", action="store_true",
                        help="only check the arguments and the environment (nothing is installed or created)")
    return parsed


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        environment = E2eEnvironment.from_environ(os.environ, args.variant)
    except E2eSetupError as error:
        print(f"e2e: not run: {error}", file=sys.stderr)
        return 2
    if args.preflight:
        return 0
    # Imported only now: --help and a missing environment answer without loading the Pulumi SDK.
    from tools.e2e.automation import AutomationWorkspace
    from tools.e2e.cloud import AzureCloud
    from tools.e2e.runner import run_e2e

    def log(line: str) -> None:
        print(line.rstrip("\n"), flush=True)

    report = run_e2e(args.variant, environment, AutomationWorkspace(log), AzureCloud(), log)
    print(report.render())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
