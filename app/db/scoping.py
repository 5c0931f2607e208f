"""The last gate before SQL reaches a family database: every family-table reference must be pinned to the family.

The ORM adds `family_id = :current` to what it builds (`app/db/session.py`); this module proves it did, on the SQL
string the driver is about to run. Each distinct statement is parsed once with sqlglot and reduced to a plan: which
bound parameters (or literals) pin which family-table reference. At execution the plan's values are compared with
the connection's family. A reference that nothing pins, a pin to another family, a statement shape the plan cannot
follow, or a statement on a connection outside any family raises `FamilyScopeError` before the database sees it.

The one escape hatch is `unscoped(reason)`: execution options naming why a statement may skip the gate. Its callers
are listed in ARCHITECTURE.md.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, cast

import sqlglot
from cachetools import LRUCache
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine.interfaces import DBAPICursor, ExecutionContext
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import TokenType

FAMILY_ID = "family_id"
FAMILY_OPTION = "housepoints_family_id"  # execution option: the family this connection's transaction belongs to
EXEMPT_OPTION = "housepoints_unscoped"  # execution option: why this statement may skip the gate


class FamilyScopeError(RuntimeError):
    """Family data was touched outside a family, in another family, or by a statement that cannot be scoped."""


class UnscopedReason(StrEnum):
    """The only reasons a statement may reach a family table without the gate (the named escape hatch)."""

    # Tests that go around the gate on purpose: to prove the walls behind it (RLS, triggers, roles), or to corrupt
    # a balance that `flask points reconcile` must then find.
    WALL_TEST = "wall-test"


def unscoped(reason: UnscopedReason) -> dict[str, str]:
    """Execution options that let one statement (or one connection) skip the gate, for a named reason."""
    return {EXEMPT_OPTION: UnscopedReason(reason).value}


@dataclass(frozen=True)
class Pin:
    """A value the statement binds that must equal the current family: a parameter name/position or a literal."""

    parameter: str | None
    literal: str | None = None


@dataclass(frozen=True)
class StatementPlan:
    """What one SQL string needs to be safe: the pins to check, or why it can never be."""

    touches_family_tables: bool
    pins: tuple[Pin, ...] = ()
    violation: str | None = None


@dataclass
class GateStats:
    """Counts for the test suite's report (and metrics later)."""

    checked: int = 0
    family_statements: int = 0
    exempt: int = 0
    refused: int = 0
    # The latest refusals only: a long-running process must not grow a list without end.
    refusals: deque[str] = field(default_factory=lambda: deque(maxlen=200))


stats = GateStats()
log = logging.getLogger(__name__)
_plans: LRUCache[tuple[str, str], StatementPlan] = LRUCache(maxsize=4096)
_plans_lock = threading.Lock()
_build_lock = threading.Lock()
_family_tables: frozenset[str] | None = None


def family_tables() -> frozenset[str]:
    """Names of the tables of the family schema (computed once, after every model is imported)."""
    global _family_tables
    if _family_tables is None:
        import app.models  # noqa: F401 - every model must be registered before the set is frozen
        from app.db.bases import FamilyBase

        _family_tables = frozenset(FamilyBase.metadata.tables)
    return _family_tables


# --- planning: once per distinct SQL string ----------------------------------------------------------------------

def plan_statement(sql: str, dialect: str) -> StatementPlan:
    """The cached plan for `sql` as the `dialect` driver will run it."""
    key = (dialect, sql)
    with _plans_lock:
        plan = _plans.get(key)
    if plan is None:
        # One plan built at a time: under the fleet benchmark (32 threads per worker meeting a statement for the
        # first time together) a concurrent parse once failed with a ParseError on a statement that parses fine,
        # and the refusal was cached for that process. Each distinct string is planned once, so this costs nothing
        # once warm.
        with _build_lock:
            with _plans_lock:
                plan = _plans.get(key)
            if plan is None:
                plan = _build_plan(sql, dialect)
                with _plans_lock:
                    _plans[key] = plan
    return plan


def _build_plan(sql: str, dialect: str) -> StatementPlan:
    lowered = sql.lower()
    if not any(name in lowered for name in family_tables()):
        return StatementPlan(touches_family_tables=False)
    read = "postgres" if dialect == "postgresql" else "sqlite"
    try:
        tree = sqlglot.parse_one(_name_positional_parameters(sql, read), read=read)
    except SqlglotError as error:
        return _refuse(f"cannot parse a statement on family tables ({error.__class__.__name__})")
    if not any(table.name in family_tables() for table in tree.find_all(exp.Table)):
        return StatementPlan(touches_family_tables=False)
    try:
        pins = _Planner(cast(exp.Expression, tree)).plan()  # the parser builds Expression nodes
    except _Unscopable as reason:
        return _refuse(str(reason))
    return StatementPlan(touches_family_tables=True, pins=tuple(pins))


