"""Link 5: with the exchanged token, Azure DevOps knows and licenses the identity and lets it read (and push)."""

from __future__ import annotations

from tests.doctor.fakes import PRINCIPAL_ID, REPO, World

GRANT_FIX = "fix:   pulumi up -s dev (it grants GenericRead, or Readers membership with accessModel readers)"


def test_an_identity_the_organisation_does_not_know_asks_for_its_entitlement(world: World, doctor) -> None:
    world.member = False
    run = doctor()
    assert run.code == 1
    found = run.found("devops-refuses-token")
    assert found.status == "broken"
    assert found.fix == (
        f"pulumi up -s dev (it adds the service principal entitlement); check with az devops user show --user "
        f"{PRINCIPAL_ID} --org https://dev.azure.com/contoso"
    )


def test_a_stakeholder_licence_is_broken_and_the_read_gets_a_sign_in_page(world: World, doctor) -> None:
    world.licence = "stakeholder"
    run = doctor()
    assert run.code == 1
    found = run.found("access-level-stakeholder")
    assert found.status == "broken"
    assert found.fix == (
        "pulumi up -s dev (the entitlement is Basic, express in the API); or Organisation settings → Users → "
        "set the identity's access level to Basic"
    )
    found = run.found("repository-sign-in-wanted")
    assert found.status == "broken"


def test_an_entitlement_the_identity_may_not_read_is_read_with_the_persons_login(world: World, doctor) -> None:
    world.entitlement_readable = False
    run = doctor()
    assert run.code == 0
    assert ("access-level-ok", "ok") in run.findings()


def test_an_entitlement_nobody_may_read_is_inferred_from_a_readable_repository(world: World, doctor) -> None:
    world.entitlement_readable = world.person_reads_entitlements = False
    run = doctor()
    assert run.code == 0
    assert ("access-level-not-stakeholder", "ok") in run.findings()


def test_an_entitlement_nobody_may_read_and_no_readable_repository_is_a_question(world: World, doctor) -> None:
    world.entitlement_readable = world.person_reads_entitlements = False
    world.readable.clear()
    run = doctor()
    assert run.code == 1  # the unreadable repository is broken
    found = run.found("access-level-unreadable")
    assert found.status == "unknown"
    assert found.fix == (
        f"a Project Collection Administrator can: az devops user show --user {PRINCIPAL_ID} "
        "--org https://dev.azure.com/contoso"
    )


def test_a_repository_the_identity_may_not_see_but_the_person_can_is_a_missing_grant(world: World, doctor) -> None:
    world.readable.discard("platform/gitops")
    run = doctor()
    assert run.code == 1
    found = run.found("repository-hidden-from-identity")
    assert found.status == "broken"


def test_a_repository_nobody_can_see_is_a_wrong_name(world: World, doctor) -> None:
    misspelt = REPO + "s"
    world.outputs["readRepositories"] = [misspelt]
    run = doctor()
    assert run.code == 1
    found = run.found("repository-not-found")
    assert found.status == "broken"
    assert found.fix == "correct the URL in the config key repositories, then pulumi up -s dev"


def test_a_project_level_denial_is_a_missing_grant(world: World, doctor) -> None:
    world.forbidden.add("platform/gitops")
    run = doctor()
    assert run.code == 1
    found = run.found("repository-forbidden")
    assert found.status == "broken"


def test_a_hydration_target_without_contribute_and_notes_names_the_missing_bits(world: World, doctor) -> None:
    world.with_hydrator()
    world.push_bits["platform/gitops-hydrated"] = 2 | 16
    run = doctor()
    assert run.code == 1
    found = run.found("push-denied")
    assert found.status == "broken"
    assert found.fix == (
        "pulumi up -s dev (it grants them to hydration targets); by hand: az devops security permission update "
        "--org https://dev.azure.com/contoso --namespace-id 2e9eb7ed-3c0a-47d4-87c1-0ffdd275fd87 --subject "
        "<identity's group descriptor> --token repoV2/project-platform-id/repo-hydrated-id --allow-bit 68"
    )


def test_without_create_branch_the_push_holds_but_says_branches_must_exist(world: World, doctor) -> None:
    world.with_hydrator()
    world.push_bits["platform/gitops-hydrated"] = 4 | 64
    run = doctor()
    assert run.code == 0
    assert ("push-allowed", "ok") in run.findings()
    assert "no CreateBranch" in run.found("push-allowed").summary, "the summary says target branches must exist"
