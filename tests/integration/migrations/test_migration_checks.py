"""The three migration checks pass on a correct history and fail, listing why, on wrong ones."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic_project import AlembicProject

RunPytest = Callable[..., pytest.RunResult]

CHECKS = """
import models

def test_contract(sessionerror_migrations):
    sessionerror_migrations.assert_contract()

def test_drift(sessionerror_migrations):
    sessionerror_migrations.assert_no_drift(models.metadata)

def test_round_trip(sessionerror_migrations):
    sessionerror_migrations.assert_round_trip()
"""


def _run(run_pytest: RunPytest, server_url: str, *extra: str) -> pytest.RunResult:
    return run_pytest(
        "-rf", "--sessionerror-backend", "all", "--sessionerror-postgres-url", server_url,
        "--sessionerror-alembic-ini", "alembic.ini", *extra,
    )  # fmt: skip


def test_a_correct_history_passes_all_three_checks_on_both_backends(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    _run(run_pytest, server_url).assert_outcomes(passed=6)


def test_contract_check_fails_with_the_fix_on_a_history_that_drops_an_index(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    project.add_revision(
        "0004_drop_index",
        "0003",
        "    op.drop_index('idx_session_errors_category', table_name='session_errors')",
        "    op.create_index('idx_session_errors_category', 'session_errors', ['error_category'])",
    )
    pytester.makepyfile(test_checks=CHECKS)
    result = _run(run_pytest, server_url, "-k", "contract")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*violates the SessionError contract*", "*error_category*"])
    result.stdout.fnmatch_lines(["*CREATE INDEX*idx_session_errors_category*"])


def test_drift_check_lists_each_difference(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    project.add_revision(
        "0004_notes",
        "0003",
        "    op.add_column('session_errors', sa.Column('notes', sa.Text(), nullable=True))\n"
        "    op.create_table('scratch', sa.Column('id', sa.Integer(), primary_key=True))",
        "    op.drop_table('scratch')\n    op.drop_column('session_errors', 'notes')",
    )
    pytester.makepyfile(test_checks=CHECKS)
    result = _run(run_pytest, server_url, "-k", "drift")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*the migrations and the models differ (2 difference(s))*",
            "*table scratch: in the migrated schema but not in the models*",
            "*column session_errors.notes: migrated schema only*",
        ]
    )


_DROP_CHECKS = """\
    names = ('operation_stage_valid', 'recovery_actions_list', 'technical_details_object')
    if op.get_bind().dialect.name == 'postgresql':
        for name in names:
            op.drop_constraint('ck_session_errors_' + name, 'session_errors', type_='check')
    else:
        with op.batch_alter_table('session_errors', recreate='always') as batch:
            for name in names:
                batch.drop_constraint('ck_session_errors_' + name, type_='check')"""


def test_a_revision_without_the_contract_checks_fails_check_and_drift(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    # Alembic's compare_metadata compares no CHECK: the kit's check and drift check must.
    project.add_revision("0004_drop_checks", "0003", _DROP_CHECKS, "    pass")
    pytester.makepyfile(test_checks=CHECKS)
    result = _run(run_pytest, server_url, "-k", "contract or drift")
    result.assert_outcomes(failed=4)
    for name in ("operation_stage_valid", "recovery_actions_list", "technical_details_object"):
        result.stdout.fnmatch_lines(
            [
                f"*FAIL  schema.check.{name}*",
                "*fix (DDL):*ALTER TABLE session_errors ADD CONSTRAINT "
                f"ck_session_errors_{name} CHECK (*",
            ]
        )
        result.stdout.fnmatch_lines(
            [f"*- CHECK ck_session_errors_{name} on session_errors: models only (CHECK (*"]
        )
    result.stdout.fnmatch_lines(["*no CHECK constraint on operation_stage*'uploading'*"])
    result.stdout.fnmatch_lines(["*rebuild the table with operation_stage*CHECK (*"])


def test_round_trip_check_names_what_the_downgrade_left_behind(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    project.add_revision(
        "0004_audit_marks",
        "0003",
        "    op.create_table('audit_marks', sa.Column('id', sa.Integer(), primary_key=True))",
        "    pass  # forgot to drop audit_marks",
    )
    pytester.makepyfile(test_checks=CHECKS)
    result = _run(run_pytest, server_url, "-k", "round_trip")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*round trip: downgrade to base left table audit_marks behind*"])


def test_round_trip_check_finds_enum_types_a_downgrade_leaves_on_postgresql(
    pytester: pytest.Pytester, project: AlembicProject, run_pytest: RunPytest, server_url: str
) -> None:
    # op.drop_table() leaves the native enum types behind: a classic forgotten downgrade step
    # (on every SQLAlchemy version; a metadata Table.drop() drops them itself on 2.0 only).
    path = project.versions / "0002_session_errors.py"
    text = path.read_text().replace("if bind.dialect.name == 'postgresql':", "if False:")
    text = text.replace(
        "Base.metadata.tables['session_errors'].drop(bind)", "op.drop_table('session_errors')"
    )
    path.write_text(text)
    pytester.makepyfile(test_checks=CHECKS)
    result = _run(run_pytest, server_url, "-k", "round_trip", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*test_round_trip[[]sqlite[]] PASSED*",
            "*downgrade to base left enum type error_category, enum type error_severity behind*",
        ]
    )


def test_the_fixture_says_what_to_set_without_migrations(
    pytester: pytest.Pytester, run_pytest: RunPytest
) -> None:
    pytester.makepyfile(
        "def test_checks(sessionerror_migrations):\n    sessionerror_migrations.assert_contract()\n"
    )
    result = run_pytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*sessionerror_migrations needs your migrations*alembic.ini*"])
