"""One end-to-end run, in order, with its cleanup and its report; what it talks to is passed in.

A run creates a throw-away stack, `pulumi up`s it (which waits until the bootstrap Application has synced from the
private repository), asks the doctor to find every link holding, checks the Applications synced, adds a repository
in place and requires that nothing is replaced, and then, whatever happened before, destroys the stack, checks that
nothing is left in Azure or Azure DevOps and removes the stack. The real workspace and cloud are in automation.py and
cloud.py; the tests give fakes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from tools.e2e.plan import E2eEnvironment, stack_config, stack_name, with_second_repository

# The engine's operations that replace a resource (Pulumi's OpType values): an in-place change may show none.
REPLACING_OPERATIONS = ("replace", "create-replacement", "delete-replaced", "import-replacement", "discard-replaced")
_T = TypeVar("_T")


class Stack(Protocol):
    name: str

    def set_config(self, config: Mapping[str, str]) -> None: ...
    def preview(self) -> Mapping[str, int]:
        """The number of resources per operation the preview plans."""
        ...
    def up(self) -> Mapping[str, int]:
        """The number of resources per operation the update performed."""
        ...
    def outputs(self) -> dict[str, Any]: ...
    def destroy(self) -> None: ...
    def remove(self) -> None: ...


class Workspace(Protocol):
    def create_stack(self, name: str) -> Stack: ...


class Cloud(Protocol):
    def broken_links(self, stack: str, outputs: Mapping[str, Any]) -> list[str]:
        """What the doctor finds broken (or could not check) on the deployed stack."""
        ...
    def unsynced_applications(self, outputs: Mapping[str, Any]) -> list[str]:
        """The bootstrap Applications that are not Synced and Healthy."""
        ...
    def left_behind(self, outputs: Mapping[str, Any], environment: E2eEnvironment) -> list[str]:
        """What still exists after destroy: the resource group, role assignments on adopted clusters, the
        Azure DevOps entitlement; each with the command that removes it."""
        ...


class StepFailedError(Exception):
    """A step of the run failed; the report has its reason."""


@dataclass
class StepResult:
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Report:
    variant: str
    stack: str
    steps: list[StepResult] = field(default_factory=list)
    left_behind: list[str] = field(default_factory=list)
    stack_kept: bool = False

    @property
    def passed(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps) and not self.left_behind and not self.stack_kept

    def render(self) -> str:
        lines = [f"e2e {self.variant}: stack {self.stack}: {'PASSED' if self.passed else 'FAILED'}"]
        lines += [f"  {'ok  ' if s.ok else 'FAIL'} {s.name} ({s.seconds:.0f} s){': ' + s.detail if s.detail else ''}"
                  for s in self.steps]
        if self.left_behind:
            lines.append("  could not clean up; remove by hand:")
            lines += [f"    - {item}" for item in self.left_behind]
        if self.stack_kept:
            lines.append(f"  the stack is kept because destroy failed: pulumi destroy --stack {self.stack} --yes, "
                         f"then pulumi stack rm {self.stack} --yes")
        return "\n".join(lines)


def run_e2e(
    variant: str, environment: E2eEnvironment, workspace: Workspace, cloud: Cloud,
    log: Callable[[str], None] = print, name: str | None = None,
) -> Report:
    report = Report(variant=variant, stack=name or stack_name(variant))
    step = _Steps(report, log)
    stack: Stack | None = None
    outputs: dict[str, Any] = {}
    try:
        stack = step.run("create the stack", lambda: workspace.create_stack(report.stack))
        config = stack_config(environment, variant)
        step.run("configure", lambda: stack.set_config(config))
        step.run("pulumi up", lambda: _summary(stack.up()))
        outputs = step.run("read the outputs", stack.outputs)
        step.run("doctor: every link holds", lambda: _none(cloud.broken_links(report.stack, outputs)))
        step.run("bootstrap Applications synced", lambda: _none(cloud.unsynced_applications(outputs)))
        step.run("add the second repository", lambda: stack.set_config(with_second_repository(config, environment)))
        step.run("preview: nothing replaced", lambda: _no_replacement(stack.preview()))
        step.run("pulumi up: nothing replaced", lambda: _no_replacement(stack.up()))
        outputs = step.run("read the outputs again", stack.outputs)
    except StepFailedError:
        pass  # recorded; cleanup below runs all the same
    finally:
        if stack is not None:
            _clean_up(report, step, stack, cloud, outputs, environment)
    return report


def _clean_up(
    report: Report, step: _Steps, stack: Stack, cloud: Cloud, outputs: Mapping[str, Any], environment: E2eEnvironment,
) -> None:
    destroyed = step.attempt("pulumi destroy", stack.destroy)
    if outputs:
        found = step.attempt_value("nothing left behind", lambda: cloud.left_behind(outputs, environment))
        report.left_behind += found or []
    else:
        report.left_behind.append(
            f"no outputs were read, so nothing could be checked: look for what stack {report.stack} created "
            "(resource groups tagged purpose=argocd-workload-identity, its Azure DevOps entitlement)"
        )
    if destroyed:
        step.attempt("remove the stack", stack.remove)
    else:
        report.stack_kept = True


class _Steps:
    def __init__(self, report: Report, log: Callable[[str], None]) -> None:
        self.report = report
        self.log = log

    def run(self, name: str, action: Callable[[], _T]) -> _T:
        """Run a step of the main path; a failure stops the path (StepFailedError)."""
        ok, value = self._timed(name, action)
        if not ok:
            raise StepFailedError(name)
        return value  # type: ignore[return-value]

    def attempt(self, name: str, action: Callable[[], object]) -> bool:
        """Run a cleanup step: a failure is recorded and the cleanup goes on."""
        return self._timed(name, action)[0]

    def attempt_value(self, name: str, action: Callable[[], list[str]]) -> list[str] | None:
        ok, value = self._timed(name, action)
        return value if ok else None

    def _timed(self, name: str, action: Callable[[], _T]) -> tuple[bool, _T | None]:
        self.log(f"e2e: {name} ...")
        started = time.monotonic()
        try:
            value = action()
        except Exception as error:  # any failure is the step's result, reported with its message
            # The CLI's output ends with its error; the last line names the cause.
            detail = str(error).strip().splitlines()[-1].strip() if str(error).strip() else type(error).__name__
            self.report.steps.append(StepResult(name, False, detail, time.monotonic() - started))
            self.log(f"e2e: {name} FAILED: {detail}")
            return False, None
        detail = value if isinstance(value, str) else ""
        self.report.steps.append(StepResult(name, True, detail, time.monotonic() - started))
        return True, value


def _summary(changes: Mapping[str, int]) -> str:
    return ", ".join(f"{count} {operation}" for operation, count in sorted(changes.items()) if count)


def _no_replacement(changes: Mapping[str, int]) -> str:
    replaced = {operation: count for operation, count in changes.items() if operation in REPLACING_OPERATIONS and count}
    if replaced:
        raise AssertionError(f"an in-place change would replace resources: {_summary(replaced)}")
    return _summary(changes)


def _none(problems: list[str]) -> str:
    if problems:
        raise AssertionError("; ".join(problems))
    return ""
