"""Azure DevOps URL rules: the one form of organisation and repository URL Argo CD and Azure DevOps agree on."""

from __future__ import annotations

import re
from urllib.parse import unquote

from settings.model import Repository
from settings.reader import has_invisible_characters

ORG_URL = re.compile(r"^https://dev\.azure\.com/([A-Za-z0-9][A-Za-z0-9-]{0,48}[A-Za-z0-9]|[A-Za-z0-9])$")
_REPO_URL = re.compile(r"^https://dev\.azure\.com/([^/@?#]+)/([^/?#]+)/_git/([^/?#]+)$")
# The printable characters Azure DevOps refuses in a project name (docs/facts.md#azure-devops); "R&D" is a name.
PROJECT_FORBIDDEN = re.compile(r"[\\/:*?\"<>|;#${},+=\[\]]")
_REPO_URL_FORM = "https://dev.azure.com/<organisation>/<project>/_git/<repository> (HTTPS; SSH has no workload identity)"


def is_project_name(value: str) -> bool:
    """What Azure DevOps accepts as a project name: at most 64 characters, none of PROJECT_FORBIDDEN, not starting
    with "_" or ".", not ending with "." (docs/facts.md#azure-devops)."""
    return (
        0 < len(value) <= 64 and not PROJECT_FORBIDDEN.search(value) and not value.startswith(("_", ".")) and not value.endswith(".")
    )


def split_repository_url(url: str) -> tuple[str, str, str] | None:
    """(organisation, project, repository) of an https://dev.azure.com/<org>/<project>/_git/<repo> URL,
    project and repository percent-decoded; None for any other form."""
    match = _REPO_URL.match(url)
    if not match:
        return None
    org, project, name = match.groups()
    return org, unquote(project), unquote(name)


def parse_repository(url: str, organization: str) -> Repository | str:
    """A Repository, or the reason the URL is refused."""
    if not url.startswith("https://"):
        return _REPO_URL_FORM
    if "@" in url:
        return "no user@ part: Argo CD matches credentials by URL and a user@ form never matches (docs/facts.md#argo-cd-repository-secrets)"
    if url.endswith(".git") or url.endswith("/"):
        return "no trailing .git or /"
    if re.search(r"%(?![0-9A-Fa-f]{2})", url):
        return "a % only as an escape with two hex digits (%25 for a % in a name): Argo CD cannot parse the URL otherwise"
    parts = split_repository_url(url)
    if parts is None:
        return _REPO_URL_FORM
    org, decoded_project, decoded_name = parts
    if org.lower() != organization.lower():
        return f"a repository of the configured organisation {organization!r}"
    if org != organization:
        return f"the organisation written exactly as in azureDevOpsOrgUrl ({organization!r}): one URL form everywhere"
    if (
        decoded_project.strip() != decoded_project
        or not is_project_name(decoded_project)
        or has_invisible_characters(decoded_project)
    ):
        return "a valid project name in the URL"
    # Percent-encoding must not smuggle in what the plain URL may not hold (%0A, %2F, %00).
    if decoded_name.strip() != decoded_name or not decoded_name or "/" in decoded_name or has_invisible_characters(decoded_name):
        return "a valid repository name in the URL"
    return Repository(url=url, organization=org, project=decoded_project, name=decoded_name)
