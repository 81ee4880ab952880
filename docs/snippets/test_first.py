from sessionerror import SessionError
from sessionerror.factories import SessionErrorFactory


def test_a_blocking_error_blocks_its_session(sessionerror_db):
    error = SessionErrorFactory(blocking=True)  # written into sessionerror_db
    sessionerror_db.commit()  # allowed: the test's transaction is rolled back afterwards
    assert error.is_blocking()
    assert SessionError.has_blocking_errors(error.session_id)
