"""The doctor's findings: one Check per link, rendered as text for a person or JSON for CI."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    OK = "ok"
    BROKEN = "broken"
    SKIPPED = "skipped"
    """Not checked because a link before it is broken."""
    UNKNOWN = "unknown"
    """Could not be checked (the doctor lacks a permission, or nothing can read it without writing)."""


SYMBOLS = {Status.OK: "✓", Status.BROKEN: "✗", Status.SKIPPED: "–", Status.UNKNOWN: "?"}

LINKS = {
    1: "Cluster",
    2: "Federated credentials",
    3: "Service accounts and pods",
    4: "Token exchange",
    5: "Azure DevOps",
    6: "Argo CD",
}

EXIT_HEALTHY = 0
EXIT_BROKEN = 1
EXIT_COULD_NOT_RUN = 2


@dataclass(frozen=True)
class Check:
    link: int
    """Which link of the chain (1-6, LINKS) this check belongs to."""
    finding: str
    """Stable identifier of what was found (docs/doctor.md lists them): what scripts and tests match on, not the prose."""
    summary: str
    """One line: what holds, or what is broken."""
    status: Status = Status.OK
    cause: str = ""
    """Why it is broken (BROKEN), or why it could not be checked (SKIPPED, UNKNOWN)."""
    fix: str = ""
    """The exact command or config key that repairs it."""


def ok(link: int, finding: str, summary: str) -> Check:
    return Check(link, finding, summary)


def broken(link: int, finding: str, summary: str, cause: str, fix: str) -> Check:
    return Check(link, finding, summary, Status.BROKEN, cause, fix)


def skipped(link: int, finding: str, summary: str, cause: str) -> Check:
    return Check(link, finding, summary, Status.SKIPPED, cause)


def unknown(link: int, finding: str, summary: str, cause: str, fix: str = "") -> Check:
    return Check(link, finding, summary, Status.UNKNOWN, cause, fix)


class CannotRunError(Exception):
    """The doctor could not start its diagnosis (no login, no stack, no cluster access): exit status 2."""


def exit_code(checks: Iterable[Check]) -> int:
    """1 when a link is broken; else 2 when a link could not be checked (a healthy verdict would be a guess)."""
    statuses = {check.status for check in checks}
    if Status.BROKEN in statuses:
        return EXIT_BROKEN
    return EXIT_COULD_NOT_RUN if Status.UNKNOWN in statuses else EXIT_HEALTHY


class Redactor:
    """Replaces every secret the doctor holds (tokens) wherever it could reach the output."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, secret: str) -> None:
        if len(secret) >= 8:  # a short value would blank out ordinary words
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "[token]")
        return text


def render_text(title: str, checks: list[Check]) -> str:
    lines = [title]
    for link, name in LINKS.items():
        in_link = [check for check in checks if check.link == link]
        if not in_link:
            continue
        lines.append(f"{link}. {name}")
        for check in in_link:
            lines.append(f"  {SYMBOLS[check.status]} {check.summary}  [{check.finding}]")
            if check.cause:
                lines.append(f"      cause: {check.cause}")
            if check.fix:
                lines.append(f"      fix:   {check.fix}")
    lines.append(_verdict(checks))
    return "\n".join(lines)


def _verdict(checks: list[Check]) -> str:
    counts = {status: sum(check.status is status for check in checks) for status in Status}
    verdict = f"{counts[Status.BROKEN]} broken" if counts[Status.BROKEN] else "every link holds"
    extra = [f"{counts[status]} {status.value}" for status in (Status.SKIPPED, Status.UNKNOWN) if counts[status]]
    return f"Result: {verdict} ({counts[Status.OK]} ok{''.join(', ' + part for part in extra)})."


def render_json(stack: str | None, checks: list[Check]) -> str:
    return json.dumps({
        "stack": stack,
        "exitCode": exit_code(checks),
        "checks": [
            {
                "link": check.link,
                "linkName": LINKS[check.link],
                "finding": check.finding,
                "status": check.status.value,
                "summary": check.summary,
                "cause": check.cause or None,
                "fix": check.fix or None,
            }
            for check in checks
        ],
    }, indent=2, ensure_ascii=False)


def render_cannot_run_json(stack: str | None, reason: str) -> str:
    return json.dumps({"stack": stack, "exitCode": EXIT_COULD_NOT_RUN, "error": reason}, indent=2, ensure_ascii=False)
