"""Every relative link and anchor in the project's Markdown resolves: a moved section or renamed file fails here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / name for name in subprocess.run(
    ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True,
).stdout.split()]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def without_code(text: str) -> str:
    """The text outside fenced code blocks, where a heading or link is Markdown."""
    return re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)


def anchors(path: Path) -> set[str]:
    """GitHub's heading slugs (lower case, punctuation dropped, spaces to hyphens) and explicit <a id> anchors."""
    text = path.read_text()
    found = set(re.findall(r'<a id="([^"]+)"></a>', text))
    for heading in re.findall(r"^#{1,6} (.+)$", without_code(text), re.M):
        found.add(re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-"))
    return found


@pytest.mark.parametrize("document", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(document: Path) -> None:
    broken = []
    for target in LINK.findall(without_code(document.read_text())):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no such anchor")
    assert broken == []


def test_the_readme_is_for_users_and_short() -> None:
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).suffix in {".py", ".md", ".yaml", ".yml", ".txt", ".toml", ""}]


def test_nothing_cites_a_file_outside_the_repository() -> None:
    offending = [
        str(path.relative_to(ROOT)) for path in tracked_text_files()
        if path.is_file() and re.search(r"FACTS\.md|\.\./shared", path.read_text(errors="replace"))
    ]
    assert offending == [], "cite docs/facts.md instead"


def test_every_cited_fact_anchor_exists() -> None:
    facts = (ROOT / "docs" / "facts.md").read_text()
    anchors = {re.sub(r"[^a-z0-9 -]", "", heading.lower()).strip().replace(" ", "-") for heading in re.findall(r"^## (.+)$", facts, re.M)}
    anchors |= set(re.findall(r'<a id="([^"]+)"></a>', facts))
    cited = {
        anchor for path in tracked_text_files() if path.is_file()
        for anchor in re.findall(r"docs/facts\.md#([a-z0-9-]+)", path.read_text(errors="replace"))
    }
    assert cited and cited <= anchors, sorted(cited - anchors)
