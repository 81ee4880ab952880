from sqlalchemy.orm import Session

from sessionerror import Base, SessionError, bind_session
from sessionerror.engines.sqlite import create_sqlite_engine
from sessionerror.factories import SessionErrorFactory, bulk_create_history, seed_factories
from sessionerror.testing import load_dataset

engine = create_sqlite_engine(":memory:")
Base.metadata.create_all(engine)
seed_factories(1234)  # deterministic content

with Session(engine) as db, bind_session(db):
    blocking = SessionErrorFactory(blocking=True, with_file=True)
    assert blocking.is_blocking() and blocking.related_file_id is not None
    batch = SessionErrorFactory.create_batch(5, session=blocking.session, temporary=True)
    assert {error.error_category for error in batch} == {"temporary"}
    load_dataset(db, "upload_rejected")  # validated first, loaded in this transaction
    bulk_create_history(db, sessions=20, errors_per_session=3)  # Core executemany
    assert db.query(SessionError).count() >= 6 + 60
    db.rollback()
