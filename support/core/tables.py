"""The Core tables behind declarative models, typed as tables."""

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase


def table_of(model: type[DeclarativeBase]) -> Table:
    """Return the ``Table`` a model class is mapped to.

    SQLAlchemy types ``__table__`` as a ``FromClause`` (a class may be mapped to a join or a
    select), which Core ``insert()``/``update()`` do not accept; every model here maps to a table.
    """
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a table")
    return table
