"""The services of the build-server demo.

Importing this package registers the Python services (``default``,
``windows-pool``, ``deployment``) in the process-wide registry. The
``linux-pool`` service is a C++ consumer module shipped with the package;
load it with ``engine.load_module(linux_pool_module())``.
"""

from __future__ import annotations

from pathlib import Path

from isoqube import errors

from . import default, deployment, windows_pool

PYTHON_SERVICES = (default.SERVICE, windows_pool.SERVICE, deployment.SERVICE)
LINUX_POOL_SERVICE = "linux-pool"
LINUX_POOL_LIBRARY = "libisoqube_linux_pool.so"


def linux_pool_module() -> Path:
    """Where the installed package keeps the Linux pool module (it may be
    missing in a source checkout that was not built)."""
    return Path(__file__).resolve().parents[2] / "services" / LINUX_POOL_LIBRARY


def require_linux_pool_module() -> Path:
    """The Linux pool module; raises isoqube.Error saying how to get it when
    it is missing."""
    module = linux_pool_module()
    if not module.is_file():
        raise errors.Error(f"the demo's Linux pool module is missing ({module}): "
                           "reinstall isoqube with its C++ part (pip install isoqube)")
    return module


__all__ = ["LINUX_POOL_SERVICE", "PYTHON_SERVICES", "linux_pool_module",
           "require_linux_pool_module"]
