"""The boundary: every public function's arguments checked, from its annotations, before any SQL.

``@boundary`` reads the decorated function's signature once, at import, and
checks every call against it:

- A parameter's annotation is its check: ``msgspec.convert(value, annotation,
  strict=True)``, after refusing what PostgreSQL cannot store (NUL, lone
  surrogates, datetimes beyond its range). Strict means no silent coercion:
  ``"5"`` is not an int, ``True`` is not an int, bytes are not text, a string
  is not a datetime. The constrained types (lengths, patterns, ranges, enums)
  are the ``Annotated`` aliases of ``models``: one source for the models and
  the functions. A failure is ``ValidationError`` naming the parameter
  (``limit``, ``mcp_server_ids[1]``).
- A Struct parameter (``task: NewTask``) must be an instance of its Struct (a
  dict is not converted) and is checked field by field through
  ``models.convert``; the error names the field (``prompt``). A parameter
  also annotated ``Shallow`` only has its shape checked (``entries``: the log
  append cleans and checks each entry itself, on the hot path).
- A parameter annotated ``Lookup`` (ids, user ids, setting keys: text a
  stranger controls) names a row. Of the right type but one no row can have
  (empty, too long, NUL, lone surrogate), it is answered like a missing row,
  without a query: None from a function returning ``X | None``, ``[]`` from one
  returning a list, else ``NotFoundError`` (or what ``missing=`` returns).
- ``conn`` must be a connection or a pool; a ``Callable`` must be callable; a
  parameter annotated ``object`` is not checked (it takes anything).
- A query on a database the migrations have not reached raises
  ``SchemaNotMigratedError`` naming the missing migration (``schema``).

Applying it to a new public function::

    @boundary
    async def continue_task(
        *, user_id: UserId, task_id: RowId, prompt: Prompt, conn: Conn | None = None
    ) -> Task:

Annotate with the ``models`` aliases (``UserId``, ``RowId``, ``Text`` ...) or an
inline ``Annotated[int, Meta(ge=1, le=MAX)]``; the names used in annotations
must be importable from the function's module (they are evaluated there, once).
Then add it to ``__all__``: ``tests/test_boundary.py`` fails for a public
function without the boundary, and ``tests/test_hostile_inputs.py`` feeds its
every parameter hostile values (give a new parameter name a valid value in its
``World.valid``).
"""

from __future__ import annotations

import functools
import inspect
import re
import types
import typing
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import asyncpg
import msgspec
from asyncpg.pool import PoolConnectionProxy

from coding_agent_db.errors import NotFoundError, ValidationError
from coding_agent_db.models import (
    UNSTORABLE,
    Lookup,
    Shallow,
    Within,
    convert,
    is_storable,
    unstorable_field,
    validation_error,
)
from coding_agent_db.schema import schema_error

__all__ = ["Lookup", "Shallow", "Within", "boundary", "is_checked"]

F = TypeVar("F", bound=Callable[..., Any])

# Values of these types pass through convert as they are (never parsed from a str).
_AS_IS = (bytes, bytearray, memoryview, datetime, date, time, timedelta)
_NUMERIC_META = ("gt", "ge", "lt", "le", "multiple_of", "tz")
_CONNECTIONS = (asyncpg.Connection, asyncpg.Pool, PoolConnectionProxy)
_NOUNS = {
    "user_id": "user",
    "task_id": "task",
    "message_id": "agent message",
    "sub_agent_id": "sub-agent",
    "connector_id": "connector",
    "token_id": "API token",
    "key": "setting",
}


class _Refused(Exception):
    """A lookup value no row can have."""


@dataclass(frozen=True)
class _Parameter:
    name: str
    check: Callable[[Any], Any]
    admits_none: bool


def _join(name: str, path: str) -> str:
    if not path or path == "<input>":
        return name
    return f"{name}{path}" if path.startswith("[") else f"{name}.{path}"


