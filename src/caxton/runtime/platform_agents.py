"""The platform agents of FIPA SC00023: ``df`` (the directory facilitator) and ``ams`` (the agent
management system), and ``install``, which puts them and capability addressing in place.

``df`` performs register, deregister, modify and search on the directory. An agent may only
register, modify or deregister itself; an API client (a ``_client-`` sender) may act for any
agent. ``ams`` answers get-description (the platform: its name, services and addresses) and
search (the agents this host runs, by name and state). Both answer on the routing thread from
memory (see ``caxton.runtime.management``). In an SL answer to an agent of another platform,
local agents are named as that platform must name them: ``name@<platform>`` with our MTP address.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from caxton.codecs import fipa_sl
from caxton.codecs.fipa_sl import SlAction
from caxton.domain.acl import AclMessage
from caxton.domain.directory import parse_description, parse_max_results
from caxton.domain.ids import PLATFORM_AGENT, is_client_inbox
from caxton.domain.lifecycle import AgentState
from caxton.errors import InvalidMessageError
from caxton.router.capabilities import CapabilityResolver
from caxton.router.local import Router
from caxton.runtime.cell import AgentCell
from caxton.runtime.directory import Directory
from caxton.runtime.management import ManagementAgent, Request, Result, refuse
from caxton.store.directory import DirectoryRepository
from caxton.store.store import Store

DF = "df"
MTP_HTTP = "fipa.mts.mtp.http.std"
# FIPA's agent states for Caxton's (SC00023 section 5: initiated, active, suspended...).
FIPA_STATES = {
    AgentState.UNLOADED: "initiated", AgentState.LOADED: "initiated",
    AgentState.RUNNING: "active", AgentState.DRAINING: "active",
    AgentState.STOPPED: "suspended", AgentState.FAILED: "suspended",
}


def _first(action: SlAction, what: str) -> Any:
    if not action.args:
        raise InvalidMessageError(what, f"{action.act} needs a {what}")
    return action.args[0]


def _plain(name: str) -> str:
    return fipa_sl.render_aid(name)


class DfAgent(ManagementAgent):
    name = DF

    def __init__(self, route: Callable[[AclMessage], None], directory: Directory, *,
                 guid: fipa_sl.AidRenderer = _plain) -> None:
        super().__init__(route)
        self._directory = directory
        # How a local agent is named to an asker on another platform (its GUID and address).
        self._guid = guid

    def from_sl(self, action: SlAction) -> dict[str, Any]:
        if action.act not in ("register", "deregister", "modify", "search"):
            return {}
        body: dict[str, Any] = {"description": fipa_sl.description_from_sl(
            _first(action, "df-agent-description"))}
        if action.act == "search":
            body["max_results"] = fipa_sl.max_results_from_sl(
                action.args[1] if len(action.args) > 1 else None)
        return body

    def perform(self, msg: AclMessage, request: Request) -> Result:
        act, body, directory = request.act, request.body, self._directory
        if act == "search":
            template = parse_description(body.get("description") or {}, template=True)
            found = directory.search(template, parse_max_results(body.get("max_results")))
            aid = self._guid if _foreign(msg) else _plain
            return Result([d.to_dict() for d in found],
                          [fipa_sl.render_description(d, aid) for d in found])
        if act not in ("register", "modify", "deregister"):
            raise refuse("unsupported-function",
                         f"df does not perform '{act}' (it does register, deregister, "
                         "modify and search)")
        obj = body.get("description")
        if isinstance(obj, dict) and "agent" not in obj and not is_client_inbox(msg.sender):
            obj = {**obj, "agent": msg.sender}  # an agent speaks for itself by default
        if act == "deregister":
            agent = parse_description(obj, template=True).agent
            if agent is None:
                raise InvalidMessageError("description.agent", "is required")
            self._authorise(msg, act, agent)
            directory.deregister(agent)
            return Result({"agent": agent})
        description = parse_description(obj)
        assert description.agent is not None
        self._authorise(msg, act, description.agent)
        if act == "register":
            directory.register(description)
        else:
            directory.modify(description)
        return Result(description.to_dict())

    @staticmethod
    def _authorise(msg: AclMessage, act: str, agent: str) -> None:
        if not is_client_inbox(msg.sender) and msg.sender != agent:
            raise refuse("unauthorised",
                         f"'{msg.sender}' may only {act} itself, not '{agent}'")


class AmsAgent(ManagementAgent):
    name = PLATFORM_AGENT

    def __init__(self, route: Callable[[AclMessage], None],
                 cells: Callable[[], Sequence[AgentCell]], *, platform: str = "caxton",
                 endpoints: Callable[[], dict[str, str]] = dict,
                 guid: fipa_sl.AidRenderer = _plain) -> None:
        super().__init__(route)
        self._cells = cells
        self._guid = guid
        self.platform = platform
        # Where the platform is reached, by service type (MTP_HTTP, caxton.api.rest...).
        self.endpoints = endpoints

    def description(self) -> dict[str, Any]:
        services = [{"name": DF, "type": "fipa-df", "addresses": [f"{DF}@{self.platform}"]},
                    {"name": PLATFORM_AGENT, "type": "fipa-ams",
                     "addresses": [f"{PLATFORM_AGENT}@{self.platform}"]}]
        endpoints = self.endpoints()
        services += [{"name": kind, "type": kind, "addresses": [address]}
                     for kind, address in endpoints.items()]
        transport = [endpoints[MTP_HTTP]] if MTP_HTTP in endpoints else []
        return {"name": self.platform, "services": services, "addresses": transport}

    def from_sl(self, action: SlAction) -> dict[str, Any]:
        if action.act != "search":
            return {}
        return {"description": fipa_sl.ams_template_from_sl(
                    _first(action, "ams-agent-description")),
                "max_results": fipa_sl.max_results_from_sl(
                    action.args[1] if len(action.args) > 1 else None)}

    def perform(self, msg: AclMessage, request: Request) -> Result:
        if request.act == "get-description":
            platform = self.description()
            return Result(platform, [fipa_sl.render_ap_description(platform)])
        if request.act != "search":
            raise refuse("unsupported-function",
                         f"ams does not perform '{request.act}' (it does get-description and "
                         "search; agents are deployed and removed through the management API)")
        template = request.body.get("description") or {}
        if not isinstance(template, dict):
            raise InvalidMessageError("description", "must be a JSON object")
        unknown = set(template) - {"name", "state"}
        if unknown:
            raise InvalidMessageError(f"description.{sorted(unknown)[0]}", "unknown field")
        limit = parse_max_results(request.body.get("max_results"))
        found = [
            {"name": cell.name, "state": FIPA_STATES[cell.state],
             "caxton_state": cell.state.value, "version": cell.record.version}
            for cell in self._cells()
            if template.get("name") in (None, cell.name)
            and template.get("state") in (None, cell.state.value, FIPA_STATES[cell.state])
        ][:limit]
        aid = self._guid if _foreign(msg) else _plain
        return Result(found, [fipa_sl.render_ams_description(a, aid) for a in found])


def _foreign(msg: AclMessage) -> bool:
    """Whether ``msg`` came from another platform (whose agents are named NAME@PLATFORM)."""
    return "@" in msg.sender


def guid_renderer(platform: str, endpoints: Callable[[], dict[str, str]]
                  ) -> fipa_sl.AidRenderer:
    """A local agent's SL agent-identifier as another platform needs it: ``name@platform``
    with our MTP address (names of other platforms' agents are kept as they are)."""

    def render(name: str) -> str:
        if "@" in name:
            return fipa_sl.render_aid(name)
        mtp = endpoints().get(MTP_HTTP)
        return fipa_sl.render_aid(f"{name}@{platform}", (mtp,) if mtp else ())

    return render


def running_load(router: Router) -> Callable[[str], int | None]:
    """The mailbox depth of a running local agent, None for anything else."""

    def load(name: str) -> int | None:
        dest = router.lookup(name)
        if isinstance(dest, AgentCell) and dest.state is AgentState.RUNNING:
            return dest.mailbox_depth
        return None

    return load


def server_endpoints(server_file: Path, acc_url: str = "") -> Callable[[], dict[str, str]]:
    """Where the server is reached, from the file it writes once it listens (``url``, ``grpc``):
    read on first use (a get-description), then kept."""
    found: dict[str, str] = {}

    def endpoints() -> dict[str, str]:
        if not found:
            try:
                info = orjson.loads(server_file.read_bytes())
                url, grpc = str(info["url"]), str(info["grpc"])
            except (OSError, ValueError, KeyError, TypeError):
                return {}
            found.update({MTP_HTTP: acc_url or f"{url}/acc", "caxton.api.rest": url,
                          "caxton.api.grpc": grpc})
        return found

    return endpoints


def install(store: Store, router: Router, cells: Callable[[], Sequence[AgentCell]], *,
            platform: str = "caxton", acc_url: str = "", server_file: Path | None = None
            ) -> Directory:
    """Restore the directory and register ``df``, ``ams`` and ``service:`` addresses.

    ``server_file`` is where the server writes its addresses (for ``ams``'s description);
    ``acc_url`` the FIPA HTTP MTP address, if not ``<url>/acc``."""
    directory = Directory(DirectoryRepository(store.readers), store.submit)
    directory.restore()
    endpoints = server_endpoints(server_file, acc_url) if server_file else dict
    guid = guid_renderer(platform, endpoints)
    router.register(DF, DfAgent(router.route, directory, guid=guid))
    router.register(PLATFORM_AGENT, AmsAgent(router.route, cells, platform=platform,
                                             endpoints=endpoints, guid=guid))
    router.add_resolver(CapabilityResolver(directory, running_load(router)))
    return directory


__all__ = ["DF", "AmsAgent", "DfAgent", "guid_renderer", "install", "running_load",
           "server_endpoints"]
