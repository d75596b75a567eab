"""The one place that tells core-module agents from component agents.

The runtime compiles, validates and instantiates agents without knowing which kind it holds:
``SandboxEngine.compile`` returns either kind, and these two functions pick the matching
validation and sandbox.
"""

from __future__ import annotations

from caxton.domain.agent_permissions import AgentPermissions
from caxton.domain.limits import ResourceLimits
from caxton.sandbox.call_context import HostServices
from caxton.sandbox.component import ComponentInstance
from caxton.sandbox.engine import Compiled, CompiledComponent, SandboxEngine
from caxton.sandbox.instance import AgentInstance
from caxton.sandbox.validate import check_component, check_module

__all__ = ["check", "instantiate"]


def check(engine: SandboxEngine, compiled: Compiled, limits: ResourceLimits,
          permissions: AgentPermissions | None = None) -> None:
    """Raise ModuleRejectedError naming the first way the agent breaks its contract.

    A core module importing a host function its permissions deny is refused here; a component
    imports the whole ``caxton:agent/host`` interface, so its calls are checked as they come.
    """
    if isinstance(compiled, CompiledComponent):
        check_component(compiled.component, engine.wasm)
    else:
        check_module(compiled.module, limits, permissions)


def instantiate(engine: SandboxEngine, compiled: Compiled, *, name: str,
                limits: ResourceLimits, services: HostServices,
                permissions: AgentPermissions | None = None) -> AgentInstance:
    """A new sandbox for the agent (not yet initialised)."""
    if isinstance(compiled, CompiledComponent):
        return ComponentInstance(engine, compiled, name=name, limits=limits, services=services,
                                 permissions=permissions)
    return AgentInstance(engine, compiled, name=name, limits=limits, services=services,
                         permissions=permissions)
