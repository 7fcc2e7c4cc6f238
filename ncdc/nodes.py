"""`@frozen` and `@mutable`: dataclasses that are quicker to make, and quicker to define.

`@dataclass` compiles each generated method from source when the class is defined, which was
most of the time `import ncdc` took.  The parser and the checker build hundreds of thousands of
syntax nodes, spans, axes, types and IR nodes for a large spec.

`@frozen` is `@dataclass(frozen=True)` and `@mutable` is `@dataclass`, with `eq=False` for
identity: the same fields, parameters and defaults, comparisons, hash, text and (for `@frozen`)
immutability.  Their `__init__` stores each field as a plain attribute (`self.x = x`, or
`object.__setattr__` for `@frozen`, whose own `__setattr__` refuses), never through
`self.__dict__`: an instance whose dictionary is never asked for keeps its values inline (no
dictionary object at all), so it is smaller, quicker to read, and the collector has one object to
scan instead of two.  `__init__`, `__eq__`, `__hash__` and `__repr__` are made when first called,
not when the class is defined (a method the class defines itself stays, as with `@dataclass`); those
of the classes checking uses come compiled ahead, from ncdc/_ahead.py (`ahead_source`).
"""

from __future__ import annotations

import reprlib
import sys
import types

from . import _ahead

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (2.4 ms of `import ncdc`)
if TYPE_CHECKING:  # type checkers read `@frozen` and `@mutable` as the dataclasses they make (PEP 681)
    from typing import Any, Callable, TypeVar, overload

    from typing_extensions import dataclass_transform

    T = TypeVar("T", bound=type)
else:
    def dataclass_transform(**_):
        return lambda function: function

    def overload(function):  # as typing's at run time: the plain def that follows replaces the overloads
        return function

_UNSET = object()  # the default of a parameter whose field has a default factory


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # `dataclasses.MISSING`: no default, no default factory


class Field:
    """A field, as `dataclasses.Field` describes one: the standard library's are made from these
    when they are first asked for (`dataclasses.fields`, `replace`, `asdict` of these classes), since
    importing `dataclasses` (and `inspect` with it) was a quarter of `import ncdc`; `fields`,
    `replace` and `is_dataclass` of this module answer without it."""

    __slots__ = ("name", "type", "default", "default_factory", "init", "repr", "hash", "compare", "metadata",
                 "kw_only")

    def __init__(self, default: Any, default_factory: Any, init: bool, repr: bool, hash: bool | None,
                 compare: bool, metadata: Any, kw_only: Any) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name: str = ""
        self.type: Any = None
        self.default, self.default_factory, self.init, self.repr = default, default_factory, init, repr
        self.hash, self.compare, self.kw_only = hash, compare, kw_only
        self.metadata = types.MappingProxyType({} if metadata is None else metadata)

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, default_factory={self.default_factory!r})"


def field(*, default: Any = MISSING, default_factory: Any = MISSING, init: bool = True, repr: bool = True,
          hash: bool | None = None, compare: bool = True, metadata: Any = None, kw_only: Any = MISSING) -> Any:
    """`dataclasses.field`, for the classes of `@frozen` and `@mutable`."""
    return Field(default, default_factory, init, repr, hash, compare, metadata, kw_only)


def _node_fields(cls: type) -> tuple[Field, ...] | None:
    """The fields of `cls` where these decorators made it (or the nearest dataclass it derives from
    without being one itself), else None: the standard library made it, or it is not a dataclass."""
    own = cls.__dict__.get("__node_fields__")
    if own is not None:
        return own
    if getattr(cls, "__node_fields__", None) is None:
        return None  # derived from none of these classes (a str, a list, ...)
    made = next((c for c in cls.__mro__ if "__dataclass_fields__" in c.__dict__), None)
    return made.__dict__.get("__node_fields__") if made is not None else None


def fields(class_or_instance: Any) -> tuple[Any, ...]:
    """`dataclasses.fields` (of the standard library's dataclasses too)."""
    found = _node_fields(class_or_instance if isinstance(class_or_instance, type) else type(class_or_instance))
    if found is None:
        import dataclasses

        return dataclasses.fields(class_or_instance)
    return found


def is_dataclass(obj: Any) -> bool:
    """`dataclasses.is_dataclass`: where `dataclasses` was never imported, only these classes can be."""
    if _node_fields(obj if isinstance(obj, type) else type(obj)) is not None:
        return True
    dataclasses = sys.modules.get("dataclasses")
    return dataclasses is not None and dataclasses.is_dataclass(obj)


