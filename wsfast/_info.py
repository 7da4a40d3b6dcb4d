"""What ``python -m wsfast info`` shows: the environment wsfast runs in.

Where wsfast was imported from, which twin is active and why, the SIMD level
in use and every level the CPU supports, the environment switches, Python and
the platform.  The benchmark prints the same facts at the top of its report.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from typing import Any

__all__ = ["environment", "format_info"]


def environment() -> dict[str, Any]:
    """Version, location, twin and why, SIMD levels, switches, Python and platform."""
    import wsfast
    from wsfast import _codec

    env: dict[str, Any] = {
        "version": wsfast.__version__,
        "implementation": wsfast.IMPLEMENTATION,
        "reason": _codec.REASON,
        "simd": wsfast.SIMD,
        "location": _codec.PACKAGE_DIR,
        "source_tree": _codec.source_tree(),
        "other_copies": [
            {"path": folder, "compiled": _codec.has_compiled_modules(folder)}
            for folder in _codec.other_copies()
        ],
        "build_failure": _codec.build_failure(),
    }
    try:
        mask_c = importlib.import_module("wsfast._mask_c")
    except ImportError as exc:
        env["simd_supported"] = None
        env["compiled_twin"] = f"not available ({exc})"
    else:
        env["simd_supported"] = list(mask_c._supported_levels())
        try:
            _codec.load_twin("c")
        except ImportError as exc:
            env["compiled_twin"] = f"incomplete ({exc})"
        else:
            env["compiled_twin"] = "available"
            folder = os.path.dirname(os.path.abspath(mask_c.__file__ or ""))
            if folder != _codec.PACKAGE_DIR:  # e.g. through an editable install's finder
                env["compiled_twin"] += f" (from {folder})"
    env["deflate"] = _deflate(env)
    env["environment"] = {
        name: value for name, value in sorted(os.environ.items()) if name.startswith("WSFAST_")
    }
    env["python"] = {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "build": " ".join(platform.python_build()),
        "compiler": platform.python_compiler(),
        "gil_enabled": getattr(sys, "_is_gil_enabled", lambda: True)(),
        "executable": sys.executable,
    }
    env["platform"] = {
        "system": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_name(),
        "cpus": os.cpu_count(),
    }
    return env


def _deflate(env: dict[str, Any]) -> dict[str, Any]:
    """The permessage-deflate backends, and which inflater and deflater the
    decoder and encoder use by default."""
    from wsfast import _pmd

    chosen = _pmd.get_backend().name
    found: dict[str, Any] = {
        "backend": chosen,
        "installed": list(_pmd.available_backends()),
    }
    for role, module in (("inflater", "_inflate_c"), ("deflater", "_deflate_c")):
        try:
            compiled_module = importlib.import_module(f"wsfast.{module}")
        except ImportError as exc:
            compiled = None
            why = f"not built ({exc})"
        else:
            compiled = compiled_module.ZLIB_RUNTIME_VERSION
            why = f"built, on zlib {compiled}"
        if env["implementation"] != "c":
            engine = "the shared pure engine (pure twin)"
        elif chosen != "zlib":
            engine = f"the shared pure engine over {chosen} (compiled {role}: {why})"
        elif compiled is None:
            engine = f"the shared pure engine (compiled {role}: {why})"
        else:
            engine = f"compiled, over zlib {compiled}"
        found[f"compiled_{role}"] = compiled
        found[role] = engine
    return found


def _cpu_name() -> str:
    """The CPU model name when the OS tells it cheaply, else platform.processor()."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def format_info(env: dict[str, Any]) -> str:
    """The text form of :func:`environment`, one fact a line."""
    py = env["python"]
    plat = env["platform"]
    supported = env["simd_supported"]
    location = env["location"]
    if env["source_tree"] is not None:
        location += f" (a source tree: {env['source_tree']})"
    lines = [
        f"wsfast {env['version']}",
        f"imported from:    {location}",
        f"implementation:   {env['implementation']}",
        f"  because:        {env['reason']}",
        f"SIMD:             {env['simd'] if env['simd'] is not None else '- (pure twin)'}",
        f"SIMD supported:   {', '.join(supported) if supported else '- (no compiled twin)'}",
        f"compiled twin:    {env['compiled_twin']}",
    ]
    deflate = env["deflate"]
    lines.append(f"deflate backend:  {deflate['backend']} (installed: "
                 f"{', '.join(deflate['installed'])})")
    lines.append(f"inflater:         {deflate['inflater']}")
    lines.append(f"deflater:         {deflate['deflater']}")
    if env["build_failure"] is not None:
        lines.append(f"build:            the compile failed: {env['build_failure']}")
    for copy in env["other_copies"]:
        has = "with the compiled twin" if copy["compiled"] else "pure-Python only"
        lines.append(f"other copy:       {copy['path']} ({has}; not the one imported)")
    lines += [
        f"python:           {py['implementation']} {py['version']} ({py['build']}), "
        f"{py['compiler']}" + ("" if py["gil_enabled"] else ", free-threaded (no GIL)"),
        f"executable:       {py['executable']}",
        f"platform:         {plat['system']}",
        f"machine:          {plat['machine']}, {plat['processor']}, {plat['cpus']} CPUs",
    ]
    if env["environment"]:
        settings = " ".join(f"{k}={v}" for k, v in env["environment"].items())
        lines.append(f"environment:      {settings}")
    return "\n".join(lines)
