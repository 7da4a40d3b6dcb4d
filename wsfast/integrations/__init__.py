"""Drop-in acceleration of existing WebSocket stacks: ``patch()``, ``unpatch()``, ``patched()``.

Each supported stack has one module here, ``wsfast/integrations/<stack>.py``
(``websocket-client`` -> ``websocket_client.py``), which holds everything wsfast
knows about that stack and exposes:

``STACK``         the name ``patch()`` takes
``DISTRIBUTION``  the distribution whose installed version ``importlib.metadata`` reports
``SUPPORTED``     ``(low, high)``: versions ``v`` with ``low <= v < high`` (tuples of ints)
``targets()``     imports the stack; every ``(owner, attribute name, replacement)`` to install
``describe()``    one line: what is now accelerated

and, optionally:

``workloads()``    ``(name, setup)`` pairs that ``bench/stacks.py`` times with the
                   stack patched and not, each driving the objects ``targets()``
                   replaces (``setup()`` returns the callable to time);
``BENCH_PEERS``    data only: per topic of ``python -m wsfast bench``, the
                   :class:`BenchPeer` entries of this stack's own implementations
                   that wsfast is timed against (read through :func:`bench_peers`,
                   so ``wsfast._bench`` names no stack).

``targets()`` may raise ``Declined(reason)`` when patching would not help here
(e.g. only wsfast's pure-Python twin is available and the stack's own code is
faster): the stack is then left untouched, with a ``RuntimeWarning`` giving the
reason, like a version that is not supported.

The registry keeps, per patched stack, the original found in each owner's own
``__dict__`` (so for a class attribute the class's own entry, never an
inherited one) and puts exactly that object back on ``unpatch()``.  A stack is
patched whole or not at all: if installing one target fails, the targets
already installed are restored.  One lock serialises every call, so
concurrent ``patch``/``unpatch`` calls from several threads never interleave.

Nothing in the codec imports this package; an integration imports its stack
only in ``targets()``, so importing wsfast costs nothing for a stack.
"""

from __future__ import annotations

import importlib
import re
import threading
import warnings
from types import ModuleType
from typing import Any, NamedTuple

__all__ = ["STACKS", "Declined", "patch", "unpatch", "patched"]

#: Every stack name ``patch()`` accepts, mapped to its integration module.
_MODULES: dict[str, str] = {
    "websockets": "wsfast.integrations.websockets",
    "wsproto": "wsfast.integrations.wsproto",
    "aiohttp": "wsfast.integrations.aiohttp",
    "tornado": "wsfast.integrations.tornado",
    "autobahn": "wsfast.integrations.autobahn",
    "websocket-client": "wsfast.integrations.websocket_client",
}

#: The stack names ``patch()`` accepts, in the order ``patch()`` tries them.
STACKS: tuple[str, ...] = tuple(_MODULES)

#: Stands for "the owner had no attribute of that name in its own __dict__".
_ABSENT: Any = object()


class BenchPeer(NamedTuple):
    """One implementation of a stack that ``python -m wsfast bench`` times wsfast
    against: an entry of an integration's ``BENCH_PEERS[topic]``.

    Data only, so declaring it imports nothing: the benchmark topic imports
    ``paths`` when it runs.  What ``rows``, ``call`` and the object found at
    ``paths`` mean is the topic's vocabulary (its module docstring says).
    """

    #: The top-level module the stack is imported by (the report's list of
    #: peers, and the first word of a row's label).
    library: str
    #: A short id, unique within the topic (``bench/`` uses it as a test id).
    id: str
    #: ``"lib-c"`` (compiled code) or ``"lib-py"`` (pure Python).
    kind: str
    #: The topic's row groups this entry appears in.
    rows: tuple[str, ...]
    #: How the topic calls the object found (one of the topic's conventions).
    call: str
    #: Candidate ``module.attribute`` paths, newest layout first: the first
    #: that imports is used.
    paths: tuple[str, ...]
    #: Place among the topic's peers, smallest first (the report's row order).
    rank: int
    #: The row's label; empty: the topic derives it from the path found.
    label: str = ""
    #: Modules that must import first, each with what its absence means
    #: (empty: the import error itself).
    needs: tuple[tuple[str, str], ...] = ()
    #: Modules whose code is pure Python, for an object the stack picks at
    #: import: found under one of them the row is ``lib-py``, else ``lib-c``.
    py_modules: tuple[str, ...] = ()


#: The kinds a :class:`BenchPeer` may have.
BENCH_KINDS = ("lib-c", "lib-py")


def bench_peers(topic: str) -> list[BenchPeer]:
    """Every integration's :class:`BenchPeer` entries for benchmark ``topic``,
    by ``rank`` (then in registry order).  Imports the integration modules,
    never the stacks."""
    found: list[BenchPeer] = []
    for name in dict.fromkeys(_MODULES):
        module = _integration(name)
        if module is not None:
            found.extend(getattr(module, "BENCH_PEERS", {}).get(topic, ()))
    return sorted(found, key=lambda peer: peer.rank)


class Declined(Exception):
    """Raised by an integration's ``targets()``: patching would not help here (the reason)."""


class _Installed:
    """A patched stack: its description and what was replaced."""

    __slots__ = ("description", "saved")

    def __init__(self, description: str, saved: list[tuple[Any, str, Any, Any]]) -> None:
        self.description = description
        #: (owner, name, original or _ABSENT, replacement), in installation order.
        self.saved = saved


