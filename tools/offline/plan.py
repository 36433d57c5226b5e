"""The offline plan: what `pulumi up` would build for a stack, and how the chained outputs flow.

Runs the real program on the mock engine, prints every resource grouped by component with every value that
would reach its provider, then the output flow (issuer URL, client ID, principal ID, ...), and writes a
Mermaid diagram. Values only a provider knows are shown as ⟨placeholders⟩ naming their origin; secrets are
masked. A bad configuration prints the same error `pulumi up` would and exits with status 2.

    python -m tools.offline.plan [--stack dev | --stack-file PATH | --all-stacks] [--out out]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.offline.engine import (
    ROOT,
    ProgramRun,
    Resource,
    end_runs,
    project_stack_file,
    run_program,
    stack_files,
    stack_name,
    walk,
)

SECRET_MASK = "[secret]"
# Inputs every Kubernetes object repeats; they say nothing about this stack.
_NOISE = {"apiVersion", "kind"}
_MAX_VALUE = 110


@dataclass(frozen=True)
class Flow:
    """One provider-generated value and every place it is consumed."""

    label: str
    consumers: tuple[str, ...]


def short_type(type_: str) -> str:
    """`azure-native:containerservice:ManagedCluster` -> `ManagedCluster`, providers -> `provider/<pkg>`."""
    if type_.startswith("pulumi:providers:"):
        return f"provider/{type_.rsplit(':', 1)[-1]}"
    return type_.rsplit(":", 1)[-1]


def render_value(run: ProgramRun, value: Any) -> str:
    """A value as the plan shows it: placeholders named, long text shortened."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value)
    label = run.label(text)
    if label:
        return f"⟨{label}⟩"
    for generated, origin in run.placeholders.items():
        if len(generated) >= 8 and generated in text:
            text = text.replace(generated, f"⟨{origin}⟩")
    text = text.replace("\n", "⏎")
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def resource_lines(run: ProgramRun, resource: Resource) -> list[str]:
    """`path = value` for every input that reaches the provider, secrets masked."""
    lines = []
    for path, value in sorted(walk(resource.inputs)):
        if path.split(".", 1)[0] in _NOISE:
            continue
        secret = any(path == p or path.startswith(f"{p}.") or p == "" for p in resource.secret_paths)
        lines.append(f"{path} = {SECRET_MASK if secret else render_value(run, value)}")
    options = [name for name in ("protect", "delete_before_replace") if resource.options.get(name)]
    if options:
        lines.append("options: " + ", ".join(options))
    return lines


def flows(run: ProgramRun) -> list[Flow]:
    """Each generated value that another resource consumes, with its consumers (inputs and stack outputs)."""
    consumers: dict[str, list[str]] = {}
    # In the order the plan lists resources: registration order changes from run to run, a reviewed plan must not.
    in_plan_order = [resource for members in components(run).values() for resource in members]
    for resource in in_plan_order:
        for path, value in sorted(walk(resource.inputs)):
            label = run.label(value)
            if label and not label.startswith(("Azure name of", "id of")):
                consumers.setdefault(label, []).append(f"{short_type(resource.type)} {resource.name} · {path}")
    for name, value in sorted(run.stack_outputs.items()):
        label = run.label(value)
        if label and label in consumers:
            consumers[label].append(f"stack output {name}")
    return [Flow(label, tuple(places)) for label, places in consumers.items()]


# The order __main__.py chains the components in; registration order itself varies from run to run.
_COMPONENT_ORDER = ("stack", "AksCluster", "WorkloadIdentity", "AzureDevOpsAccess", "ArgoCdRelease", "ArgoCdExtension")


def _depth(run: ProgramRun, resource: Resource, memo: dict[str, int]) -> int:
    """Length of the longest dependency chain below `resource`: a stable, readable order."""
    if resource.urn not in memo:
        memo[resource.urn] = 0
        below = [run.index[u] for u in run.direct_dependencies(resource) if u in run.index]
        memo[resource.urn] = 1 + max((_depth(run, r, memo) for r in below), default=-1)
    return memo[resource.urn]


def components(run: ProgramRun) -> dict[str, list[Resource]]:
    """Custom resources and providers by the top-level component that owns them, in dependency order."""
    grouped: dict[tuple[int, str], list[Resource]] = {}
    for resource in run.resources:
        if not resource.custom:
            continue
        owner = run.component_of(resource)
        kind = short_type(owner.type) if owner else "stack"
        rank = _COMPONENT_ORDER.index(kind) if kind in _COMPONENT_ORDER else len(_COMPONENT_ORDER)
        heading = f"{owner.name} ({kind})" if owner else "stack"
        grouped.setdefault((rank, heading), []).append(resource)
    memo: dict[str, int] = {}
    return {
        heading: sorted(members, key=lambda r: (_depth(run, r, memo), r.name))
        for (_, heading), members in sorted(grouped.items())
    }


