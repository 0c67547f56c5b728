"""A small decorator registry for interchangeable parts (generators, loss terms, datasets, ...).

Parts are looked up by a short name that is stored in configs, so a saved model
rebuilds from plain data and never from pickled code.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Generic, TypeVar

from stylereel.errors import StylereelError, did_you_mean

T = TypeVar("T")


class UnknownName(StylereelError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise KeyError(f"{self.kind} {name!r} is registered twice")
            self._items[name] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except (KeyError, TypeError):
            valid = ", ".join(sorted(self._items))
            raise UnknownName(f"unknown {self.kind} {name!r}{did_you_mean(str(name), self._items)} (valid: {valid})") from None

    def check_options(self, name: str, options: Any, where: str) -> None:
        """Refuse, by name, keyword options the part `name` does not take (`where`: the config key they came from)."""
        if not isinstance(options, dict):
            raise StylereelError(f"{where}: expected a mapping of options, got {options!r}")
        params = inspect.signature(self.get(name)).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in params):
            return
        valid = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        for k in options:
            if k not in valid:
                raise StylereelError(f"unknown option '{where}.{k}'{did_you_mean(str(k), valid)} "
                                     f"(valid for {self.kind} {name}: {', '.join(valid) or 'none'})")

    def names(self) -> list[str]:
        return sorted(self._items)

    def values(self) -> list[T]:
        """Every part, in the order registered."""
        return list(self._items.values())

    def __contains__(self, name: str) -> bool:
        return name in self._items