def _split(annotation: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type and the ``Annotated`` extras of ``annotation`` (nested ones flattened)."""
    if get_origin(annotation) is Annotated:
        base, *extras = get_args(annotation)
        return base, tuple(extras)
    return annotation, ()


def _optional(annotation: Any) -> tuple[Any, bool]:
    """``annotation`` without ``None``, and whether it admitted None."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) < len(get_args(annotation)):
            inner = members[0] if len(members) == 1 else Union[tuple(members)]  # noqa: UP007
            return inner, True
    return annotation, False


def _struct_type(annotation: Any) -> type[msgspec.Struct] | None:
    base, _ = _split(annotation)
    if isinstance(base, type) and issubclass(base, msgspec.Struct):
        return base
    return None


def _element_struct(annotation: Any) -> type[msgspec.Struct] | None:
    base, _ = _split(annotation)
    if get_origin(base) in (list, tuple, Sequence) and get_args(base):
        return _struct_type(get_args(base)[0])
    return None


def _text_check(name: str, annotation: Any) -> Callable[[Any], Any] | None:
    """A check of ``str`` with length/pattern ``Meta`` done in Python (ids are on every call's
    path: this is several times faster than ``msgspec.convert``), or None for other types."""
    base, extras = _split(annotation)
    extras = tuple(extra for extra in extras if extra not in (Lookup, Shallow))
    if base is not str or not all(isinstance(extra, msgspec.Meta) for extra in extras):
        return None
    low, high, patterns = 0, None, []
    for meta in extras:
        if any(getattr(meta, field) is not None for field in _NUMERIC_META):
            return None
        low = max(low, meta.min_length or 0)
        high = meta.max_length if high is None else min(high, meta.max_length or high)
        if meta.pattern is not None:
            patterns.append(re.compile(meta.pattern))

    def check_text(value: Any) -> Any:
        if not isinstance(value, str):
            raise ValidationError(name, f"Expected `str`, got `{type(value).__name__}`")
        if not is_storable(value):
            raise ValidationError(name, UNSTORABLE)
        if len(value) < low:
            raise ValidationError(name, f"Expected `str` of length >= {low}")
        if high is not None and len(value) > high:
            raise ValidationError(name, f"Expected `str` of length <= {high}")
        for pattern in patterns:
            if pattern.search(value) is None:
                raise ValidationError(name, f"Expected `str` matching regex {pattern.pattern!r}")
        return value

    return check_text


def _generic(name: str, annotation: Any, within: Within | None) -> Callable[[Any], Any]:
    text = _text_check(name, annotation)
    if text is not None:
        return text

    # A one-field Struct: msgspec caches a Struct's type information, while a
    # bare Annotated type is analysed again on every convert.
    holder = msgspec.defstruct(f"_{name}", [(name, annotation)])

    def check(value: Any) -> Any:
        where = unstorable_field(value, "")
        if where is not None:
            raise ValidationError(_join(name, where), UNSTORABLE)
        try:
            checked = getattr(
                msgspec.convert({name: value}, holder, strict=True, builtin_types=_AS_IS), name
            )
        except msgspec.ValidationError as exc:
            error = validation_error(exc)
            raise ValidationError(error.field, error.message) from None
        if within is not None and checked is not None and not within.low <= checked <= within.high:
            raise ValidationError(name, f"must be between {within.low} and {within.high}")
        return checked

    return check


def _checker(name: str, annotation: Any) -> tuple[Callable[[Any], Any], bool]:
    """The check of one parameter, and whether it admits None."""
    inner, admits_none = _optional(annotation)
    base, extras = _split(inner)

    def none_or(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
        if not admits_none:
            return check
        return lambda value: None if value is None else check(value)

    if base is object or base is Any:
        return (lambda value: value), True
    if get_origin(base) is Callable or base is Callable:

        def callable_check(value: Any) -> Any:
            if not callable(value):
                raise ValidationError(name, "must be callable")
            return value

        return none_or(callable_check), admits_none

    struct = _struct_type(base)
    if struct is not None:

        def struct_check(value: Any) -> Any:
            if not isinstance(value, struct):
                raise ValidationError(name, f"must be a {struct.__name__}")
            return value if Shallow in extras else convert(value, struct)

        return none_or(struct_check), admits_none

    element = _element_struct(base)
    if element is not None:

        def sequence_check(value: Any) -> Any:
            if not isinstance(value, (list, tuple)):
                raise ValidationError(name, f"must be a list of {element.__name__}")
            for index, item in enumerate(value):
                if not isinstance(item, element):
                    raise ValidationError(f"{name}[{index}]", f"must be a {element.__name__}")
            if Shallow in extras:
                return value
            try:
                return convert(list(value), typing.cast(Any, list[element]))  # type: ignore[valid-type]
            except ValidationError as exc:
                raise ValidationError(_join(name, exc.field), exc.message) from None

        return none_or(sequence_check), admits_none

    within = next((extra for extra in extras if isinstance(extra, Within)), None)
    full = _generic(name, inner, within)
    if Lookup not in extras:
        return none_or(full), admits_none

    kind = _generic(name, _split(base)[0], None)  # the bare type: str

    def lookup_check(value: Any) -> Any:
        if value is None and admits_none:
            return None
        if not isinstance(value, str):
            kind(value)  # ValidationError: the wrong type
        try:
            return full(value)
        except ValidationError:
            raise _Refused from None

    return lookup_check, admits_none


def _evaluate(annotation: Any, namespace: dict[str, Any]) -> Any:
    if isinstance(annotation, str):
        return eval(annotation, {**vars(typing), **namespace})  # noqa: S307 - our own annotations
    return annotation


def _missing_answer(function: Callable[..., Any], returns: Any) -> Callable[[str], Any]:
    """What the function answers for a row that does not exist (``returns``: its annotation)."""
    if get_origin(returns) in (Union, types.UnionType) and type(None) in get_args(returns):
        return lambda _: None
    if get_origin(returns) is list:
        return lambda _: []

    def not_found(parameter: str) -> Any:
        raise NotFoundError(f"no such {_NOUNS.get(parameter, parameter)}")

    return not_found


@typing.overload
def boundary(function: F) -> F: ...


@typing.overload
def boundary(*, missing: Callable[[], Any]) -> Callable[[F], F]: ...


def boundary(function: F | None = None, *, missing: Callable[[], Any] | None = None) -> Any:
    """Check every argument of ``function`` against its annotations before it runs.

    ``missing``: what to return for a ``Lookup`` value no row can have, when
    the return annotation does not say (e.g. an empty result object).
    """
    if function is None:
        return functools.partial(boundary, missing=missing)
    return _wrap(function, missing)


def _wrap(function: Callable[..., Any], missing: Callable[[], Any] | None) -> Any:
    signature = inspect.signature(function)
    namespace = inspect.unwrap(function).__globals__
    parameters: list[_Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name == "conn":
            parameters.append(_Parameter("conn", _check_conn, True))
            continue
        check, admits_none = _checker(parameter.name, _evaluate(parameter.annotation, namespace))
        parameters.append(_Parameter(parameter.name, check, admits_none))
    try:
        returns = _evaluate(signature.return_annotation, namespace)
    except (TypeError, NameError):  # e.g. asyncpg.Pool[...], subscriptable only for type checkers
        returns = None
    answer = (lambda _: missing()) if missing is not None else _missing_answer(function, returns)

    defaults = {
        p.name: p.default for p in signature.parameters.values() if p.default is not p.empty
    }
    positional = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    names = frozenset(signature.parameters)

    def checked_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        # signature.bind, without its cost on every call (the common case).
        if args:
            arguments = {**defaults, **dict(zip(positional, args, strict=False)), **kwargs}
        else:
            arguments = {**defaults, **kwargs}
        if len(args) > len(positional) or arguments.keys() != names:
            signature.bind(*args, **kwargs)  # raises TypeError naming the problem
        refused: str | None = None
        for parameter in parameters:
            try:
                arguments[parameter.name] = parameter.check(arguments[parameter.name])
            except _Refused:
                refused = refused or parameter.name
        if refused is not None:
            raise _Refused(refused)
        return arguments

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                arguments = checked_arguments(args, kwargs)
            except _Refused as refused:
                return answer(str(refused))
            call: Awaitable[Any] = function(**arguments)
            try:
                return await call
            except (
                asyncpg.UndefinedTableError,
                asyncpg.UndefinedColumnError,
                asyncpg.UndefinedFunctionError,
            ) as exc:
                translated = schema_error(exc)
                if translated is None:
                    raise
                raise translated from exc

    else:

        @functools.wraps(function)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                arguments = checked_arguments(args, kwargs)
            except _Refused as refused:
                return answer(str(refused))
            return function(**arguments)

    checked.__boundary__ = True  # type: ignore[attr-defined]
    return checked


def _check_conn(value: Any) -> Any:
    if value is not None and not isinstance(value, _CONNECTIONS):
        raise ValidationError("conn", "must be an asyncpg connection or pool")
    if isinstance(value, PoolConnectionProxy):
        # The connection a pool's proxy holds, for the length of this call: the
        # proxy's indirection costs each statement a few microseconds. A proxy
        # already released has none, and keeps raising asyncpg's error.
        held: asyncpg.Connection[asyncpg.Record] | None = getattr(value, "_con", None)
        return held or value
    return value


def is_checked(function: Callable[..., Any]) -> bool:
    """Whether ``function`` goes through the boundary."""
    return getattr(function, "__boundary__", False) is True
