"""Work counted, not timed: the function calls a piece of code makes, for tests that guard
against a quadratic path.

A time bound (wall clock or CPU) fails on a loaded machine: CI once measured a parse of 0.1 CPU
seconds at 1.2 (a shared virtual core, a full garbage collection of the test process's heap).
The number of Python functions and builtins a call runs is the same on any machine, so a test
can bound it, or compare it at n and 4n (linear: about 4 times the calls; quadratic: 16).
Work done inside one builtin (a regular expression's backtracking, ``x in some_list``,
``bytes +=``) is not counted: tests of those count the calls of what the builtin calls
(``CountingStr``) or keep a bound in time far from both paths (and say why).
"""

from __future__ import annotations

import cProfile
import gc
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Calls:
    """How many times each function ran, by ``file:qualified name`` (builtins by cProfile's
    ``<built-in method ...>`` names)."""

    by_function: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.by_function.values())

    def of(self, name: str) -> int:
        """Calls of the functions whose key ends with ``name`` (``"header_fetch_parse"``)."""
        return sum(count for key, count in self.by_function.items() if key.endswith(name))

    def of_file(self, path: str) -> int:
        """Calls of the functions defined in a file whose path ends with ``path``."""
        return sum(
            count
            for key, count in self.by_function.items()
            if key.rpartition(":")[0].endswith(path)
        )


def counted(function: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, Calls]:
    """``function``'s result and the calls it made in this thread.

    The cyclic garbage collector is off meanwhile: a collection would run finalizers of
    objects other tests left behind, whose calls are no work of ``function``'s.
    """
    profiler = cProfile.Profile(builtins=True)
    collecting = gc.isenabled()
    gc.disable()
    try:
        profiler.enable()
        try:
            result = function(*args, **kwargs)
        finally:
            profiler.disable()
    finally:
        if collecting:
            gc.enable()
    calls: Counter[str] = Counter()
    for entry in profiler.getstats():
        code = entry.code
        key = code if isinstance(code, str) else f"{code.co_filename}:{code.co_qualname}"
        calls[key] += entry.callcount
    return result, Calls(calls)


def growth(run: Callable[[int], Any], size: int, factor: int = 4) -> float:
    """How many times more calls ``run`` makes at ``factor * size`` than at ``size``: about
    ``factor`` when linear (less with fixed costs or a bound), ``factor ** 2`` when quadratic.
    A first run warms caches and imports."""
    run(size)
    return counted(run, factor * size)[1].total / counted(run, size)[1].total


class CountingStr(str):
    """A str that counts its comparisons: a list searched for each new item compares it with
    the ones before (n * n / 2 comparisons), a dict or set only on a hash collision."""

    comparisons = 0

    def __eq__(self, other: object) -> bool:
        CountingStr.comparisons += 1
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        CountingStr.comparisons += 1
        return str.__ne__(self, other)

    __hash__ = str.__hash__


def cpu_seconds(function: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """This thread's CPU seconds for ``function``, the garbage collector off meanwhile (a full
    collection of a test process's heap costs up to a second of it). For the few guards whose
    old path's work was inside one builtin (a regular expression's backtracking): their bound
    sits far (10 times or more) from both the loaded machine's figure and the old path's, and
    the comment at each says both; the figures over time are in bench/."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        started = time.thread_time()
        function(*args, **kwargs)
        return time.thread_time() - started
    finally:
        if collecting:
            gc.enable()
