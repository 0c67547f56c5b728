"""A small decorator registry for interchangeable parts (generators, loss terms, datasets, ...).

Parts are looked up by a short name that is stored in configs, so a saved model
rebuilds from plain data and never from pickled code.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

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

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items
