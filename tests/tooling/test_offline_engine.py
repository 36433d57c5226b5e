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


def test_an_option_set_on_a_component_reaches_every_descendant_as_the_engine_applies_it() -> None:
    """deletedWith, protect and retainOnDelete set on a component are inherited by children that do not set their own
    (pulumi/pulumi source_eval.go, inheritFromParent): a child's own value wins."""
    def build() -> None:
        anchor = random.RandomString("anchor", length=4)
        outer = pulumi.ComponentResource("test:index:Outer", "outer", opts=pulumi.ResourceOptions(
            deleted_with=anchor, protect=True, retain_on_delete=True,
        ))
        middle = pulumi.ComponentResource("test:index:Middle", "middle", opts=pulumi.ResourceOptions(parent=outer))
        random.RandomString("grandchild", length=4, opts=pulumi.ResourceOptions(parent=middle))
        random.RandomString("own-choice", length=4, opts=pulumi.ResourceOptions(parent=middle, protect=False))

    run = run_components(build)
    anchor = next(r for r in run.resources if r.name == "anchor")
    grandchild = next(r for r in run.resources if r.name == "grandchild")
    own_choice = next(r for r in run.resources if r.name == "own-choice")
    assert (grandchild.options["deleted_with"], grandchild.options["protect"], grandchild.options["retain_on_delete"]) == (
        anchor.urn, True, True,
    )
    assert own_choice.options["protect"] is False and own_choice.options["deleted_with"] == anchor.urn
    assert anchor.options["deleted_with"] is None and anchor.options["protect"] is False
