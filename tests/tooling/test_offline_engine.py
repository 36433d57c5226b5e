"""The offline engine refuses what the Pulumi engine refuses, so that a test run cannot pass where `pulumi up` stops."""

from __future__ import annotations

import pulumi
import pulumi_random as random
import pytest

from tools.offline.engine import run_components


def test_two_resources_with_one_urn_stop_the_run() -> None:
    def build() -> None:
        random.RandomString("same-name", length=4)
        random.RandomString("same-name", length=8)

    with pytest.raises(Exception, match=r"Duplicate resource URN '[^']*::same-name'"):
        run_components(build)


def test_the_same_name_under_another_type_is_another_resource() -> None:
    def build() -> None:
        random.RandomString("same-name", length=4)
        random.RandomPassword("same-name", length=8)

    assert len(run_components(build).resources) == 2


def test_resources_are_told_apart_by_their_ancestors_types_as_the_engine_does() -> None:
    """The engine's URN holds every ancestor's type; the mock's only the parent's. Same-named children of same-named
    components under two different outer types are two resources."""
    def build() -> None:
        for outer_type in ("test:index:Blue", "test:index:Green"):
            outer = pulumi.ComponentResource(outer_type, f"outer-{outer_type[-4:]}")
            middle = pulumi.ComponentResource("test:index:Middle", "middle", opts=pulumi.ResourceOptions(parent=outer))
            random.RandomString("leaf", length=4, opts=pulumi.ResourceOptions(parent=middle))

    assert len([r for r in run_components(build).resources if r.name == "leaf"]) == 2
