"""Link 5: Azure DevOps accepts the identity's token, licenses it, and lets it read (and push) the repositories.

Every call is a GET with the identity's own token: nothing is written. Push permission is evaluated with
Azure DevOps' permission-evaluation endpoint (Permissions - Has Permissions) for the caller, the identity, on
the repository's security token; branch policies and branch-level denies are not evaluated: no read-only call
shows how they would treat a push.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from settings import split_repository_url
from tools.doctor.context import Context
from tools.doctor.report import Check, Status, broken, ok, skipped, unknown

LINK = 5
TIMEOUT_SECONDS = 20
# Git Repositories security namespace and the bits the hydrator's push needs (docs/facts.md#azure-devops,
# docs/facts.md#source-hydrator): commits, a Git note per dry commit, and new branches unless all exist.
GIT_NAMESPACE = "2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87"
HYDRATOR_PERMISSIONS = {"GenericContribute": 4, "ManageNote": 64, "CreateBranch": 16}
REQUIRED_TO_PUSH = ("GenericContribute", "ManageNote")
# Licences that cannot read code (Stakeholder) or mean no licence at all.
NO_CODE_ACCESS = {"stakeholder", "none"}


def check(context: Context) -> list[Check]:
    if context.devops_token is None:
        return [skipped(LINK, "devops-not-asked", "Azure DevOps not asked", "no Azure DevOps token: the exchange (link 4) failed")]
    found = [_known(context)]
    if found[0].status is not Status.OK:
        return found
    reads = [_readable(context, url) for url in context.outputs.read_repositories]
    found.append(_access_level(context, reads_code=any(read.status is Status.OK for read in reads)))
    found.extend(reads)
    found.extend(_pushable(context, url) for url in context.outputs.write_repositories)
    return found


def _get(context: Context, url: str, token: str | None = None) -> requests.Response:
    return context.http.get(
        url, headers={"Authorization": f"Bearer {token or context.devops_token}", "Accept": "application/json"},
        timeout=TIMEOUT_SECONDS, allow_redirects=False,
    )


def _signed_out(response: requests.Response) -> bool:
    """Azure DevOps answers an unaccepted token with 401, or with a sign-in page (203 or a 302 redirect)."""
    return response.status_code in (203, 302, 401) or "json" not in response.headers.get("Content-Type", "")


def _known(context: Context) -> Check:
    outputs = context.outputs
    response = _get(context, f"{outputs.organization_url}/_apis/connectionData")
    if response.status_code == 200 and not _signed_out(response):
        user = response.json().get("authenticatedUser") or {}
        context.member_id = str(user.get("id") or "")
        return ok(
            LINK, "devops-knows-identity",
            f"{outputs.organization_url} knows the identity ({user.get('providerDisplayName') or context.member_id})",
        )
    principal = outputs.identity_principal_id or "<identityPrincipalId>"
    return broken(
        LINK, "devops-refuses-token", f"{outputs.organization_url} does not accept the identity's token (HTTP {response.status_code})",
        "the identity has no entitlement in the organisation, or the organisation is not connected to the "
        f"identity's tenant {outputs.tenant_id}",
        f"{outputs.pulumi('up')} (it adds the service principal entitlement); check with "
        f"az devops user show --user {principal} --org {outputs.organization_url}",
    )


def _access_level(context: Context, reads_code: bool) -> Check:
    """The identity's licence, read with its own token, else with the person's (Azure DevOps may refuse either);
    when neither may read it, a repository the identity could read shows it is not Stakeholder."""
    outputs = context.outputs
    member_id = context.member_id
    url = (
        f"https://vsaex.dev.azure.com/{outputs.organization}/_apis/serviceprincipalentitlements/{member_id}"
        "?api-version=7.1-preview.1"
    )
    entitlement = _entitlement(context, url) if member_id else None
    if entitlement is None and reads_code:
        return ok(
            LINK, "access-level-not-stakeholder",
            "access level not readable, but not Stakeholder: the identity reads a repository below",
        )
    if entitlement is None:
        return unknown(
            LINK, "access-level-unreadable", "access level not readable", "neither the identity nor you may read its entitlement",
            f"a Project Collection Administrator can: az devops user show --user {outputs.identity_principal_id or member_id} "
            f"--org {outputs.organization_url}",
        )
    level: dict[str, Any] = entitlement.get("accessLevel") or {}
    licence = str(level.get("accountLicenseType") or "none")
    if licence.lower() not in NO_CODE_ACCESS:
        return ok(LINK, "access-level-ok", f"access level {level.get('licenseDisplayName') or licence} (not Stakeholder)")
    return broken(
        LINK, "access-level-stakeholder",
        f"access level {licence}", "Stakeholder (or no licence) cannot read Git repositories: every fetch gets 401/403",
        f"{outputs.pulumi('up')} (the entitlement is Basic, express in the API); or Organisation settings → Users → "
        "set the identity's access level to Basic",
    )


def _entitlement(context: Context, url: str) -> dict[str, Any] | None:
    """The entitlement, read with the identity's token, else with the person's; None when neither may."""
    for token in (context.devops_token, _person_token(context)):
        if token is None:
            continue
        response = _get(context, url, token)
        if response.status_code == 200 and not _signed_out(response):
            return dict(response.json())
    return None


def _person_token(context: Context) -> str | None:
    token = context.azure.devops_token()
    if token:
        context.redact.add(token)
    return token


def _repository_api(url: str) -> tuple[str, str] | None:
    """(project, REST URL of the repository) for an https://dev.azure.com/<org>/<project>/_git/<repo> URL."""
    parts = split_repository_url(url)
    if parts is None:
        return None
    org, project, name = parts
    return project, f"https://dev.azure.com/{org}/{quote(project)}/_apis/git/repositories/{quote(name)}?api-version=7.1"


