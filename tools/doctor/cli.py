"""scripts/doctor: the arguments, the output (text or JSON) and the exit status; the diagnosis is diagnosis.py.

Exit status 0 when every link holds, 1 when one is broken, 2 when the doctor could not run or could not check
a link (one line, no traceback).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from tools.doctor.azure_cli import AzureCli
from tools.doctor.environment import Environment
from tools.doctor.report import (
    EXIT_COULD_NOT_RUN,
    CannotRunError,
    Redactor,
    exit_code,
    render_cannot_run_json,
    render_json,
    render_text,
)


def parser() -> argparse.ArgumentParser:
    parsed = argparse.ArgumentParser(
        prog="scripts/doctor",
        description="Walk the chain Argo CD uses to read private Azure DevOps repositories with Entra Workload ID, "
        "on a stack that pulumi up built, and name the broken link with its fix. Run after `az login`.",
        epilog="Exit status: 0 every link holds, 1 a link is broken, 2 the doctor could not run. See docs/doctor.md.",
    )
    parsed.add_argument("stack", nargs="?", help="Pulumi stack (default: the selected stack)")
    parsed.add_argument("--outputs", type=Path, metavar="FILE.json",
                        help="the stack's outputs (`pulumi stack output --json`), so no Pulumi CLI is needed")
    parsed.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parsed.add_argument("--context", help="kubeconfig context (default: the one named after the cluster, else the current one)")
    parsed.add_argument("--json", action="store_true", help="print the findings as JSON (for CI)")
    return parsed


def main(argv: Sequence[str] | None = None, environment: Environment | None = None) -> int:
    env = environment or Environment()
    args = parser().parse_args(argv)
    # Library warnings (azure-identity logs each failed token request) would repeat a finding without its fix.
    for name in ("azure", "kubernetes", "urllib3", "msal"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    redact = Redactor()
    try:
        # The Azure login comes first, and the diagnosis (with the Kubernetes and Pulumi SDKs it loads, about
        # 1.5 s) only after it: --help, a mistyped flag, a missing az or an expired login answer at once.
        azure = AzureCli(env.az)
        azure.ensure_logged_in()
        from tools.doctor.diagnosis import diagnose

        checks = diagnose(args, env, azure, redact)
    except CannotRunError as error:
        return _could_not_run(args, env, redact(str(error)))
    except KeyboardInterrupt:
        return _could_not_run(args, env, "interrupted")
    except Exception as error:  # never a traceback: the one line names what failed
        return _could_not_run(args, env, redact(f"unexpected {type(error).__name__}: {error}"))
    title = f"doctor: stack {args.stack or '(selected)'}"
    env.stdout.write(redact(render_json(args.stack, checks) if args.json else render_text(title, checks)) + "\n")
    return exit_code(checks)


def _could_not_run(args: argparse.Namespace, env: Environment, reason: str) -> int:
    if args.json:
        env.stdout.write(render_cannot_run_json(args.stack, reason) + "\n")
    env.stderr.write(f"doctor: could not run: {reason}\n")
    return EXIT_COULD_NOT_RUN
