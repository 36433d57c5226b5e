"""Entra single sign-on to Argo CD: its URL, which Entra groups get which Argo CD role, and the local admin."""

from __future__ import annotations

import re

from settings.model import PROJECT, SingleSignOnSettings
from settings.reader import ConfigReader
from settings.rules import GUID, SSO

_ROLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_URL = re.compile(r"^https://[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)*$")
_HOST_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _is_external_address(value: str) -> bool:
    """https://<host>[:<port>][/<path>]: a host of DNS labels (none empty, none over 63 characters), a port that exists
    and a path of URL-safe segments (Argo CD's root path). It becomes the Entra redirect URI and Argo CD's
    global.domain, so a typo here would surface only at `pulumi up`."""
    if not _URL.match(value):
        return False
    authority = value.removeprefix("https://").split("/", 1)[0]
    host, _, port = authority.partition(":")
    return all(_HOST_LABEL.match(label) for label in host.split(".")) and (not port or 1 <= int(port) <= 65535)


def single_sign_on_settings(reader: ConfigReader) -> SingleSignOnSettings | None:
    """None when singleSignOn is false; the other keys are checked either way, so a typo is refused at once."""
    enabled = reader.boolean("singleSignOn")
    url = reader.matching(
        "argocdUrl", reader.text("argocdUrl").rstrip("/"), _is_external_address,
        "Argo CD's external address, https://<host>[:<port>][/<path>] (e.g. https://argocd.example.com or "
        "https://gitops.example.com/argocd), no query or fragment (RFC 3986; Entra refuses them in a redirect URI)", rule=SSO,
    )
    group_roles: dict[str, str] = {}
    for entry in reader.strings("ssoGroupRoles"):
        group, separator, role = (part.strip() for part in entry.partition("="))
        role = role.removeprefix("role:")
        if not separator or not GUID.match(group) or not _ROLE.match(role):
            reader.fail("ssoGroupRoles", entry, '"<Entra group object ID>=<Argo CD role>" entries, e.g. "<guid>=admin"', rule=SSO)
        elif group.lower() in group_roles:
            reader.fail("ssoGroupRoles", entry, "each group once (a group with two roles: define a role that holds both)", rule=SSO)
        else:
            group_roles[group.lower()] = role
    disable_local_admin = reader.boolean("ssoDisablesLocalAdmin")
    if not enabled:
        return None
    if not group_roles:
        reader.refuse(
            f"{PROJECT}:ssoGroupRoles is required with singleSignOn true: at least one Entra group mapped to an Argo CD "
            "role (without one, nobody who signs in may do anything)", rule=SSO
        )
    return SingleSignOnSettings(url=url, group_roles=tuple(group_roles.items()), disable_local_admin=disable_local_admin)
