"""The real workspace: Pulumi's Automation API over this project, driving the Pulumi CLI the user has installed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi import automation as auto

from tools.offline.engine import ROOT


class AutomationStack:
    """A stack of this project (the program at the repository's root), its output streamed to `log`."""

    def __init__(self, stack: auto.Stack, log: Callable[[str], Any]) -> None:
        self._stack = stack
        self._log = log
        self.name = stack.name

    def set_config(self, config: Mapping[str, str]) -> None:
        self._stack.set_all_config({key: auto.ConfigValue(value=value) for key, value in config.items()})

    def preview(self) -> dict[str, int]:
        return _by_operation(self._stack.preview(on_output=self._log, diff=True).change_summary)

    def up(self) -> dict[str, int]:
        return _by_operation(self._stack.up(on_output=self._log).summary.resource_changes or {})

    def outputs(self) -> dict[str, Any]:
        return {key: output.value for key, output in self._stack.outputs().items()}

    def destroy(self) -> None:
        self._stack.destroy(on_output=self._log)

    def remove(self) -> None:
        self._stack.workspace.remove_stack(self.name)


class AutomationWorkspace:
    def __init__(self, log: Callable[[str], Any]) -> None:
        self._log = log

    def create_stack(self, name: str) -> AutomationStack:
        return AutomationStack(auto.create_stack(stack_name=name, work_dir=str(ROOT)), self._log)


def _by_operation(changes: Mapping[Any, int]) -> dict[str, int]:
    """Operation names as the engine spells them ("create", "replace", ...), whatever enum the SDK wraps them in."""
    return {str(getattr(operation, "value", operation)): count for operation, count in changes.items()}