_lock = threading.Lock()
_installed: dict[str, _Installed] = {}


def _integration(stack: str) -> ModuleType | None:
    """The integration module of ``stack``; None when wsfast has none yet."""
    name = _MODULES[stack]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None
        raise


def _version_tuple(version: str) -> tuple[int, ...] | None:
    """The leading release numbers of a version string ("17.0.1rc1" -> (17, 0, 1))."""
    match = re.match(r"\s*v?(\d+(?:\.\d+)*)", version)
    if match is None:
        return None
    return tuple(int(part) for part in match.group(1).split("."))


def _installed_version(distribution: str) -> str | None:
    import importlib.metadata  # only when patching: it is slow to import

    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def _declined(stack: str, why: str, *, warn: bool) -> str:
    description = f"not accelerated: {why}"
    if warn:
        warnings.warn(f"wsfast.patch({stack!r}): {why}; {stack} is left untouched",
                      RuntimeWarning, stacklevel=4)
    return description


def _restore(saved: list[tuple[Any, str, Any, Any]]) -> None:
    """Put every saved original back, last installed first."""
    for owner, name, original, _replacement in reversed(saved):
        if original is _ABSENT:
            if name in vars(owner):
                delattr(owner, name)
        else:
            setattr(owner, name, original)


def _install(module: ModuleType) -> list[tuple[Any, str, Any, Any]]:
    """Install every target of ``module``; all of them, or none (then raise)."""
    targets = list(module.targets())
    saved: list[tuple[Any, str, Any, Any]] = []
    try:
        for owner, name, replacement in targets:
            original = vars(owner).get(name, _ABSENT)
            setattr(owner, name, replacement)
            saved.append((owner, name, original, replacement))
    except BaseException:
        _restore(saved)
        raise
    return saved


def _patch_one(stack: str, *, explicit: bool) -> str | None:
    """Patch ``stack`` (lock held); its description, or None to leave it out."""
    done = _installed.get(stack)
    if done is not None:
        return done.description
    try:
        module = _integration(stack)
    except Exception as exc:  # a broken integration must not break the caller
        return _declined(
            stack, f"wsfast's integration for {stack} failed to import "
            f"({type(exc).__name__}: {exc})", warn=True,
        )
    if module is None:
        if not explicit:
            return None
        return _declined(stack, f"wsfast has no integration for {stack} yet", warn=True)
    version = _installed_version(module.DISTRIBUTION)
    if version is None:
        if not explicit:
            return None
        return _declined(stack, f"{module.DISTRIBUTION} is not installed", warn=True)
    low, high = module.SUPPORTED
    numbers = _version_tuple(version)
    if numbers is None or not (tuple(low) <= numbers < tuple(high)):
        supported = f"{'.'.join(map(str, low))} <= version < {'.'.join(map(str, high))}"
        return _declined(
            stack, f"{module.DISTRIBUTION} {version} is not supported ({supported})", warn=True
        )
    try:
        saved = _install(module)
    except Declined as exc:
        return _declined(stack, f"{module.DISTRIBUTION} {version}: {exc}", warn=True)
    except Exception as exc:  # the stack changed under us: leave it as it was
        return _declined(
            stack, f"{module.DISTRIBUTION} {version} could not be patched "
            f"({type(exc).__name__}: {exc})", warn=True,
        )
    description: str = module.describe()
    _installed[stack] = _Installed(description, saved)
    return description


def _check_names(stacks: tuple[str, ...]) -> None:
    unknown = [s for s in stacks if s not in _MODULES]
    if unknown:
        raise ValueError(
            f"unknown stack name(s) {', '.join(map(repr, unknown))}: "
            f"expected some of {', '.join(_MODULES)}"
        )


def patch(*stacks: str) -> dict[str, str]:
    """Make the named stacks use wsfast in this process; their descriptions.

    With no names, every stack wsfast has an integration for and that is
    installed.  Each stack asked for (or found) gets a one-line description of
    what is now accelerated, or of why nothing was: wsfast has no integration
    for it yet, it is not installed, or its version is not supported.  Then the
    stack is left exactly as it was and a ``RuntimeWarning`` says why.

    An unknown name raises ``ValueError`` before anything is patched.  Patching
    a stack twice does nothing the second time.  Thread-safe.
    """
    _check_names(stacks)
    explicit = bool(stacks)
    names = tuple(dict.fromkeys(stacks)) if explicit else STACKS
    result: dict[str, str] = {}
    with _lock:
        for stack in names:
            description = _patch_one(stack, explicit=explicit)
            if description is not None:
                result[stack] = description
    return result


def unpatch(*stacks: str) -> None:
    """Restore the originals of the named stacks (no names: all), by identity.

    A stack that is not patched is left alone.  An unknown name raises
    ``ValueError`` before anything is restored.  Thread-safe.
    """
    _check_names(stacks)
    with _lock:
        for stack in stacks or tuple(_installed):
            done = _installed.pop(stack, None)
            if done is not None:
                _restore(done.saved)


def patched() -> dict[str, str]:
    """The stacks accelerated now, each with its description."""
    with _lock:
        return {stack: done.description for stack, done in _installed.items()}
