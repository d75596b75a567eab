"""FIPA-SL0 content of the ``fipa-agent-management`` ontology (SC00023): what JADE's DFService
and AMSService put in the requests they send to a platform's ``df`` and ``ams``, e.g.::

    ((action (agent-identifier :name df@caxton)
      (search (df-agent-description :services (set (service-description :type translate)))
              (search-constraints :max-results 10))))

``parse_action`` reads such content into the act and its arguments; the ``*_from_sl`` helpers
turn frames into the JSON shapes of ``caxton.domain.directory`` (so one validation serves both
forms), and the ``render_*`` helpers write answers back: ``((done <action>))``,
``((result <action> (sequence ...)))`` and, for refusals and failures,
``(<action> (<reason> "<explanation>"))``.

Pure: no IO. Content that is not SL, or not an ``action``, raises ``MalformedAclError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from caxton.codecs import sexpr
from caxton.codecs.fipa_time import format_token, parse_token
from caxton.codecs.sexpr import Atom, Expr, Group
from caxton.domain.directory import AgentDescription, ServiceDescription
from caxton.errors import InvalidMessageError, MalformedAclError

_PREFIX = "fipa.acl.rep.string.std: "


@dataclass(frozen=True, slots=True)
class SlAction:
    actor: str | None  # the agent asked to act (df@platform), as the request names it
    act: str  # register, deregister, modify, search, get-description... (lower case)
    args: tuple[Expr, ...]
    source: str  # the whole (action ...) expression, written back for the answer


def _fail(message: str) -> MalformedAclError:
    return MalformedAclError(f"fipa-sl0: {message}")


def parse_action(text: str) -> SlAction:
    """The ``(action <agent-identifier> (<act> <arg>...))`` that SL0 content ``text`` holds."""
    try:
        expr = sexpr.read(text.encode())
    except MalformedAclError as exc:
        raise _fail(exc.message.removeprefix(_PREFIX)) from None
    # SL content is a list of expressions: ((action ...)); accept a bare (action ...) too.
    if isinstance(expr, Group) and len(expr.items) == 1 and isinstance(expr.items[0], Group):
        expr = expr.items[0]
    if not isinstance(expr, Group) or _head(expr) != "action" or len(expr.items) != 3:
        raise _fail("the content must be (action <agent-identifier> (<act> ...))")
    act = expr.items[2]
    if isinstance(act, Atom):
        act = Group((act,), act.pos)
    name = _head(act)
    if name is None:
        raise _fail("the action's act must start with its name, e.g. (search ...)")
    return SlAction(actor=_aid(expr.items[1], "action"), act=name, args=act.items[1:],
                    source=sexpr.source(expr))


def _head(expr: Expr) -> str | None:
    if isinstance(expr, Group) and expr.items and isinstance(expr.items[0], Atom) \
            and expr.items[0].kind == "word":
        return expr.items[0].text.lower()
    return None


def frame(expr: Expr, name: str) -> dict[str, Expr]:
    """The slots of ``(name :slot value ...)``, keyed by lower-case slot name."""
    if _head(expr) != name:
        raise InvalidMessageError(name, f"expected ({name} ...), got {sexpr.source(expr)[:80]}")
    assert isinstance(expr, Group)
    items, slots = expr.items[1:], {}
    if len(items) % 2:
        raise InvalidMessageError(name, "slots come in pairs: :name value")
    for key, value in zip(items[::2], items[1::2], strict=True):
        if not isinstance(key, Atom) or not key.text.startswith(":"):
            raise InvalidMessageError(name, f"expected a :slot, got {sexpr.source(key)[:40]}")
        slots[key.text[1:].lower()] = value
    return slots


def mts_error_receiver(text: str) -> str | None:
    """The receiver an AMS's report of an undeliverable message names, or None: the content
    JADE's AMS (and Caxton's, see ``api.mtp.foreign.mts_error``) writes holds
    ``(MTS-error <receiver's agent-identifier> <reason>)``."""
    try:
        stack = [sexpr.read(text.encode())]
    except MalformedAclError:
        return None
    while stack:  # the reader bounds the nesting
        expr = stack.pop()
        if not isinstance(expr, Group):
            continue
        if _head(expr) == "mts-error" and len(expr.items) >= 2:
            try:
                return _aid(expr.items[1], "MTS-error")
            except InvalidMessageError:
                return None
        stack.extend(expr.items)
    return None


def _text(expr: Expr, where: str) -> str:
    if isinstance(expr, Atom):
        return expr.text
    raise InvalidMessageError(where, f"expected a word or string, got {sexpr.source(expr)[:40]}")


def _value(expr: Expr, where: str) -> str | int | float:
    if isinstance(expr, Atom) and expr.kind == "number":
        number = float(expr.text)
        return int(number) if number.is_integer() and "." not in expr.text else number
    return _text(expr, where)


def _aid(expr: Expr, where: str) -> str:
    if isinstance(expr, Atom):
        return expr.text
    slots = frame(expr, "agent-identifier")
    if "name" not in slots:
        raise InvalidMessageError(where, "an agent-identifier needs a :name")
    return _text(slots["name"], f"{where}.name")


def _set(expr: Expr) -> list[Expr]:
    if _head(expr) in ("set", "sequence"):
        assert isinstance(expr, Group)
        return list(expr.items[1:])
    return [expr]


def _strings(expr: Expr, where: str) -> list[str]:
    return [_text(item, where) for item in _set(expr)]


def service_from_sl(expr: Expr, where: str = "service-description") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for slot, value in frame(expr, "service-description").items():
        at = f"{where}.{slot}"
        if slot in ("name", "type", "ownership"):
            out[slot] = _text(value, at)
        elif slot in ("protocols", "ontologies", "languages", "protocol", "ontology",
                      "language"):
            out[slot.removesuffix("s") + "s"] = _strings(value, at)
        elif slot == "properties":
            props: dict[str, Any] = {}
            for item in _set(value):
                prop = frame(item, "property")
                if "name" not in prop:
                    raise InvalidMessageError(at, "a property needs a :name")
                props[_text(prop["name"], at)] = _value(prop.get("value", Atom("string", "", 0)),
                                                        at)
            out["properties"] = props
        else:
            raise InvalidMessageError(at, "unknown slot")
    return out


def description_from_sl(expr: Expr, where: str = "df-agent-description") -> dict[str, Any]:
    """A ``df-agent-description`` frame as the JSON object ``parse_description`` takes."""
    out: dict[str, Any] = {}
    for slot, value in frame(expr, "df-agent-description").items():
        at = f"{where}.{slot}"
        if slot == "name":
            out["agent"] = _aid(value, at)
        elif slot == "services":
            out["services"] = [service_from_sl(s, f"{at}[{i}]")
                               for i, s in enumerate(_set(value))]
        elif slot in ("protocols", "ontologies", "languages", "protocol", "ontology",
                      "language"):
            out[slot.removesuffix("s") + "s"] = _strings(value, at)
        elif slot == "lease-time":
            try:
                moment = parse_token(_text(value, at))
            except ValueError as exc:
                raise InvalidMessageError(at, str(exc)) from None
            out["lease"] = moment.isoformat()
        else:
            raise InvalidMessageError(at, "unknown slot")
    return out


def max_results_from_sl(expr: Expr | None) -> int | None:
    """``:max-results`` of a ``search-constraints`` frame (None when absent)."""
    if expr is None:
        return None
    value = frame(expr, "search-constraints").get("max-results")
    if value is None:
        return None
    if not isinstance(value, Atom) or value.kind != "number" or not _is_int(value.text):
        raise InvalidMessageError("search-constraints.max-results", "must be an integer")
    return int(value.text)


def _is_int(text: str) -> bool:
    return text.lstrip("+-").isdigit()


def ams_template_from_sl(expr: Expr) -> dict[str, Any]:
    """An ``ams-agent-description`` frame as ``{"name": ..., "state": ...}``."""
    out: dict[str, Any] = {}
    for slot, value in frame(expr, "ams-agent-description").items():
        if slot == "name":
            out["name"] = _aid(value, "ams-agent-description.name")
        elif slot in ("state", "ownership"):
            out[slot] = _text(value, f"ams-agent-description.{slot}")
        else:
            raise InvalidMessageError(f"ams-agent-description.{slot}", "unknown slot")
    return out


# -- rendering ---------------------------------------------------------------------------------
def _w(text: str) -> str:
    return sexpr.word_or_string(text)


def _aid_sl(name: str) -> str:
    return f"(agent-identifier :name {_w(name)})"


def render_aid(name: str, addresses: Iterable[str] = ()) -> str:
    """``(agent-identifier :name N :addresses (sequence URL...))`` (no addresses: just the
    name)."""
    urls = [_w(a) for a in addresses]
    if not urls:
        return _aid_sl(name)
    return f"(agent-identifier :name {_w(name)} :addresses {_set_sl(urls, 'sequence')})"


AidRenderer = Callable[[str], str]  # an agent's name as an SL agent-identifier


def _set_sl(items: Iterable[str], kind: str = "set") -> str:
    return f"({' '.join((kind, *items))})"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return _w(str(value))


def render_service(service: ServiceDescription) -> str:
    out = ["(service-description"]
    for slot in ("name", "type"):
        value = getattr(service, slot)
        if value is not None:
            out.append(f":{slot} {_w(value)}")
    for slot in ("protocols", "ontologies", "languages"):
        values = getattr(service, slot)
        if values:
            out.append(f":{slot} {_set_sl(_w(v) for v in values)}")
    if service.ownership is not None:
        out.append(f":ownership {_w(service.ownership)}")
    if service.properties:
        props = (f"(property :name {_w(k)} :value {_scalar(v)})"
                 for k, v in service.properties.items())
        out.append(f":properties {_set_sl(props)}")
    return " ".join(out) + ")"


def render_description(description: AgentDescription, aid: AidRenderer = _aid_sl) -> str:
    out = ["(df-agent-description"]
    if description.agent is not None:
        out.append(f":name {aid(description.agent)}")
    if description.services:
        out.append(f":services {_set_sl(render_service(s) for s in description.services)}")
    for slot in ("protocols", "ontologies", "languages"):
        values = getattr(description, slot)
        if values:
            out.append(f":{slot} {_set_sl(_w(v) for v in values)}")
    if description.lease is not None:
        out.append(f":lease-time {format_token(datetime.fromisoformat(description.lease))}")
    return " ".join(out) + ")"


def render_ams_description(agent: Mapping[str, Any], aid: AidRenderer = _aid_sl) -> str:
    return (f"(ams-agent-description :name {aid(agent['name'])}"
            f" :state {_w(agent['state'])})")


def render_ap_description(platform: Mapping[str, Any]) -> str:
    services = (
        f"(ap-service :name {_w(s['name'])} :type {_w(s['type'])}"
        f" :addresses {_set_sl((_w(a) for a in s['addresses']), 'sequence')})"
        for s in platform["services"])
    return (f"(ap-description :name {_w(platform['name'])}"
            f" :ap-services {_set_sl(services, 'sequence')})")


def render_done(action: SlAction) -> str:
    return f"((done {action.source}))"


def render_result(action: SlAction, items: Iterable[str]) -> str:
    return f"((result {action.source} {_set_sl(items, 'sequence')}))"


def render_error(action: SlAction | None, kind: str, reason: str) -> str:
    """``(<action> (<kind> "<reason>"))``, or ``((<kind> "<reason>"))`` when the action could
    not be read."""
    predicate = f"({kind} {sexpr.string(reason)})"
    return f"({action.source} {predicate})" if action is not None else f"({predicate})"
