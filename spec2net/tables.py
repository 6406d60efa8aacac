"""One table type for every per-name lookup a backend keeps: kernels, gradients, emitters, writers.

A backend fills its tables by decorating one class or function per layer type (or activation,
loss, optimizer, metric); the table is declared where it is filled, so no ``__init__`` has to
import a module for its side effect. A missing entry is a ``MissingEntry`` error that names the
table and lists what it holds, never a bare ``KeyError``; ``missing(names)`` is what the
completeness test asks of every table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator


class MissingEntry(LookupError):
    """A table has no entry for a name: the message lists what it has."""


class Table:
    """A named mapping from a registry key to one backend entry.

    >>> KERNELS = Table("NumPy kernel")
    >>> @KERNELS.register("Dense")
    ... class Dense: pass
    >>> KERNELS["Dense"].__class__.__name__, "Conv9D" in KERNELS
    ('Dense', False)
    """

    def __init__(self, what: str, instantiate: bool = True):
        self.what = what  # "NumPy kernel": used in the missing-entry message
        self.instantiate = instantiate  # a registered class is stored as one instance of it
        self._entries: dict = {}

    def register(self, *names: str) -> Callable:
        """Decorator: ``@TABLE.register("Dense", "Alias")`` stores the class (an instance) or function."""

        def deco(obj):
            self.add(obj() if self.instantiate and isinstance(obj, type) else obj, *names)
            return obj

        return deco

    def add(self, entry, *names: str) -> None:
        """Store ``entry`` under each name; a second entry for one name is a programming error."""
        for name in names:
            if name in self._entries:
                raise ValueError(f"{self.what} {name!r} is registered twice")
            self._entries[name] = entry

    def __getitem__(self, name: str):
        try:
            return self._entries[name]
        except KeyError:
            raise MissingEntry(f"there is no {self.what} for {name!r}; there is one for: "
                               f"{', '.join(sorted(self._entries))}") from None

    def get(self, name: str, default=None):
        return self._entries.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def items(self):
        return self._entries.items()

    def missing(self, names: Iterable[str]) -> list[str]:
        """The names without an entry, sorted: what the completeness test reports."""
        return sorted(n for n in names if n not in self._entries)