def replace(obj: Any, /, **changes: Any) -> Any:
    """`dataclasses.replace`: a copy of `obj` with the fields in `changes` changed."""
    found = _node_fields(type(obj))
    if found is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)
    for f in found:
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
        elif f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


@overload
@dataclass_transform(frozen_default=True, field_specifiers=(field, Field))
def frozen(cls: T, /) -> T: ...


@overload
def frozen(*, eq: bool = True) -> Callable[[T], T]: ...


def frozen(cls: T | None = None, /, *, eq: bool = True) -> Any:
    """`@dataclass(frozen=True)`, or `@dataclass(frozen=True, eq=False)`, built as described above."""
    return _make(cls, eq, True)


@overload
@dataclass_transform(field_specifiers=(field, Field))
def mutable(cls: T, /) -> T: ...


@overload
def mutable(*, eq: bool = True) -> Callable[[T], T]: ...


def mutable(cls: T | None = None, /, *, eq: bool = True) -> Any:
    """`@dataclass`, or `@dataclass(eq=False)`, built as described above."""
    return _make(cls, eq, False)


def _make(cls: T | None, eq: bool, frozen: bool) -> Any:
    def make(cls: T) -> T:
        own = dict(cls.__dict__)
        if not _declare(cls, frozen):  # what this module does not do itself: the standard library does it
            import dataclasses

            cls = dataclasses.dataclass(cls, frozen=frozen, init=False, repr=False, eq=False)  # type: ignore[assignment]
            cls.__node_fields__ = tuple(_ours(f) for f in dataclasses.fields(cls))  # type: ignore[attr-defined]
        methods: dict[str, Any] = {"__init__": _first_init, "__repr__": _repr}
        if eq:  # a mutable dataclass that compares by value has no hash, as with @dataclass
            methods.update(__eq__=_first_eq, __hash__=_first_hash if frozen else None)
        stubbed = []
        for name, method in methods.items():
            if name not in own or (name == "__hash__" and own[name] is None and "__eq__" in own):
                setattr(cls, name, method)
                if name in _SOURCES and method is not None:
                    stubbed.append(name)
        _classes.append((cls, stubbed))
        return cls

    return make if cls is None else make(cls)


def _ours(f: Any) -> Field:
    """One of this module's fields for a `dataclasses.Field`."""
    import dataclasses

    def mine(value: Any) -> Any:
        return MISSING if value is dataclasses.MISSING else value

    made = Field(mine(f.default), mine(f.default_factory), f.init, f.repr, f.hash, f.compare, f.metadata,
                 mine(f.kw_only))
    made.name, made.type = f.name, f.type
    return made


def _standard(f: Field) -> Any:
    """The `dataclasses.Field` for one of this module's fields."""
    import dataclasses

    def theirs(value: Any) -> Any:
        return dataclasses.MISSING if value is MISSING else value

    made: Any = dataclasses.field(default=theirs(f.default), default_factory=theirs(f.default_factory), init=f.init,
                                  repr=f.repr, hash=f.hash, compare=f.compare, metadata=f.metadata,
                                  kw_only=theirs(f.kw_only))
    made.name, made.type, made._field_type = f.name, f.type, dataclasses._FIELD  # type: ignore[attr-defined]
    return made


class _StandardFields:
    """A class's `__dataclass_fields__`, for the standard library's functions: made when first asked for."""

    def __get__(self, instance: Any, owner: type) -> dict[str, Any]:
        maker = next(c for c in owner.__mro__ if "__node_fields__" in c.__dict__)  # owner, or a plain subclass's base
        made = {f.name: _standard(f) for f in maker.__node_fields__}  # type: ignore[attr-defined]
        maker.__dataclass_fields__ = made  # type: ignore[attr-defined]
        return made


class _Params:
    """A class's `__dataclass_params__`: these decorators make its methods themselves."""

    __slots__ = ("init", "repr", "eq", "order", "unsafe_hash", "frozen")

    def __init__(self, frozen: bool) -> None:
        self.init = self.repr = self.eq = self.order = self.unsafe_hash = False
        self.frozen = frozen


_STANDARD_FIELDS = _StandardFields()
_PARAMS = {frozen: _Params(frozen) for frozen in (False, True)}
_SPECIAL = ("ClassVar", "InitVar", "KW_ONLY")


def _field_of(value: Any) -> Field | None:
    """`value` as a field where it is one (of this module or of the standard library), else None."""
    if isinstance(value, Field):
        return value
    dataclasses = sys.modules.get("dataclasses")
    if dataclasses is not None and isinstance(value, dataclasses.Field):
        return _ours(value)
    return None


