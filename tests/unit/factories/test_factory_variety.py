"""A default ``SessionErrorFactory()`` varies its kind of error (issue 19): a summary of factory
data is not one pattern, the variety is reproducible, and traits and values still decide."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from sessionerror.factories import SessionErrorFactory, seed_factories
from sessionerror.factories.content import CATEGORY_WEIGHTS, STAGE_WEIGHTS, error_template
from sessionerror.models.enums import ErrorCategory, ErrorSeverity, OperationStage
from sessionerror.summary import summarise


def _kinds(count: int) -> list[tuple[str, ErrorCategory, str, str]]:
    errors = SessionErrorFactory.build_batch(count)
    return [
        (str(e.operation_stage), ErrorCategory(e.error_category), e.error_code, e.user_message)
        for e in errors
    ]


def test_thirty_default_errors_are_of_several_stages_categories_and_messages(
    sessionerror_db: Session,
) -> None:
    seed_factories(19)
    kinds = _kinds(30)
    assert len({stage for stage, _, _, _ in kinds}) > 1
    assert len({category for _, category, _, _ in kinds}) > 1
    assert len({code for _, _, code, _ in kinds}) > 3
    assert len({message for _, _, _, message in kinds}) > 3
    for stage, category, code, _ in kinds:  # the content still fits the drawn stage/category
        assert code == error_template(stage, category).error_code


def test_the_mix_follows_the_weights(sessionerror_db: Session) -> None:
    seed_factories(3)
    kinds = _kinds(1100)
    stages = Counter(OperationStage(stage) for stage, _, _, _ in kinds)
    categories = Counter(category for _, category, _, _ in kinds)
    for counted, weights in ((stages, STAGE_WEIGHTS), (categories, CATEGORY_WEIGHTS)):
        total = sum(weights.values())
        for value, weight in weights.items():
            expected = len(kinds) * weight / total
            assert abs(counted[value] - expected) < 0.25 * expected, (value, counted)


def test_the_variety_is_reproducible_from_the_seed(sessionerror_db: Session) -> None:
    seed_factories(42)
    first = _kinds(20)
    seed_factories(42)
    assert _kinds(20) == first
    seed_factories(43)
    assert _kinds(20) != first


def test_traits_and_values_stay_authoritative(sessionerror_db: Session) -> None:
    seed_factories(5)
    by_trait = SessionErrorFactory.build_batch(15, review=True, temporary=True)
    assert {(e.operation_stage, e.error_category) for e in by_trait} == {
        ("review", ErrorCategory.TEMPORARY)
    }
    by_value = SessionErrorFactory.build_batch(
        15, operation_stage="jira_export", error_category=ErrorCategory.ADMIN_REQUIRED
    )
    assert {e.error_code for e in by_value} == {"JIRA_AUTH_401"}
    # A default error never blocks its session by chance.
    assert {e.severity for e in SessionErrorFactory.build_batch(30)} == {ErrorSeverity.WARNING}


def test_a_summary_of_default_factory_data_shows_several_patterns(
    sessionerror_db: Session,
) -> None:
    seed_factories(11)
    SessionErrorFactory.create_batch(30)
    sessionerror_db.flush()
    summary = summarise(sessionerror_db.connection(), top=100)
    assert summary["total_errors"] == 30
    assert summary["pattern_count"] > 3
    assert len(summary["top_error_codes"]) > 3