def _refuse(reason: str) -> StatementPlan:
    return StatementPlan(touches_family_tables=True, violation=reason)


def _name_positional_parameters(sql: str, read: str) -> str:
    """Turn SQLite's `?` placeholders into `:p0, :p1, …` so a pin can name its position."""
    if read != "sqlite" or "?" not in sql:
        return sql
    parts: list[str] = []
    last = 0
    for index, token in enumerate(t for t in sqlglot.tokenize(sql, read=read) if t.token_type == TokenType.PLACEHOLDER):
        parts.append(sql[last:token.start])
        parts.append(f":p{index}")
        last = token.end + 1
    parts.append(sql[last:])
    return "".join(parts)


class _Unscopable(Exception):
    """A family-table reference that no pin constrains."""


class _Planner:
    """Walks one parsed statement; every family-table reference must end up pinned or the plan is refused."""

    def __init__(self, tree: exp.Expression) -> None:
        self.tree = tree
        self.pins: list[Pin] = []
        self.accounted: set[int] = set()

    def plan(self) -> list[Pin]:
        for node in self.tree.find_all(exp.Select, exp.Update, exp.Delete, exp.Insert):
            if isinstance(node, exp.Select):
                self._check_select(node)
            elif isinstance(node, exp.Insert):
                self._check_insert(node)
            else:
                self._check_update_or_delete(node)
        for table in self.tree.find_all(exp.Table):
            if table.find_ancestor(exp.Lock) is not None:
                continue  # FOR UPDATE OF <table> names a table its SELECT already reads
            if table.name in family_tables() and id(table) not in self.accounted:
                raise _Unscopable(f"'{table.name}' appears where the gate cannot follow it")
        return self.pins

    # Each SELECT, UPDATE or DELETE pins the family tables it reads directly (not those of nested selects,
    # which are checked on their own): by `ref.family_id = <value>` in its WHERE or a JOIN's ON, or by
    # `ref.family_id = other.family_id` with `other` pinned (here or in an enclosing statement).
    def _check_select(self, select: exp.Select) -> None:
        self._pin_sources(select, _direct_tables(select), _conditions(select))

    def _check_update_or_delete(self, node: exp.Expression) -> None:
        sources: list[exp.Table] = []
        target = node.this
        if isinstance(target, exp.Table):
            sources.append(target)
        for key in ("from", "from_", "using"):
            extra = node.args.get(key)
            if isinstance(extra, exp.From):
                sources.extend(_tables_of(extra.this))
            elif isinstance(extra, list):
                for item in extra:
                    sources.extend(_tables_of(item))
        for join in node.args.get("joins") or []:
            sources.extend(_tables_of(join.this))
        self._pin_sources(node, sources, _conditions(node))
        if isinstance(node, exp.Update):
            for assignment in node.expressions:
                if isinstance(assignment, exp.EQ) and _column_name(assignment.this) == FAMILY_ID:
                    self.pins.append(self._value_pin(assignment.expression, "UPDATE sets family_id"))

    def _check_insert(self, insert: exp.Insert) -> None:
        target = insert.this
        columns: list[str] = []
        if isinstance(target, exp.Schema):
            columns = [ident.name for ident in target.expressions]
            target = target.this
        if not isinstance(target, exp.Table) or target.name not in family_tables():
            return
        self.accounted.add(id(target))
        if FAMILY_ID not in columns:
            raise _Unscopable(f"INSERT into '{target.name}' names no family_id")
        position = columns.index(FAMILY_ID)
        source = insert.expression
        if isinstance(source, exp.Values):
            for row in source.expressions:
                self.pins.append(self._value_pin(_tuple_item(row, position), "INSERT value"))
        elif isinstance(source, exp.Select):
            self._pin_selected_family(source, position)
        else:
            raise _Unscopable(f"INSERT into '{target.name}' from an unrecognised source")
        conflict = insert.args.get("conflict")
        if conflict is not None:
            for assignment in conflict.args.get("expressions") or []:
                if isinstance(assignment, exp.EQ) and _column_name(assignment.this) == FAMILY_ID:
                    raise _Unscopable("ON CONFLICT may not change family_id")

    def _pin_selected_family(self, select: exp.Select, position: int) -> None:
        """INSERT … SELECT: the family_id column must come from a pin, a pinned table, or bulk VALUES."""
        projections = select.expressions
        if position >= len(projections):
            raise _Unscopable("INSERT … SELECT has fewer columns than it inserts")
        value = _unwrap(projections[position])
        from_ = select.args.get("from") or select.args.get("from_")
        values = from_.this if isinstance(from_, exp.From) else None
        if isinstance(value, exp.Column) and isinstance(values, exp.Values):
            # SQLAlchemy's "insertmanyvalues": SELECT p1::UUID … FROM (VALUES (…), (…)) AS imp_sen(p0, p1, …)
            names = [ident.name for ident in values.args["alias"].columns] if values.args.get("alias") else []
            if value.name not in names:
                raise _Unscopable("bulk INSERT selects family_id from an unknown column")
            for row in values.expressions:
                self.pins.append(self._value_pin(_tuple_item(row, names.index(value.name)), "bulk INSERT value"))
            return
        if isinstance(value, exp.Column) and value.name == FAMILY_ID:
            return  # copied from a table of the SELECT, which _check_select pins on its own
        self.pins.append(self._value_pin(value, "INSERT … SELECT family_id"))

    def _pin_sources(self, node: exp.Expression, sources: list[exp.Table],
                     conditions: list[tuple[exp.Expression | None, str | None]]) -> None:
        """Pin each family table read here; `conditions` pairs a WHERE/ON with the one alias an outer join's ON
        may restrict (None: any alias, as in WHERE and inner joins)."""
        family_sources = [table for table in sources if table.name in family_tables()]
        if not family_sources:
            return
        by_alias = {table.alias_or_name: table for table in family_sources}
        only = family_sources[0].alias_or_name if len(sources) == 1 else None
        pinned: set[str] = set()
        links: list[tuple[str, str]] = []  # (from, to): `to` is pinned once `from` is
        for condition, restricts in conditions:
            for conjunct in _conjuncts(condition):
                if not isinstance(conjunct, exp.EQ):
                    continue
                left, right = _unwrap(conjunct.this), _unwrap(conjunct.expression)
                left_ref, right_ref = _family_ref(left, only), _family_ref(right, only)
                if left_ref and right_ref:
                    for source, target in ((left_ref, right_ref), (right_ref, left_ref)):
                        if restricts is None or target == restricts:
                            links.append((source, target))
                elif left_ref or right_ref:
                    ref = left_ref or right_ref or ""
                    value = right if left_ref else left
                    if isinstance(value, (exp.Placeholder, exp.Literal)) and restricts in (None, ref):
                        self.pins.append(self._value_pin(value, "family_id comparison"))
                        pinned.add(ref)
        outer = self._pinned_outside(node)
        changed = True
        while changed:
            changed = False
            for source, target in links:
                if target not in pinned and (source in pinned or (source in outer and source not in by_alias)):
                    pinned.add(target)
                    changed = True
        for alias, table in by_alias.items():
            if alias not in pinned:
                raise _Unscopable(f"'{table.name}' is read without family_id = <current family>")
            self.accounted.add(id(table))
        for table in family_sources:  # the same alias twice is still one pinned reference
            if table.alias_or_name in pinned:
                self.accounted.add(id(table))

    def _pinned_outside(self, node: exp.Expression) -> set[str]:
        """Aliases of family tables read by enclosing statements (a correlated subquery may link to them)."""
        names: set[str] = set()
        parent = node.parent
        while parent is not None:
            if isinstance(parent, (exp.Select, exp.Update, exp.Delete)):
                names.update(t.alias_or_name for t in _direct_tables(parent) if t.name in family_tables())
                if isinstance(parent.this, exp.Table):
                    names.add(parent.this.alias_or_name)
            parent = parent.parent
        return names

    @staticmethod
    def _value_pin(value: exp.Expression | None, what: str) -> Pin:
        value = _unwrap(value) if value is not None else None
        if isinstance(value, exp.Placeholder):
            return Pin(parameter=value.name)
        if isinstance(value, exp.Literal) and value.is_string:
            return Pin(parameter=None, literal=value.this)
        raise _Unscopable(f"{what} is not a bound value")


