"""Releasing a value only once other resources exist, so that whatever is configured with it cannot act before them."""

from collections.abc import Sequence
from typing import TypeVar

import pulumi

_T = TypeVar("_T")


def once_created(value: pulumi.Input[_T], resources: Sequence[pulumi.CustomResource]) -> pulumi.Output[_T]:
    """`value`, known only after every resource in `resources` has been created (an Output of their IDs)."""
    return pulumi.Output.all(value, *(resource.id for resource in resources)).apply(lambda values: values[0])
