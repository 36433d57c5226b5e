"""Performance benchmark (issue 7): what evaluating the program costs, and how long `pulumi up` must take.

Prints, measured in one run:
  (a) the dev stack's evaluation under the mock engine against the floor of importing only the SDK classes
      and functions the dev stack uses, each in fresh processes (median wall time, CPU time, peak RSS);
  (b) the critical path of `pulumi up` against the lower bound (tools/offline/critical_path.py), with every edge
      on it that the lower-bound chain does not need;
  (c) evaluation for 1, 10, 100 and 300 repositories (over up to 10 projects, accessModel repositories)
      and the marginal cost per repository;
  (d) the wall time of the whole test suite as `scripts/test` runs it (`python -m pytest -q --numprocesses=auto`).
and PASS/FAIL against the targets of issue 7. Run it with `tools/bench/run` (creates .venv when missing).

Time ratios are judged on CPU time (user + system of the measured process): on a shared machine wall
time also counts the time spent waiting for other processes. Wall time is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.offline.critical_path import (  # noqa: E402
    MANAGED_CLUSTER,
    critical_path,
    lower_bound,
    summary,
)
from tools.offline.engine import ProgramRun, load_stack_config, project_stack_file, run_program  # noqa: E402

TARGET_TIME_RATIO = 1.25
TARGET_MEMORY_RATIO = 1.25
TARGET_MS_PER_REPOSITORY = 5.0
TARGET_SUITE_SECONDS = 30.0
REPOSITORY_COUNTS = (1, 10, 100, 300)
MAX_PROJECTS = 10
OFF_THE_PATH = (
    "azure-native:managedidentity:UserAssignedIdentity",
    "azure-native:authorization:RoleAssignment",
    "azuredevops:",
)

# SDK packages by the package part of a type token; the floor imports from these only.
SDK_PACKAGES = {
    "azure-native": "pulumi_azure_native",
    "kubernetes": "pulumi_kubernetes",
    "azuredevops": "pulumi_azuredevops",
    "random": "pulumi_random",
}


@dataclass(frozen=True)
class Sample:
    """One fresh process: wall seconds, CPU seconds (user + system), peak resident memory in MB."""

    wall: float
    cpu: float
    rss_mb: float


@dataclass(frozen=True)
class Measured:
    """The median of several samples of one piece of code."""

    wall: float
    cpu: float
    rss_mb: float
    samples: int

    @classmethod
    def of(cls, samples: Sequence[Sample]) -> Measured:
        return cls(
            wall=statistics.median(s.wall for s in samples),
            cpu=statistics.median(s.cpu for s in samples),
            rss_mb=statistics.median(s.rss_mb for s in samples),
            samples=len(samples),
        )


@dataclass(frozen=True)
class Verdict:
    target: str
    passed: bool
    measured: str


# ----------------------------------------------------------------------------------------------------
# Fresh processes
# ----------------------------------------------------------------------------------------------------


# Appended to measured code: the process's own peak resident memory in kB. On Linux, VmHWM of its memory
# map; rusage's maxrss would also count the copy of this (much larger) benchmark process that was forked
# before exec. Elsewhere maxrss is the best there is (kilobytes on Linux, bytes on macOS).
_REPORT_PEAK = """
import re as _re, resource as _resource, sys as _sys
try:
    _peak = int(_re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))
except OSError:
    _peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss // (1024 if _sys.platform == "darwin" else 1)