def _declare(cls: type, frozen: bool) -> bool:
    """What `dataclasses.dataclass(cls, frozen=frozen, init=False, repr=False, eq=False)` does, without
    its per-class costs (two regular expressions per field, a signature for the docstring, methods
    compiled from source for `frozen`): the fields, inherited ones first, the class attributes of
    their defaults, the parameters, `__match_args__`, and for `frozen` the refusing `__setattr__` and
    `__delattr__`.  False, doing nothing, for what it leaves to `dataclasses` (a `ClassVar`, an
    `InitVar` or `KW_ONLY` among the annotations, or a `__setattr__` of the class's own)."""
    annotations = cls.__dict__.get("__annotations__", {})
    if any(not isinstance(a, str) or any(word in a for word in _SPECIAL) for a in annotations.values()):
        return False
    if frozen and ("__setattr__" in cls.__dict__ or "__delattr__" in cls.__dict__):
        return False
    fields: dict[str, Field] = {}
    for base in cls.__mro__[-1:0:-1]:
        inherited = base.__dict__.get("__node_fields__")
        if inherited is None and "__dataclass_fields__" in base.__dict__:
            return False  # a base the standard library made
        if inherited is not None:
            if base.__dataclass_params__.frozen != frozen:  # type: ignore[attr-defined]
                raise TypeError("cannot inherit frozen dataclass from a non-frozen one" if frozen
                                else "cannot inherit non-frozen dataclass from a frozen one")
            fields.update((f.name, f) for f in inherited)
    for name, annotation in annotations.items():
        default = cls.__dict__.get(name, MISSING)
        given = _field_of(default)
        f = given if given is not None else field(default=default)
        f.name, f.type = name, annotation
        if f.kw_only is MISSING:
            f.kw_only = False
        if f.default is not MISSING and f.default.__class__.__hash__ is None:
            raise ValueError(f"mutable default {type(f.default)} for field {name} is not allowed: use default_factory")
        if given is not None:
            if f.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, f.default)
        fields[name] = f
    for name, value in cls.__dict__.items():
        if _field_of(value) is not None and name not in annotations:
            raise TypeError(f"{name!r} is a field but has no type annotation")
    made: dict[str, Any] = {"__node_fields__": tuple(fields.values()), "__dataclass_fields__": _STANDARD_FIELDS,
                            "__dataclass_params__": _PARAMS[frozen]}
    if "__match_args__" not in cls.__dict__:
        made["__match_args__"] = tuple(f.name for f in fields.values() if f.init)
    if frozen:
        made.update(__setattr__=_frozen_setattr, __delattr__=_frozen_delattr)
    for name, value in made.items():
        setattr(cls, name, value)
    if not cls.__dict__.get("__doc__"):
        cls.__doc__ = f"{cls.__name__}({', '.join(fields)})"
    return True


def _refused(cls: type, name: str) -> bool:
    """As with @dataclass: a class made by it refuses every name, a plain subclass its fields."""
    return "__node_fields__" in cls.__dict__ or any(f.name == name for f in cls.__node_fields__)  # type: ignore[attr-defined]


def _frozen_setattr(self, name: str, value: Any) -> None:
    if _refused(type(self), name):
        import dataclasses

        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    object.__setattr__(self, name, value)


def _frozen_delattr(self, name: str) -> None:
    if _refused(type(self), name):
        import dataclasses

        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
    object.__delattr__(self, name)


def _owner(cls: type, method: Callable) -> type:
    """The class that holds `method` itself (a subclass may inherit it): whose fields it is made for."""
    return next(c for c in cls.__mro__ if c.__dict__.get(method.__name__) is method)


def _install(self, stub: Callable) -> Callable:
    owner = _owner(type(self), stub)
    method = _compile(*_SOURCES[stub.__name__](owner), stub.__name__)
    method.__qualname__ = f"{owner.__qualname__}.{stub.__name__}"
    setattr(owner, stub.__name__, method)
    return method


def _first_init(self, *args: Any, **kwargs: Any) -> None:
    _install(self, _first_init)(self, *args, **kwargs)


def _first_eq(self, other: Any) -> Any:
    return _install(self, _first_eq)(self, other)


def _first_hash(self) -> int:
    return _install(self, _first_hash)(self)


_first_init.__name__, _first_eq.__name__, _first_hash.__name__ = "__init__", "__eq__", "__hash__"


