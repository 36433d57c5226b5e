"""Reads raw config strings by key, with the schema's defaults, and gathers every problem instead of stopping."""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, TypeVar

import pulumi

from settings.model import PROJECT
from settings.rules import SCHEMA

# Control, zero-width/bidi format, surrogate and line-separator characters. Azure DevOps refuses control characters
# and surrogates in names (naming-restrictions docs); none belongs in any value here, and invisible ones make two
# different names look alike.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
PRINTABLE = "printable text (no control, zero-width, bidi or line-separator characters)"
# Config keys (in any namespace) through which a PAT or password could reach the Azure DevOps provider or Argo CD.
CREDENTIAL_WORDS = re.compile(r"(pat|personalaccesstoken|password|passwd|token|secret|clientsecret)$", re.I)
# The user part of a URL (https://<PAT>@..., https://user:<PAT>@...) can carry a token: never echo it.
_URL_USER_PART = re.compile(r"(?<=://)[^/@\s]+@")

Choice = TypeVar("Choice", bound=StrEnum)


def has_invisible_characters(text: str) -> bool:
    return any(unicodedata.category(character) in _INVISIBLE_CATEGORIES for character in text)


def compact(key: str) -> str:
    """A key without - and _, so that personal_access_token and personal-access-token match one pattern."""
    return key.replace("-", "").replace("_", "")


def mask(key: str, value: object) -> str:
    text = str(value)
    if CREDENTIAL_WORDS.search(compact(key)):
        return "[secret]"
    text = _URL_USER_PART.sub("[masked]@", text)
    if len(text) > 120:
        text = text[:117] + "..."
    return repr(text)


def naming_rule(message: str, rule: str) -> str:
    """A refusal's message with the rule it enforces (a docs/facts.md section, or the schema) after it."""
    return f"{message} [{rule}]"


class ConfigReader:
    """Typed reads of the project's config keys; a missing key takes its default from the schema (Pulumi.yaml)."""

    def __init__(self, config: pulumi.Config, declared: Mapping[str, Mapping[str, Any]]) -> None:
        self._config = config
        self.declared = declared
        self.problems: list[str] = []

    def fail(self, key: str, value: object, accepted: str, *, rule: str) -> None:
        """Refuse `value` of `key`, saying what is accepted and which rule (a docs/facts.md anchor) says so."""
        self.refuse(f"{PROJECT}:{key} = {mask(key, value)}: expected {accepted}", rule=rule)

    def refuse(self, message: str, *, rule: str) -> None:
        self.problems.append(naming_rule(message, rule))

    def _raw(self, key: str) -> str | None:
        return self._config.get(key)

    def _default(self, key: str) -> Any:
        return self.declared[key].get("default")

    def text(self, key: str) -> str:
        """The trimmed value; empty when absent and the schema declares no default (a required key says so)."""
        value = self._raw(key)
        default = self._default(key)
        if value is None or value.strip() == "":
            if "default" not in self.declared[key]:
                self.refuse(f"{PROJECT}:{key} is required (set it with `pulumi config set {key} ...`)", rule=SCHEMA)
            return str(default or "")
        if has_invisible_characters(value.strip()):
            self.fail(key, value, PRINTABLE, rule=SCHEMA)
            return str(default or "")
        return value.strip()

    def integer(self, key: str, low: int, high: int) -> int:
        value = self._raw(key)
        default = int(self._default(key))
        if value is None:
            return default
        text = value.strip()
        # ASCII digits only: int() would also take "1_000", "١٢" and thousands of digits.
        if not re.fullmatch(r"-?[0-9]{1,9}", text) or not low <= int(text) <= high:
            self.fail(key, value, f"a whole number from {low} to {high}", rule=SCHEMA)
            return default
        return int(text)

    def boolean(self, key: str) -> bool:
        value = self._raw(key)
        default = bool(self._default(key))
        if value is None:
            return default
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        self.fail(key, value, "true or false", rule=SCHEMA)
        return default

    def strings(self, key: str) -> tuple[str, ...]:
        """A list of strings; a key declared without a default needs at least one entry."""
        value = self._raw(key)
        if value is None or value.strip() in ("", "[]"):
            if "default" not in self.declared[key]:
                self.refuse(f"{PROJECT}:{key} is required: a list with at least one entry", rule=SCHEMA)
            return tuple(self._default(key) or ())
        parsed: Any = None  # not a list: refused below
        if not value.lstrip().startswith(("[", "{", '"')):
            # Plain text, as `pulumi new` writes a prompted value: comma-separated entries.
            parsed = value.split(",")
        # RecursionError: deeply nested JSON such as "[[[[..."
        with contextlib.suppress(ValueError, RecursionError):
            parsed = parsed if parsed is not None else json.loads(value)
        if not isinstance(parsed, list) or not all(isinstance(item, str) for item in parsed):
            self.fail(key, value, "a list of strings (YAML sequence under the key, or comma-separated text)", rule=SCHEMA)
            return ()
        invisible = [item for item in parsed if has_invisible_characters(item.strip())]
        for item in invisible:
            self.fail(key, item, PRINTABLE, rule=SCHEMA)
        return () if invisible else tuple(item.strip() for item in parsed)

    def objects(self, key: str) -> tuple[dict[str, Any], ...]:
        """A list of objects: the CLI hands a structured value to the program as a JSON string."""
        value = self._raw(key)
        if value is None or value.strip() in ("", "[]"):
            return tuple(self._default(key) or ())
        parsed: Any = None
        with contextlib.suppress(ValueError, RecursionError):
            parsed = json.loads(value)
        if not isinstance(parsed, list) or not all(isinstance(item, dict) for item in parsed):
            self.fail(key, value, "a list of objects (a YAML sequence of mappings under the key)", rule=SCHEMA)
            return ()
        return tuple(parsed)

    def choice(
        self, key: str, choices: type[Choice], refused: Mapping[str, str] | None = None, refused_rule: str = SCHEMA,
    ) -> Choice:
        """One member of `choices`; a value in `refused` is refused with its reason (and `refused_rule`) instead of the
        plain list."""
        value = self.text(key)
        reasons = refused or {}
        if value in reasons:
            self.fail(key, value, reasons[value], rule=refused_rule)
        elif value not in {member.value for member in choices}:
            self.fail(key, value, "one of " + ", ".join(member.value for member in choices), rule=SCHEMA)
        else:
            return choices(value)
        return choices(self._default(key))

    def matching(self, key: str, value: str, check: Callable[[str], bool], accepted: str, *, rule: str) -> str:
        if not check(value):
            self.fail(key, value, accepted, rule=rule)
        return value