def _direct_tables(select: exp.Expression) -> list[exp.Table]:
    from_ = select.args.get("from") or select.args.get("from_")
    tables = _tables_of(from_.this) if isinstance(from_, exp.From) else []
    for join in select.args.get("joins") or []:
        tables.extend(_tables_of(join.this))
    return tables


def _conditions(node: exp.Expression) -> list[tuple[exp.Expression | None, str | None]]:
    """WHERE restricts every table; an inner join's ON too; an outer join's ON only the table it joins."""
    conditions: list[tuple[exp.Expression | None, str | None]] = [(node.args.get("where"), None)]
    for join in node.args.get("joins") or []:
        side = (join.side or "").upper()
        if not side:
            conditions.append((join.args.get("on"), None))
        elif side == "LEFT" and isinstance(join.this, exp.Table):
            conditions.append((join.args.get("on"), join.this.alias_or_name))
        # RIGHT and FULL joins: their ON restricts nothing the gate can rely on
    return conditions


def _tables_of(source: exp.Expression | None) -> list[exp.Table]:
    return [source] if isinstance(source, exp.Table) else []


def _conjuncts(condition: exp.Expression | None) -> Iterable[exp.Expression]:
    if condition is None:
        return []
    if isinstance(condition, (exp.Where, exp.Paren)):
        return _conjuncts(condition.this)
    if isinstance(condition, exp.And):
        return [*_conjuncts(condition.this), *_conjuncts(condition.expression)]
    return [condition]


