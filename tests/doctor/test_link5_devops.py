"""Link 5: with the exchanged token, Azure DevOps knows and licenses the identity and lets it read (and push)."""

from __future__ import annotations

from tests.doctor.fakes import HYDRATED, PRINCIPAL_ID, REPO, World

GRANT_FIX = "fix:   pulumi up -s dev (it grants GenericRead, or Readers membership with accessModel readers)"


def test_an_identity_the_organisation_does_not_know_asks_for_its_entitlement(world: World, doctor) -> None:
    world.member = False
    run = doctor()
    assert run.code == 1
    assert run.finding("https://dev.azure.com/contoso does not accept the identity's token (HTTP 401)") == [
        "✗ https://dev.azure.com/contoso does not accept the identity's token (HTTP 401)",
        "cause: the identity has no entitlement in the organisation, or the organisation is not connected to the "
        "identity's tenant 11111111-1111-1111-1111-111111111111",
        f"fix:   pulumi up -s dev (it adds the service principal entitlement); check with az devops user show --user "
        f"{PRINCIPAL_ID} --org https://dev.azure.com/contoso",
    ]


def test_a_stakeholder_licence_is_broken_and_the_read_gets_a_sign_in_page(world: World, doctor) -> None:
    world.licence = "stakeholder"
    run = doctor()
    assert run.code == 1
    assert run.finding("access level stakeholder") == [
        "✗ access level stakeholder",
        "cause: Stakeholder (or no licence) cannot read Git repositories: every fetch gets 401/403",
        "fix:   pulumi up -s dev (the entitlement is Basic, express in the API); or Organisation settings → Users → "
        "set the identity's access level to Basic",
    ]
    assert run.finding(f"cannot read {REPO}: HTTP 203, Azure DevOps wants a sign-in") == [
        f"✗ cannot read {REPO}: HTTP 203, Azure DevOps wants a sign-in",
        "cause: the token is not accepted for this organisation: no Basic licence, or not a member",
        GRANT_FIX,
    ]


def test_an_entitlement_the_identity_may_not_read_is_read_with_the_persons_login(world: World, doctor) -> None:
    world.entitlement_readable = False
    run = doctor()
    assert run.code == 0
    assert "✓ access level Basic (not Stakeholder)" in run.lines()


def test_an_entitlement_nobody_may_read_is_inferred_from_a_readable_repository(world: World, doctor) -> None:
    world.entitlement_readable = world.person_reads_entitlements = False
    run = doctor()
    assert run.code == 0
    assert "✓ access level not readable, but not Stakeholder: the identity reads a repository below" in run.lines()


def test_an_entitlement_nobody_may_read_and_no_readable_repository_is_a_question(world: World, doctor) -> None:
    world.entitlement_readable = world.person_reads_entitlements = False
    world.readable.clear()
    run = doctor()
    assert run.code == 1  # the unreadable repository is broken
    assert run.finding("access level not readable") == [
        "? access level not readable",
        "cause: neither the identity nor you may read its entitlement",
        f"fix:   a Project Collection Administrator can: az devops user show --user {PRINCIPAL_ID} "
        "--org https://dev.azure.com/contoso",
    ]


def test_a_repository_the_identity_may_not_see_but_the_person_can_is_a_missing_grant(world: World, doctor) -> None:
    world.readable.discard("platform/gitops")
    run = doctor()
    assert run.code == 1
    assert run.finding(f"cannot read {REPO}: HTTP 404 for the identity") == [
        f"✗ cannot read {REPO}: HTTP 404 for the identity",
        "cause: the repository exists (you can see it); the identity has no read permission on it",
        GRANT_FIX,
    ]


def test_a_repository_nobody_can_see_is_a_wrong_name(world: World, doctor) -> None:
    misspelt = REPO + "s"
    world.outputs["readRepositories"] = [misspelt]
    run = doctor()
    assert run.code == 1
    assert run.finding(f"cannot read {misspelt}: HTTP 404") == [
        f"✗ cannot read {misspelt}: HTTP 404",
        "cause: no repository by that name in the project (you cannot see it either)",
        "fix:   correct the URL in the config key repositories, then pulumi up -s dev",
    ]


def test_a_project_level_denial_is_a_missing_grant(world: World, doctor) -> None:
    world.forbidden.add("platform/gitops")
    run = doctor()
    assert run.code == 1
    assert run.finding(f"cannot read {REPO}: HTTP 403") == [
        f"✗ cannot read {REPO}: HTTP 403",
        "cause: the identity may not read project platform: no GenericRead on the repository (accessModel repositories) "
        "or not in the project's Readers group (accessModel readers)",
        GRANT_FIX,
    ]


def test_a_hydration_target_without_contribute_and_notes_names_the_missing_bits(world: World, doctor) -> None:
    world.with_hydrator()
    world.push_bits["platform/gitops-hydrated"] = 2 | 16
    run = doctor()
    assert run.code == 1
    assert run.finding(f"may not push to {HYDRATED}: no GenericContribute, ManageNote") == [
        f"✗ may not push to {HYDRATED}: no GenericContribute, ManageNote",
        "cause: the Source Hydrator's commit-server pushes commits (GenericContribute) and a Git note per commit (ManageNote)",
        "fix:   pulumi up -s dev (it grants them to hydration targets); by hand: az devops security permission update "
        "--org https://dev.azure.com/contoso --namespace-id 2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87 --subject "
        "<identity's group descriptor> --token repoV2/project-platform-id/repo-hydrated-id --allow-bit 68",
    ]


def test_without_create_branch_the_push_holds_but_says_branches_must_exist(world: World, doctor) -> None:
    world.with_hydrator()
    world.push_bits["platform/gitops-hydrated"] = 4 | 64
    run = doctor()
    assert run.code == 0
    assert (f"✓ may push to {HYDRATED} (GenericContribute, ManageNote; no CreateBranch, so every target branch must "
            "exist; branch policies not evaluated)") in run.lines()