print(f"peak-rss-kb {_peak}")
"""


def run_fresh(args: Sequence[str]) -> tuple[Sample, int, str]:
    """Run `python <args>` in the project folder: wall and CPU time (its own rusage), exit code and output."""
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, *args], cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = exit_code = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    peak = re.findall(r"^peak-rss-kb (\d+)$", text, re.MULTILINE)
    rss_mb = int(peak[-1]) / 1024 if peak else float("nan")
    return Sample(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss_mb=rss_mb), exit_code, text


def measure_interleaved(codes: Sequence[str], repetitions: int) -> list[Measured]:
    """Median of `repetitions` fresh processes per code; the codes alternate so drift hits all alike."""
    samples: list[list[Sample]] = [[] for _ in codes]
    for _ in range(repetitions):
        for index, code in enumerate(codes):
            sample, exit_code, output = run_fresh(["-c", code + "\n" + _REPORT_PEAK])
            if exit_code != 0:
                raise RuntimeError(f"measured code failed (exit {exit_code}):\n{output[-3000:]}")
            samples[index].append(sample)
    return [Measured.of(found) for found in samples]


# ----------------------------------------------------------------------------------------------------
# (a) evaluation against the import floor
# ----------------------------------------------------------------------------------------------------


def sdk_imports(run: ProgramRun) -> list[str]:
    """`from <module> import <name>` for every SDK class and function the run registered or invoked."""
    needed: set[tuple[str, str]] = {("pulumi", "Output")}
    for resource in run.resources:
        if resource.custom:
            needed.add(_python_name_of_type(resource.type))
    for token, _ in run.invokes:
        needed.add(_python_name_of_invoke(token))
    by_module: dict[str, set[str]] = {}
    for module, name in needed:
        by_module.setdefault(module, set()).add(name)
    return [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(by_module.items())]


def _python_name_of_type(token: str) -> tuple[str, str]:
    if token.startswith("pulumi:providers:"):
        return _sdk_package(token.rsplit(":", 1)[-1]), "Provider"
    package, module, name = token.split(":")
    if package == "kubernetes":
        group, _, version = module.partition("/")
        if group == "helm.sh":
            return f"pulumi_kubernetes.helm.{version}", name
        if "." in group.removesuffix(".k8s.io"):
            return "pulumi_kubernetes.apiextensions", "CustomResource"  # a custom resource, e.g. argoproj.io
        return f"pulumi_kubernetes.{group.removesuffix('.k8s.io')}.{version}", name
    return _sdk_module(package, module), name


def _python_name_of_invoke(token: str) -> tuple[str, str]:
    package, module, name = token.split(":")
    return _sdk_module(package, module), re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _sdk_package(package: str) -> str:
    if package not in SDK_PACKAGES:
        raise KeyError(f"no SDK package known for {package!r}: add it to SDK_PACKAGES")
    return SDK_PACKAGES[package]


def _sdk_module(package: str, module: str) -> str:
    base = _sdk_package(package)
    if module.startswith("index"):
        return base
    return f"{base}.{module.replace('/', '.')}"


def evaluation_against_floor(dev: ProgramRun, repetitions: int) -> tuple[Measured, Measured, list[str]]:
    imports = sdk_imports(dev)
    floor_code = "\n".join(imports)
    eval_code = "from tools.offline.engine import project_stack_file, run_program\nrun_program(project_stack_file('dev'))"
    floor, evaluation = measure_interleaved([floor_code, eval_code], repetitions)
    return floor, evaluation, imports


# ----------------------------------------------------------------------------------------------------
# (c) scaling with the number of repositories
# ----------------------------------------------------------------------------------------------------


def repository_urls(count: int, organization_url: str) -> list[str]:
    """`count` repositories spread over up to MAX_PROJECTS projects."""
    projects = min(count, MAX_PROJECTS)
    return [f"{organization_url}/project-{index % projects}/_git/repo-{index}" for index in range(count)]


def scaling(repetitions: int) -> dict[int, Measured]:
    organization_url = load_stack_config(project_stack_file("dev"))["argocd-aks-wi:azureDevOpsOrgUrl"]
    codes = []
    for count in REPOSITORY_COUNTS:
        overrides = {"repositories": repository_urls(count, organization_url), "accessModel": "repositories"}
        codes.append(
            "from tools.offline.engine import project_stack_file, run_program\n"
            f"run_program(project_stack_file('dev'), overrides={overrides!r})"
        )
    return dict(zip(REPOSITORY_COUNTS, measure_interleaved(codes, repetitions), strict=True))


def per_repository_ms(results: dict[int, Measured], low: int, high: int, field: Callable[[Measured], float]) -> float:
    return (field(results[high]) - field(results[low])) / (high - low) * 1000


# The same per-repository shape (one Secret, one repository lookup, one GitPermissions) registered by a bare
# program on the SDK's plain mocks, with the program's collector settings: what the SDK itself costs.
_BARE_SDK_PROGRAM = """
import gc
import pulumi
from pulumi.runtime import mocks
from pulumi.runtime.stack import run_in_stack
from pulumi.runtime.sync_await import _sync_await
import pulumi_azuredevops as azuredevops
import pulumi_kubernetes as kubernetes
from pulumi_kubernetes.core.v1 import Secret

