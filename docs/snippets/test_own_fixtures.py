from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sessionerror.testing import sessionerror_db_factory, sessionerror_engine_factory


class NotesBase(DeclarativeBase):  # another schema of yours
    pass


class Note(NotesBase):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))


notes_engine = sessionerror_engine_factory(metadata=NotesBase.metadata, backend="sqlite")
notes_db = sessionerror_db_factory(engine="notes_engine")  # rolled back after each test


def test_notes(notes_db):
    notes_db.add(Note(text="hello"))
    notes_db.flush()
    assert notes_db.query(Note).count() == 1