def _readable(context: Context, url: str) -> Check:
    outputs = context.outputs
    parts = _repository_api(url)
    if parts is None:
        return unknown(
            LINK, "repository-url-unknown",
            f"{url}: not an https://dev.azure.com/<org>/<project>/_git/<repo> URL", "cannot check it",
        )
    project, api = parts
    response = _get(context, api)
    status = response.status_code
    if status == 200 and not _signed_out(response):
        body = response.json()
        context.repository_ids[url] = (str((body.get("project") or {}).get("id")), str(body.get("id")))
        return ok(LINK, "repository-readable", f"can read {url}")
    grant_fix = f"{outputs.pulumi('up')} (it grants GenericRead, or Readers membership with accessModel readers)"
    if _signed_out(response):
        return broken(
            LINK, "repository-sign-in-wanted", f"cannot read {url}: HTTP {status}, Azure DevOps wants a sign-in",
            "the token is not accepted for this organisation: no Basic licence, or not a member", grant_fix,
        )
    if status == 403:
        return broken(
            LINK, "repository-forbidden",
            f"cannot read {url}: HTTP 403", f"the identity may not read project {project}: no GenericRead on the "
            "repository (accessModel repositories) or not in the project's Readers group (accessModel readers)", grant_fix,
        )
    if status == 404:
        return _not_found(context, url, api, grant_fix)
    return unknown(LINK, "repository-unexplained", f"cannot read {url}: HTTP {status}", "an answer the doctor does not know how to explain")


def _not_found(context: Context, url: str, api: str, grant_fix: str) -> Check:
    # Azure DevOps answers "no such repository" and "not allowed to see it" alike (TF401019); the person's own
    # token, when they can see the repository, tells the two apart.
    person = _person_token(context)
    if person:
        seen = _get(context, api, person)
        if seen.status_code == 200 and not _signed_out(seen):
            return broken(
                LINK, "repository-hidden-from-identity",
                f"cannot read {url}: HTTP 404 for the identity", "the repository exists (you can see it); the identity "
                "has no read permission on it", grant_fix,
            )
        if seen.status_code == 404:
            return broken(
                LINK, "repository-not-found",
                f"cannot read {url}: HTTP 404", "no repository by that name in the project (you cannot see it either)",
                "correct the URL in the config key repositories, then " + context.outputs.pulumi("up"),
            )
    return broken(
        LINK, "repository-not-found",
        f"cannot read {url}: HTTP 404", "the repository does not exist under that name, or the identity may not "
        "read it (Azure DevOps answers both alike)",
        "check the name in the config key repositories; if it is right, " + grant_fix,
    )


def _pushable(context: Context, url: str) -> Check:
    ids = context.repository_ids.get(url)
    if ids is None:
        found = _readable(context, url)
        if found.status is not Status.OK:
            return found
        ids = context.repository_ids[url]
    outputs = context.outputs
    security_token = f"repoV2/{ids[0]}/{ids[1]}"
    allowed: dict[str, bool] = {}
    for name, bit in HYDRATOR_PERMISSIONS.items():
        response = _get(
            context, f"{outputs.organization_url}/_apis/permissions/{GIT_NAMESPACE}/{bit}"
            f"?tokens={quote(security_token, safe='')}&alwaysAllowAdministrators=false&api-version=7.1",
        )
        if response.status_code != 200 or _signed_out(response):
            return unknown(
                LINK, "push-unevaluated",
                f"cannot evaluate push permission on {url}: HTTP {response.status_code}", "no answer to evaluate",
            )
        allowed[name] = (response.json().get("value") or [False])[0] is True
    missing = [name for name in REQUIRED_TO_PUSH if not allowed[name]]
    if not missing:
        branches = "" if allowed["CreateBranch"] else "; no CreateBranch, so every target branch must exist"
        return ok(LINK, "push-allowed", f"may push to {url} ({', '.join(REQUIRED_TO_PUSH)}{branches}; branch policies not evaluated)")
    bits = sum(HYDRATOR_PERMISSIONS[name] for name in missing)
    return broken(
        LINK, "push-denied", f"may not push to {url}: no {', '.join(missing)}",
        "the Source Hydrator's commit-server pushes commits (GenericContribute) and a Git note per commit (ManageNote)",
        f"{outputs.pulumi('up')} (it grants them to hydration targets); by hand: az devops security permission update "
        f"--org {outputs.organization_url} --namespace-id {GIT_NAMESPACE} --subject <identity's group descriptor> "
        f"--token {security_token} --allow-bit {bits}",
    )