class Mocks(mocks.Mocks):
    def new_resource(self, args):
        return args.name + "-id", dict(args.inputs)
    def call(self, args):
        return {{"id": "repository-id", "name": args.args.get("name")}}

pulumi.runtime.settings.configure(mocks.MockSettings(
    monitor=mocks.MockMonitor(Mocks()), engine=mocks.MockEngine(logger=None), project="p", stack="s", dry_run=False))
gc.freeze()
gc.set_threshold(700, 10, 100)

def program():
    provider = kubernetes.Provider("k8s", kubeconfig="{{}}")
    namespace = pulumi.Output.from_input("argocd")
    for index in range({count}):
        Secret(f"repo-{{index}}", metadata={{"name": f"repo-{{index}}", "namespace": namespace}},
               string_data={{"type": "git", "url": f"u{{index}}"}}, opts=pulumi.ResourceOptions(provider=provider))
        repository = azuredevops.get_git_repository_output(project_id="p", name=f"repo-{{index}}")
        azuredevops.GitPermissions(f"read-{{index}}", project_id="p", repository_id=repository.id,
                                   principal="descriptor", permissions={{"GenericRead": "Allow"}})

_sync_await(run_in_stack(program))
"""


def bare_sdk_per_repository_ms(repetitions: int) -> float:
    """CPU ms per added repository for the bare SDK program above (1 -> last repository count)."""
    low, high = REPOSITORY_COUNTS[0], REPOSITORY_COUNTS[-1]
    codes = [_BARE_SDK_PROGRAM.format(count=count) for count in (low, high)]
    first, last = measure_interleaved(codes, repetitions)
    return (last.cpu - first.cpu) / (high - low) * 1000


# ----------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repetitions", type=int, default=7, help="fresh processes per measurement (default 7)")
    parser.add_argument("--scaling-repetitions", type=int, default=5, help="per repository count (default 5)")
    parser.add_argument("--skip-tests", action="store_true", help="leave out (d), the test suite's wall time")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"Performance benchmark (issue 7), {time.strftime('%Y-%m-%d %H:%M')}: Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, load average {load:.1f} at start")
    verdicts: list[Verdict] = []

    dev = run_program(project_stack_file("dev"))
    floor, evaluation, imports = evaluation_against_floor(dev, args.repetitions)
    print(f"\n(a) dev stack evaluation vs the import floor (median of {args.repetitions} fresh processes each)")
    print("    floor = " + "; ".join(imports))
    print(f"    {'':24}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}")
    for label, m in (("import floor", floor), ("dev stack under mocks", evaluation)):
        print(f"    {label:24}{m.wall:9.3f}{m.cpu:9.3f}{m.rss_mb:13.1f}")
    wall_ratio, cpu_ratio = evaluation.wall / floor.wall, evaluation.cpu / floor.cpu
    rss_ratio = evaluation.rss_mb / floor.rss_mb
    print(f"    {'ratio':24}{wall_ratio:9.2f}{cpu_ratio:9.2f}{rss_ratio:13.2f}")
    verdicts += [
        Verdict(f"evaluation CPU time <= {TARGET_TIME_RATIO}x import floor", cpu_ratio <= TARGET_TIME_RATIO,
                f"{cpu_ratio:.2f}x"),
        Verdict(f"evaluation peak memory <= {TARGET_MEMORY_RATIO}x import floor", rss_ratio <= TARGET_MEMORY_RATIO,
                f"{rss_ratio:.2f}x"),
        Verdict(f"(wall time, noisy on a shared machine) <= {TARGET_TIME_RATIO}x", wall_ratio <= TARGET_TIME_RATIO,
                f"{wall_ratio:.2f}x"),
    ]

    print("\n(b) critical path of `pulumi up` (weights: tools/offline/critical_path.py PROVISIONING_SECONDS)")
    for line in summary(dev):
        print("    " + line)
    path, bound = critical_path(dev), lower_bound(dev)
    off_path = [r.name for r in path.resources if r.type.startswith(OFF_THE_PATH)]
    at_bound = not path.of_kind("unneeded") and path.total_seconds == bound.total_seconds + path.deliberate_seconds
    verdicts += [
        Verdict("critical path = lower bound + deliberate edges only", at_bound,
                f"{path.total_seconds:.0f} s = {bound.total_seconds:.0f} s + {path.deliberate_seconds:.0f} s deliberate"
                f" + {path.unneeded_seconds:.0f} s unneeded"),
        Verdict("identity, Azure DevOps grants and role assignment off the critical path", not off_path,
                ", ".join(off_path) or "none on it"),
    ]
    if not any(r.type == MANAGED_CLUSTER for r in dev.resources):
        print("    (dev adopts an existing cluster: the cluster step weighs 0)")

    results = scaling(args.scaling_repetitions)
    print(f"\n(c) evaluation by number of repositories (accessModel repositories, up to {MAX_PROJECTS} projects; "
          f"median of {args.scaling_repetitions} fresh processes)")
    print(f"    {'repositories':>12}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}")
    for count, m in results.items():
        print(f"    {count:>12}{m.wall:9.3f}{m.cpu:9.3f}{m.rss_mb:13.1f}")
    first, last = REPOSITORY_COUNTS[0], REPOSITORY_COUNTS[-1]
    for low, high in pairwise(REPOSITORY_COUNTS):
        print(f"    {low:>4} -> {high:<4} CPU {per_repository_ms(results, low, high, lambda m: m.cpu):6.2f} ms"
              f" per added repository, wall {per_repository_ms(results, low, high, lambda m: m.wall):6.2f} ms")
    marginal = per_repository_ms(results, first, last, lambda m: m.cpu)
    marginal_wall = per_repository_ms(results, first, last, lambda m: m.wall)
    print(f"    marginal cost {first} -> {last}: {marginal:.2f} ms CPU, {marginal_wall:.2f} ms wall per repository")
    bare = bare_sdk_per_repository_ms(args.scaling_repetitions)
    print(f"    for comparison, the SDK alone (bare program, same resources per repository): {bare:.2f} ms CPU")
    verdicts.append(Verdict(f"under {TARGET_MS_PER_REPOSITORY:.0f} ms CPU per added repository ({first} -> {last})",
                            marginal < TARGET_MS_PER_REPOSITORY, f"{marginal:.2f} ms"))

    if not args.skip_tests:
        print("\n(d) test suite, as scripts/test runs it: python -m pytest -q --numprocesses=auto")
        sample, code, output = run_fresh(["-m", "pytest", "-q", "--numprocesses=auto"])
        outcome = "passed" if code == 0 else f"FAILED (exit {code})"
        counts = re.findall(r"\d+ (?:passed|failed|errors?|skipped)", output)
        print(f"    {sample.wall:.1f} s wall, {sample.cpu:.1f} s CPU, {', '.join(counts) or outcome}")
        verdicts.append(Verdict(f"test suite under {TARGET_SUITE_SECONDS:.0f} s wall",
                                sample.wall < TARGET_SUITE_SECONDS and code == 0, f"{sample.wall:.1f} s, {outcome}"))

    print("\nTargets (issue 7)")
    for verdict in verdicts:
        print(f"    {'PASS' if verdict.passed else 'FAIL'}  {verdict.target}: {verdict.measured}")
    print(f"\nbenchmark took {time.perf_counter() - began:.0f} s")
    return 1 if args.check and not all(v.passed for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
