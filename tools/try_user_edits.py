"""Do what the README asks of a new user, in a copy of the project, and check that nothing breaks.

Copies the project (tracked and untracked files, not ignored ones) into a temporary git repository, replaces
every PLACEHOLDER value of Pulumi.dev.yaml with other valid values (organisation, project, repositories,
region, node count, bootstrap path) and the same organisation, project and repository names in every other
Pulumi.<stack>.yaml, then runs `scripts/plan --all` and `scripts/test` there. The suite must pass on any
valid user configuration, because the tests read their own stacks (tests/stacks/), never these files.

    python tools/try_user_edits.py [--keep]    # about as long as scripts/test; reuses this project's .venv
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Every stack file: the same names, as a user with another organisation would write them.
RENAMES = (
    ("https://dev.azure.com/contoso-platform", "https://dev.azure.com/fabrikam-ops"),
    ("/gitops/_git/", "/delivery/_git/"),
    ("cluster-config", "fleet-manifests"),
    ("team-apps", "tenant-apps"),
)
# Pulumi.dev.yaml only: each `key: value` line the README tells a user to fill in, with another valid value.
DEV_VALUES = {
    "argocd-aks-wi:location": "swedencentral",
    "argocd-aks-wi:azureDevOpsProject": "delivery",
    "argocd-aks-wi:nodeCount": "3",
    "argocd-aks-wi:bootstrapPath": "environments/dev",
}
# A stack file's value of the project key, e.g. `  azureDevOpsProject: gitops`.
_PROJECT_LINE = re.compile(r"^(\s*argocd-aks-wi:azureDevOpsProject:\s*)gitops\s*$", re.M)


def copy_project(target: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "copy"]):
        subprocess.run(["git", *command], cwd=target, check=True)
    if (ROOT / ".venv").is_dir():  # after the commit: git would track a symlink named .venv
        (target / ".venv").symlink_to(ROOT / ".venv")


def edit_stack_files(project: Path) -> list[str]:
    """Rewrite the stack files as a user would; returns what changed in Pulumi.dev.yaml, for the log."""
    changed: list[str] = []
    for stack_file in sorted(project.glob("Pulumi.*.yaml")):
        text = stack_file.read_text()
        for old, new in RENAMES:
            text = text.replace(old, new)
        text = _PROJECT_LINE.sub(r"\1delivery", text)
        if stack_file.name == "Pulumi.dev.yaml":
            for key, value in DEV_VALUES.items():
                text, count = re.subn(rf"^(\s*{re.escape(key)}:\s*).*$", rf"\g<1>{value}", text, flags=re.M)
                if count:
                    changed.append(f"{key}: {value}")
            if "fabrikam-ops/delivery/_git/" not in text or len(changed) < len(DEV_VALUES):
                raise SystemExit(f"Pulumi.dev.yaml changed shape (rewrote only {changed}): update this script")
        stack_file.write_text(text)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the temporary copy and print where it is")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="user-edits-"))
    try:
        copy_project(folder)
        changed = edit_stack_files(folder)
        print(f"copy in {folder}; Pulumi.dev.yaml now sets " + ", ".join(changed), flush=True)
        print((folder / "Pulumi.dev.yaml").read_text(), flush=True)
        status = 0
        for script in (["bash", "scripts/plan", "--all"], ["bash", "scripts/test"]):
            result = subprocess.run(script, cwd=folder, capture_output=True, text=True)
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
            print(f"== {' '.join(script)}: exit {result.returncode}\n{tail}\n", flush=True)
            status = status or result.returncode
        print("PASS: the suite and the plan accept the user's values" if status == 0 else "FAIL", flush=True)
        return status
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
