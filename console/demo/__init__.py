"""The embedded demo fleet: a private local PocketBase with a generated fleet and simulated devices.

`DemoFleetRunner` is imported lazily: the PocketBase fleet reads `console.demo.schema` without pulling in the runner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.demo.runner import DemoFleetRunner, default_demo_dir

__all__ = ["DemoFleetRunner", "default_demo_dir"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from console.demo import runner

        return getattr(runner, name)
    raise AttributeError(name)
