"""The directory facilitator's model (FIPA SC00023): what agents offer, and how searches match.

An ``AgentDescription`` (FIPA ``df-agent-description``) says which agent offers which
``ServiceDescription``s (``service-description``), with the protocols, ontologies and languages
it speaks and, optionally, a lease after which the registration lapses. Descriptions arrive as
JSON objects::

    {"agent": "translator",
     "services": [{"type": "translate", "name": "en-fr", "languages": ["json"],
                   "properties": {"pairs": "en-fr", "max_words": 1000}}],
     "protocols": ["fipa-request"], "lease": "2030-01-01T00:00:00Z"}

A search *template* has the same shape with every member optional, and matches as FIPA's DF
search does: each member the template gives must match (strings by equality, sets by
inclusion: the template's members are a subset of the description's; properties by equal
values), and each template service must match one of the agent's services. An empty template
matches every registration.

Pure: no IO. Errors are ``InvalidMessageError`` naming the field (``services[0].type``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from caxton.errors import InvalidMessageError

Scalar = str | int | float | bool
# Any name a message may carry (as in ``caxton.domain.acl``): agents of other platforms may
# register too. Capability addresses are not agents.
_AGENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.@:/+~-]{0,254}")
CAPABILITY_PREFIX = "service:"
MAX_STRING = 256
MAX_ITEMS = 64
MAX_LEASE_S = 10 * 365 * 24 * 3600
_SETS = ("protocols", "ontologies", "languages")
_SERVICE_FIELDS = frozenset({"name", "type", "ownership", "properties", *_SETS})
_AGENT_FIELDS = frozenset({"agent", "services", "lease", "lease_s", *_SETS})


@dataclass(frozen=True, slots=True)
class ServiceDescription:
    name: str | None = None
    type: str | None = None
    protocols: tuple[str, ...] = ()
    ontologies: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    ownership: str | None = None
    properties: dict[str, Scalar] = field(default_factory=dict)

    def offers(self, key: str) -> bool:
        """Whether a capability address ``service:key`` names this service."""
        return key in (self.type, self.name)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "protocols": list(self.protocols),
                "ontologies": list(self.ontologies), "languages": list(self.languages),
                "ownership": self.ownership, "properties": dict(self.properties)}


@dataclass(frozen=True, slots=True)
class AgentDescription:
    agent: str | None = None
    services: tuple[ServiceDescription, ...] = ()
    protocols: tuple[str, ...] = ()
    ontologies: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    lease: str | None = None  # RFC 3339 UTC: the registration lapses then

    def expired(self, now: datetime) -> bool:
        return self.lease is not None and datetime.fromisoformat(self.lease) <= now

    def offers(self, key: str) -> bool:
        return any(s.offers(key) for s in self.services)

    def with_agent(self, agent: str) -> AgentDescription:
        return replace(self, agent=agent)

    def to_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "services": [s.to_dict() for s in self.services],
                "protocols": list(self.protocols), "ontologies": list(self.ontologies),
                "languages": list(self.languages), "lease": self.lease}


# -- parsing and validation --------------------------------------------------------------------
def parse_description(obj: Any, *, template: bool = False, where: str = "description",
                      now: datetime | None = None) -> AgentDescription:
    """Validate a JSON object into a description (or, with ``template``, a search template).

    A registration names its ``agent`` and gives each service a ``type`` or a ``name``.
    ``lease`` is an RFC 3339 date-time; ``lease_s`` a number of seconds from ``now`` instead.
    """
    _object(obj, where, _AGENT_FIELDS)
    agent = obj.get("agent")
    if agent is not None:
        if (not isinstance(agent, str) or _AGENT.fullmatch(agent) is None
                or agent.startswith(CAPABILITY_PREFIX)):
            raise InvalidMessageError(f"{where}.agent", f"{agent!r} is not a valid agent name")
    elif not template:
        raise InvalidMessageError(f"{where}.agent", "is required")
    services = _list(obj.get("services"), f"{where}.services")
    return AgentDescription(
        agent=agent,
        services=tuple(parse_service(s, template=template, where=f"{where}.services[{i}]")
                       for i, s in enumerate(services)),
        protocols=_strings(obj.get("protocols"), f"{where}.protocols"),
        ontologies=_strings(obj.get("ontologies"), f"{where}.ontologies"),
        languages=_strings(obj.get("languages"), f"{where}.languages"),
        lease=None if template else _lease(obj, where, now or datetime.now(UTC)),
    )


def parse_service(obj: Any, *, template: bool = False, where: str = "service"
                  ) -> ServiceDescription:
    _object(obj, where, _SERVICE_FIELDS)
    service = ServiceDescription(
        name=_string(obj.get("name"), f"{where}.name"),
        type=_string(obj.get("type"), f"{where}.type"),
        protocols=_strings(obj.get("protocols"), f"{where}.protocols"),
        ontologies=_strings(obj.get("ontologies"), f"{where}.ontologies"),
        languages=_strings(obj.get("languages"), f"{where}.languages"),
        ownership=_string(obj.get("ownership"), f"{where}.ownership"),
        properties=_properties(obj.get("properties"), f"{where}.properties"),
    )
    if not template and service.type is None and service.name is None:
        raise InvalidMessageError(f"{where}.type", "a service needs a type or a name")
    return service


def parse_services(value: Any, where: str = "services") -> tuple[ServiceDescription, ...]:
    """The services an agent declares when it is deployed (a JSON list, or None for none)."""
    return tuple(parse_service(s, where=f"{where}[{i}]")
                 for i, s in enumerate(_list(value, where)))


def _object(obj: Any, where: str, known: frozenset[str]) -> None:
    if not isinstance(obj, dict):
        raise InvalidMessageError(where, "must be a JSON object")
    for key in obj:
        if key not in known:
            raise InvalidMessageError(f"{where}.{key}", "unknown field")


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidMessageError(where, "must be a list")
    if len(value) > MAX_ITEMS:
        raise InvalidMessageError(where, f"at most {MAX_ITEMS} entries")
    return value


def _string(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidMessageError(where, "must be a string")
    if not 1 <= len(value) <= MAX_STRING or not value.isprintable():
        raise InvalidMessageError(where, f"must be 1 to {MAX_STRING} printable characters")
    return value


def _strings(value: Any, where: str) -> tuple[str, ...]:
    items = [_string(v, f"{where}[{i}]") for i, v in enumerate(_list(value, where))]
    return tuple(dict.fromkeys(v for v in items if v is not None))


def _properties(value: Any, where: str) -> dict[str, Scalar]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidMessageError(where, "must be an object of name to value")
    if len(value) > MAX_ITEMS:
        raise InvalidMessageError(where, f"at most {MAX_ITEMS} properties")
    out: dict[str, Scalar] = {}
    for key, item in value.items():
        _string(key, f"{where}.{key}")
        if isinstance(item, str):
            out[key] = _string(item, f"{where}.{key}") or ""
        elif isinstance(item, bool | int):
            out[key] = item
        elif isinstance(item, float) and math.isfinite(item):
            # JSON parsers read integers past 64 bits as floats; they stay floats (as an int
            # they could not be written out as JSON again).
            out[key] = int(item) if item.is_integer() and abs(item) < 2**63 else item
        else:
            raise InvalidMessageError(f"{where}.{key}",
                                      "a value must be a string, a number or a boolean")
    return out


def _lease(obj: dict[str, Any], where: str, now: datetime) -> str | None:
    absolute, relative = obj.get("lease"), obj.get("lease_s")
    if absolute is not None and relative is not None:
        raise InvalidMessageError(f"{where}.lease_s", "give lease or lease_s, not both")
    if relative is not None:
        if (isinstance(relative, bool) or not isinstance(relative, int | float)
                or not 0 < relative <= MAX_LEASE_S):
            raise InvalidMessageError(f"{where}.lease_s",
                                      f"must be a number of seconds from 0 to {MAX_LEASE_S}")
        return _iso(now + timedelta(seconds=relative))
    if absolute is None:
        return None
    if not isinstance(absolute, str):
        raise InvalidMessageError(f"{where}.lease", "must be an RFC 3339 date-time string")
    try:
        moment = datetime.fromisoformat(absolute.upper().replace(" ", "T"))
    except ValueError:
        raise InvalidMessageError(f"{where}.lease",
                                  f"{absolute!r} is not an RFC 3339 date-time") from None
    if moment.tzinfo is None:
        raise InvalidMessageError(f"{where}.lease", "must include a time zone (e.g. 'Z')")
    try:
        return _iso(moment)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-23:59 is past the year 9999 in UTC
        raise InvalidMessageError(f"{where}.lease", f"{absolute!r} is out of range") from None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def lease_of(moment: datetime) -> str:
    """``moment`` as a description's ``lease`` (RFC 3339, UTC)."""
    return _iso(moment)