def _unwrap(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.Cast, exp.Paren, exp.Alias)):
        node = node.this
    return node


def _column_name(node: exp.Expression) -> str:
    node = _unwrap(node)
    return node.name if isinstance(node, exp.Column) else ""


def _family_ref(node: exp.Expression, only: str | None) -> str | None:
    """The table alias of a `family_id` column (an unqualified one belongs to the statement's only table)."""
    if not isinstance(node, exp.Column) or node.name != FAMILY_ID:
        return None
    return node.table or only


def _tuple_item(row: exp.Expression, position: int) -> exp.Expression | None:
    items = row.expressions if isinstance(row, exp.Tuple) else [row]
    return items[position] if position < len(items) else None


# --- execution: every statement on a family engine -----------------------------------------------------------------

def check_execution(sql: str, parameters: Any, dialect: str, family_id: uuid.UUID | str | None,
                    many: bool) -> None:
    """Raise FamilyScopeError unless every family-table reference of `sql` is pinned to `family_id`."""
    stats.checked += 1
    plan = plan_statement(sql, dialect)
    if not plan.touches_family_tables:
        return
    stats.family_statements += 1
    if plan.violation is not None:
        _refused(plan.violation, sql)
    if family_id is None:
        _refused("family tables touched outside a family", sql)
    current = family_id if isinstance(family_id, uuid.UUID) else uuid.UUID(str(family_id))
    # executemany passes a list of rows; SQLAlchemy's insertmanyvalues batches say "many" but pass one flat row.
    batched = many and isinstance(parameters, (list, tuple)) and parameters \
        and isinstance(parameters[0], (Mapping, list, tuple))
    rows = parameters if batched else [parameters]
    for row in rows:
        for pin in plan.pins:
            value = pin.literal if pin.parameter is None else _parameter(row, pin.parameter)
            if _as_uuid(value) != current:
                _refused("statement pinned to another family", sql)


def _parameter(row: Any, name: str) -> Any:
    if isinstance(row, Mapping):
        return row.get(name)
    if isinstance(row, Sequence) and name.startswith("p") and name[1:].isdigit():
        index = int(name[1:])
        return row[index] if index < len(row) else None
    return None


def _as_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _refused(reason: str, sql: str) -> None:
    stats.refused += 1
    flat = " ".join(sql.split())
    stats.refusals.append(f"{reason}: {flat if len(flat) <= 400 else flat[:150] + ' … ' + flat[-250:]}")
    # The statement without its parameters (they may hold secrets): enough to find the code that built it.
    log.error("family-scope gate refused a statement (%s): %s", reason, flat[:2000])
    raise FamilyScopeError(reason)


def install_gate(engine: Engine) -> None:
    """Check every statement this engine sends (family engines: pooled and dedicated)."""
    event.listen(engine, "before_cursor_execute", _before_cursor_execute)


def _before_cursor_execute(conn: Connection, _cursor: DBAPICursor, statement: str, parameters: Any,
                           context: ExecutionContext | None, executemany: bool) -> None:
    options = context.execution_options if context is not None else conn.get_execution_options()
    if options.get(EXEMPT_OPTION):
        stats.exempt += 1
        return
    check_execution(statement, parameters, conn.dialect.name, options.get(FAMILY_OPTION), executemany)
