"""Reproducible factory data: one call seeds every random source the factories use."""

# factory-boy's functions are untyped; everything else here is checked strictly.
# mypy: disable-error-code="no-untyped-call"
from __future__ import annotations

import factory.random
from faker import Faker

from sessionerror.factories.classes import KIT_FACTORIES
from sessionerror.factories.team import generated_factories

__all__ = ["seed_factories"]


def seed_factories(seed: int) -> None:
    """Make the factories' data reproducible from ``seed``.

    Seeds factory-boy's random generator and the random generator shared by every Faker
    instance, and resets the sequences of the kit's factories and of those
    :func:`~sessionerror.factories.factories_for` built. Ids and timestamps stay unique.
    """
    factory.random.reseed_random(seed)
    Faker.seed(seed)
    for kit_factory in (*KIT_FACTORIES, *generated_factories()):
        kit_factory.reset_sequence()