# -- matching ----------------------------------------------------------------------------------
def _subset(wanted: tuple[str, ...], have: tuple[str, ...]) -> bool:
    return all(w in have for w in wanted)


def _same(a: Scalar, b: Scalar) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def service_matches(service: ServiceDescription, template: ServiceDescription) -> bool:
    return (
        (template.name is None or template.name == service.name)
        and (template.type is None or template.type == service.type)
        and (template.ownership is None or template.ownership == service.ownership)
        and _subset(template.protocols, service.protocols)
        and _subset(template.ontologies, service.ontologies)
        and _subset(template.languages, service.languages)
        and all(k in service.properties and _same(service.properties[k], v)
                for k, v in template.properties.items())
    )


def matches(description: AgentDescription, template: AgentDescription) -> bool:
    """FIPA DF search semantics: every member the template gives matches (lease is ignored)."""
    return (
        (template.agent is None or template.agent == description.agent)
        and _subset(template.protocols, description.protocols)
        and _subset(template.ontologies, description.ontologies)
        and _subset(template.languages, description.languages)
        and all(any(service_matches(s, t) for s in description.services)
                for t in template.services)
    )


def search(descriptions: Iterable[AgentDescription], template: AgentDescription,
           max_results: int | None = None, *, now: datetime | None = None
           ) -> list[AgentDescription]:
    """The live descriptions ``template`` matches, by agent name, at most ``max_results``."""
    moment = now or datetime.now(UTC)
    found = sorted((d for d in descriptions if not d.expired(moment) and matches(d, template)),
                   key=lambda d: d.agent or "")
    return found if max_results is None else found[:max_results]


def parse_max_results(value: Any, where: str = "max_results", *, default: int = 100,
                      high: int = 10_000) -> int:
    """FIPA ``max-results``: absent is ``default``; a negative number means "all" (``high``)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidMessageError(where, "must be an integer")
    if value == 0:
        raise InvalidMessageError(where, "must not be 0 (a negative number means all)")
    return high if value < 0 else min(value, high)