def render_text(run: ProgramRun) -> str:
    config = {key.split(":", 1)[1]: value for key, value in run.config.items() if key.startswith("argocd-aks-wi:")}
    cluster_mode = "adopt existing" if config.get("existingClusterName") else "new"
    out = [
        f"Offline plan for stack {run.stack!r}: what `pulumi up` would build (mock engine, nothing deployed)",
        f"Argo CD install: {config.get('argocdInstallMethod')} · cluster: {cluster_mode} · "
        f"access model: {config.get('accessModel')} · "
        f"{'credential templates' if config.get('credentialTemplates') == 'true' else 'repository secrets'}",
        f"{sum(r.custom and not r.type.startswith('pulumi:providers:') for r in run.resources)} resources; "
        "⟨…⟩ = known only after the provider creates it; [secret] = stored encrypted",
        "",
    ]
    for heading, members in components(run).items():
        out.append(f"━━ {heading}")
        for resource in members:
            out.append(f"  + {short_type(resource.type)}  {resource.name}")
            out.extend(f"      {line}" for line in resource_lines(run, resource))
        out.append("")
    out.append("━━ How the outputs flow")
    for flow in flows(run):
        out.append(f"  ⟨{flow.label}⟩")
        out.extend(f"      → {place}" for place in flow.consumers)
    out.append("")
    out.append("━━ Stack outputs")
    for name, value in sorted(run.stack_outputs.items()):
        masked = name in run.secret_outputs
        if isinstance(value, list):
            out.append(f"  {name}:")
            out.extend(f"    - {SECRET_MASK if masked else render_value(run, item)}" for item in value)
        else:
            out.append(f"  {name} = {SECRET_MASK if masked else render_value(run, value)}")
    return "\n".join(out)


def _mermaid_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", text)


def _node_ids(resources: Iterable[Resource]) -> dict[str, str]:
    """A Mermaid node id for each resource (by URN): its name with every other character as "_", numbered when two
    names come out the same, as devops-platform/team-apps-read and devops-platform-team/apps-read do."""
    ids: dict[str, str] = {}
    for resource in sorted(resources, key=lambda r: r.urn):  # numbered the same way whatever the registration order
        base = candidate = "n" + _mermaid_id(resource.name)
        number = 1
        while candidate in ids.values():
            number += 1
            candidate = f"{base}_{number}"
        ids[resource.urn] = candidate
    return ids


def _label(text: str) -> str:
    """`text` inside a quoted Mermaid label, where a double quote would end it (a repository may be named a"b)."""
    return text.replace('"', "#quot;")


def render_mermaid(run: ProgramRun) -> str:
    """A flowchart of the resources by component, edges labelled with the chained output they carry."""
    shown = {r.urn: r for r in run.resources if r.custom}
    node = _node_ids(shown.values())
    lines = ["flowchart LR"]
    for heading, members in components(run).items():
        lines.append(f'  subgraph {_mermaid_id(heading)}["{_label(heading)}"]')
        lines.extend(f'    {node[r.urn]}["{short_type(r.type)}<br/>{_label(r.name)}"]' for r in members)
        lines.append("  end")
    for resource in shown.values():
        carried = {run.label(v) for _, v in walk(resource.inputs)} - {None}
        for urn in sorted(run.direct_dependencies(resource)):
            source = shown.get(urn)
            if source is None:
                continue
            labels = sorted(
                str(label).split(" of ")[0] for label in carried
                if str(label).endswith(f" of {source.name}") and not str(label).startswith(("Azure name", "id of"))
            )
            arrow = f" -->|{', '.join(labels)}| " if labels else " --> "
            lines.append(f"  {node[source.urn]}{arrow}{node[resource.urn]}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", default="dev", help="stack whose Pulumi.<stack>.yaml to plan (default dev)")
    parser.add_argument("--stack-file", type=Path, help="plan this stack file instead (the stack is named after it)")
    parser.add_argument("--all-stacks", action="store_true", help="plan every Pulumi.<stack>.yaml in the project")
    parser.add_argument("--out", default=str(ROOT / "out"), help="folder for the Mermaid diagrams (default out/)")
    args = parser.parse_args(argv)

    from settings import ConfigError  # the program's own error type, imported with the project on the path

    if args.stack_file:
        files = [args.stack_file]
    else:
        files = [project_stack_file(stack) for stack in (stack_files() if args.all_stacks else [args.stack])]
    # A stack without its file has no config here, and the program would refuse it for every required key; offline
    # that is most likely a mistyped name, so say that instead.
    missing = [stack_file for stack_file in files if not stack_file.is_file()]
    if missing:
        known = ", ".join(stack_files()) or "none"
        for stack_file in missing:
            print(f"no stack file {stack_file}; the stacks with one here: {known}. "
                  "To start a new stack, copy Pulumi.dev.yaml to Pulumi.<stack>.yaml and edit it.", file=sys.stderr)
        return 2
    status = 0
    for stack_file in files:
        stack = stack_name(stack_file)
        try:
            run = run_program(stack_file)
        except ConfigError as error:
            print(f"stack {stack!r}: {error}", file=sys.stderr)
            status = 2
            continue
        print(render_text(run))
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        diagram = out / f"plan-{stack}.mmd"
        diagram.write_text(render_mermaid(run))
        print(f"\nMermaid diagram of the graph: {diagram}\n")
    return status


if __name__ == "__main__":
    exit_status = main()
    end_runs()
    sys.exit(exit_status)
