"""The offline engine refuses what the Pulumi engine refuses, so that a test run cannot pass where `pulumi up` stops."""

from __future__ import annotations

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