def _compile(source: str, env: dict[str, Any], name: str) -> Callable:
    made = _ahead.MADE.get(source)
    if made is not None:  # compiled with ncdc (what compiling it here would give)
        return made(**env)
    exec(source, env)  # as @dataclass makes its methods, once per class, when first needed
    return env[name]


def _init_source(cls: type) -> tuple[str, dict[str, Any]]:
    params, lines = [], []
    env: dict[str, Any] = {"_UNSET": _UNSET, "_set": object.__setattr__}
    frozen = cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
    for f in cls.__node_fields__:  # type: ignore[attr-defined]
        if f.name in ("self", "fields_"):
            raise TypeError(f"@frozen: a field may not be called `{f.name}`")
        if f.kw_only:
            raise TypeError("@frozen: keyword-only fields are not supported")
        default = factory = None
        if f.default is not MISSING:
            env[f"_default_{f.name}"] = f.default
            default = f"_default_{f.name}"
        elif f.default_factory is not MISSING:
            env[f"_factory_{f.name}"] = f.default_factory
            factory = f"_factory_{f.name}()"
        if not f.init:
            value = default or factory
            if value is None:
                raise TypeError(f"@frozen: the field `{f.name}` is not set by __init__ and has no default")
        elif default is not None:
            params.append(f"{f.name}={default}")
            value = f.name
        elif factory is not None:
            params.append(f"{f.name}=_UNSET")
            value = f"{factory} if {f.name} is _UNSET else {f.name}"
        else:
            params.append(f.name)
            value = f.name
        lines.append(f"    _set(self, {f.name!r}, {value})" if frozen else f"    self.{f.name} = {value}")
    if hasattr(cls, "__post_init__"):
        lines.append("    self.__post_init__()")
    if not lines:
        lines.append("    pass")
    header = f"def __init__(self, {', '.join(params)}):\n"
    return header + "\n".join(lines) + "\n", env


def _values(fields: list, of: str) -> str:
    return "(" + "".join(f"{of}.{f.name}," for f in fields) + ")"


def _eq_source(cls: type) -> tuple[str, dict[str, Any]]:
    compared = [f for f in cls.__node_fields__ if f.compare]  # type: ignore[attr-defined]
    return ("def __eq__(self, other):\n    if other.__class__ is self.__class__:\n"
            f"        return {_values(compared, 'self')} == {_values(compared, 'other')}\n"
            "    return NotImplemented\n"), {}


def _hash_source(cls: type) -> tuple[str, dict[str, Any]]:
    hashed = [f for f in cls.__node_fields__ if (f.compare if f.hash is None else f.hash)]  # type: ignore[attr-defined]
    return f"def __hash__(self):\n    return hash({_values(hashed, 'self')})\n", {}


# The source of each method these decorators make, and the namespace it is run in.
_SOURCES = {"__init__": _init_source, "__eq__": _eq_source, "__hash__": _hash_source}
_classes: list[tuple[type, list[str]]] = []  # the classes made, in order, and the methods to make for them


def ahead_source() -> str:
    """The text of ncdc/_ahead.py: the methods of the classes made so far, as `_compile` makes them,
    each returned by a function of the names its source reads from its namespace.  Made in a fresh
    process that imported `ncdc` (the classes that checking makes); `python -m tests.update_golden`
    writes it, and tests/test_nodes.py checks that it is current."""
    made: dict[str, str] = {}
    for cls, names in _classes:
        for name in names:
            source, env = _SOURCES[name](cls)
            if source not in made:
                made[source] = (f"def _{len(made)}({', '.join(env)}):\n"
                                + "".join(f"    {line}\n" for line in source.splitlines()) + f"    return {name}\n")
    return (_AHEAD_DOC + "".join(f"\n\n{code}" for code in made.values())
            + "\n\nMADE: dict = {  # source: the function that makes its method\n"
            + "".join(f"    {source!r}: _{i},\n" for i, source in enumerate(made)) + "}\n")


_AHEAD_DOC = '''"""The methods `@frozen` and `@mutable` make for the classes that checking uses, compiled when
ncdc is (into its bytecode) rather than on first use: compiling the ~110 that `ncdc check specs/` makes
took a twentieth of its time.  Made by `ncdc.nodes.ahead_source` (`python -m tests.update_golden`): do
not edit.  Each is taken only where its source, the key, is what would be compiled: an entry out of
date is missed, never used.
"""
'''


@reprlib.recursive_repr()
def _repr(self) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.repr)
    return f"{type(self).__qualname__}({shown})"
