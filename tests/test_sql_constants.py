"""`tipoff.db.sql_constants`: our codes written into SQL as literals, and nothing that could carry a quote."""
import pytest
from sqlalchemy import column, select
from sqlalchemy.dialects import postgresql, sqlite

from tipoff.db import sql_constants


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()])
def test_codes_are_compiled_into_the_statement_not_bound(dialect):
    stmt = select(column("id")).where(column("status").in_(sql_constants(["received", "under_review", "a.b_2"])))
    compiled = stmt.compile(dialect=dialect)
    assert "IN ('received', 'under_review', 'a.b_2')" in str(compiled)
    assert compiled.params == {}


@pytest.mark.parametrize("value", ["it's", "a'; DROP TABLE tips; --", "Received", "", "a b", "é", "x\\"])
def test_anything_but_a_plain_code_is_refused(value):
    with pytest.raises(ValueError, match="not a plain code"):
        sql_constants(["received", value])
