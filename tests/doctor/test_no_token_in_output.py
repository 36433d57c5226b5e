"""No token the doctor holds (the service-account token, the identity's Azure DevOps token, the person's own
Azure DevOps token) ever reaches its output: text, JSON, standard error or the logs."""

from __future__ import annotations

import logging

import pytest

from tests.doctor.fakes import World


def _break_nothing(world: World) -> None:
    pass


def _refuse_the_exchange(world: World) -> None:
    world.credentials[0]["subject"] = "system:serviceaccount:argocd:someone-else"


def _hide_the_repository(world: World) -> None:
    world.readable.clear()  # the person's token is used to tell a wrong name from a missing grant
    world.entitlement_readable = False


@pytest.mark.parametrize("arrange", [_break_nothing, _refuse_the_exchange, _hide_the_repository])
@pytest.mark.parametrize("mode", [[], ["--json"]])
def test_no_token_reaches_stdout_stderr_json_or_logs(world: World, doctor, caplog, arrange, mode: list[str]) -> None:
    arrange(world)
    with caplog.at_level(logging.DEBUG):
        run = doctor(*mode)
    assert world.issued_service_account_tokens, "the doctor asked for a service-account token"
    everything = run.out + run.err + caplog.text
    for token in world.secrets_seen():
        for part in [token, *token.split(".")]:
            assert part not in everything


def test_the_tokens_were_really_used(world: World, doctor) -> None:
    """The test above would pass trivially if the doctor never held the tokens; it does."""
    _hide_the_repository(world)
    run = doctor()
    assert "✓ Entra exchanged the token" in run.out  # the service-account token, presented to Entra
    assert "✓ access level Basic (not Stakeholder)" in run.out  # the entitlement, read with the person's token
    assert "the repository exists (you can see it)" in run.out  # the repository, seen with the person's token
