"""Time budgets for sympy calls, without signals.

:func:`sympy.integrate` and :func:`sympy.simplify` may run for minutes or
never finish on the integrands of queueing formulas. Every call of that kind
in :mod:`queuetheory.symbolic` goes through :func:`call_with_budget`, which
runs the call in a **worker process** and kills it when the budget is spent,
returning a fallback (typically the unevaluated ``Integral``).

Why a process: a thread cannot be stopped, so a timed-out ``integrate`` would
keep a core busy; signals (``SIGALRM``) work only in the main thread and not
on Windows. The worker is forked (``fork`` start method) on Python < 3.12, and
started by a fork server on newer Pythons (where forking a multi-threaded
process is deprecated). The function and its arguments must be picklable
(sympy expressions and module-level functions are).

Settings (module attributes, change them with :func:`configure`):

* ``budget`` -- default seconds per call (5.0);
* ``mode`` -- ``"process"`` (default), ``"thread"`` (the timed-out thread is
  abandoned and keeps running until it finishes) or ``"inline"`` (no budget:
  the call runs in the caller, for debugging).

>>> import sympy as sp
>>> x = sp.Symbol("x", positive=True)
>>> call_with_budget(sp.integrate, x * sp.exp(-x), (x, 0, sp.oo), budget=30)
1
"""

from __future__ import annotations

import multiprocessing
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import ParameterError, check_positive

__all__ = ["call_with_budget", "configure", "settings", "BudgetExceeded"]


class BudgetExceeded(TimeoutError):
    """The call did not finish within its time budget (raised only without a fallback)."""


_NO_FALLBACK = object()

#: Current settings: default budget in seconds and execution mode.
settings: dict[str, Any] = {"budget": 5.0, "mode": "process"}

_MODES = ("process", "thread", "inline")


def configure(*, budget: float | None = None, mode: str | None = None) -> dict[str, Any]:
    """Change the default budget (seconds) and/or mode; returns the previous settings."""
    old = dict(settings)
    if budget is not None:
        settings["budget"] = check_positive("budget", budget)
    if mode is not None:
        if mode not in _MODES:
            raise ParameterError(f"mode must be one of {_MODES} (got {mode!r})")
        settings["mode"] = mode
    return old


def _context() -> Any:
    if sys.platform.startswith("win"):  # pragma: no cover - no fork on Windows
        return multiprocessing.get_context("spawn")
    if sys.version_info < (3, 12):
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")  # pragma: no cover - Python >= 3.12
    ctx.set_forkserver_preload(["sympy", "queuetheory.symbolic"])  # pragma: no cover
    return ctx  # pragma: no cover


def _child(conn: Any, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
    try:
        result = ("ok", fn(*args, **kwargs))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent
        result = ("error", f"{type(exc).__name__}: {exc}")
    try:
        conn.send(result)
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
        conn.send(("error", f"result could not be sent back: {exc}"))
    finally:
        conn.close()


def _run_process(fn: Callable[..., Any], args: tuple, kwargs: dict, budget: float) -> tuple:
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, fn, args, kwargs), daemon=True)
    proc.start()
    child.close()
    try:
        if parent.poll(budget):
            try:
                return parent.recv()
            except EOFError:
                return ("error", "the worker process died")
        return ("timeout", None)
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join(5)


def _run_thread(fn: Callable[..., Any], args: tuple, kwargs: dict, budget: float) -> tuple:
    box: list[tuple] = []

    def target() -> None:
        try:
            box.append(("ok", fn(*args, **kwargs)))
        except BaseException as exc:  # noqa: BLE001
            box.append(("error", f"{type(exc).__name__}: {exc}"))

    th = threading.Thread(target=target, daemon=True)
    th.start()
    th.join(budget)
    return box[0] if box else ("timeout", None)


#: Statistics of the calls made (for the benchmark and tests).
stats: dict[str, float] = {"calls": 0, "timeouts": 0, "errors": 0, "seconds": 0.0}


def call_with_budget(fn: Callable[..., Any], *args: Any, budget: float | None = None,
                     fallback: Any = _NO_FALLBACK, mode: str | None = None,
                     **kwargs: Any) -> Any:
    """Call ``fn(*args, **kwargs)`` with a time budget; return ``fallback`` on timeout or error.

    Parameters
    ----------
    fn : callable
        A picklable callable (a module-level function) in process mode.
    budget : float, optional
        Seconds; default ``settings["budget"]``.
    fallback : optional
        Returned if the call times out or raises. Without it,
        :class:`BudgetExceeded` (timeout) or :class:`RuntimeError` (error) is raised.
    mode : {"process", "thread", "inline"}, optional
        Default ``settings["mode"]``.
    """
    budget = settings["budget"] if budget is None else check_positive("budget", budget)
    mode = settings["mode"] if mode is None else mode
    if mode not in _MODES:
        raise ParameterError(f"mode must be one of {_MODES} (got {mode!r})")
    start = time.perf_counter()
    stats["calls"] += 1
    if mode == "inline":
        try:
            outcome: tuple = ("ok", fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001
            outcome = ("error", f"{type(exc).__name__}: {exc}")
    elif mode == "thread":
        outcome = _run_thread(fn, args, kwargs, budget)
    else:
        outcome = _run_process(fn, args, kwargs, budget)
    stats["seconds"] += time.perf_counter() - start
    status, value = outcome
    if status == "ok":
        return value
    if status == "timeout":
        stats["timeouts"] += 1
        if fallback is _NO_FALLBACK:
            raise BudgetExceeded(f"{getattr(fn, '__name__', fn)} did not finish in {budget} s")
        return fallback
    stats["errors"] += 1
    if fallback is _NO_FALLBACK:
        raise RuntimeError(value)
    return fallback
