from sessionerror import assert_contract


def test_the_test_database_honours_the_contract(sessionerror_engine):
    assert_contract(sessionerror_engine)  # fails listing each violation with its fix


def test_the_same_through_the_fixture(sessionerror_assert_contract):
    sessionerror_assert_contract()  # or sessionerror_assert_contract(bind=my_engine)
