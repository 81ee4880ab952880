import myapp.models


def test_migrated_schema_holds_the_contract(sessionerror_migrations):
    sessionerror_migrations.assert_contract()  # the checker, with its DDL/SQLAlchemy fixes


def test_models_match_the_migrations(sessionerror_migrations):
    # your models; without an argument: the configured sessionerror_metadata
    sessionerror_migrations.assert_no_drift(myapp.models.Base.metadata)


def test_downgrade_and_upgrade_again(sessionerror_migrations):
    sessionerror_migrations.assert_round_trip()
