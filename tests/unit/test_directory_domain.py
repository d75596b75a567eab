"""The DF model: descriptions, their validation, and FIPA search matching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from caxton.domain.directory import (
    AgentDescription,
    matches,
    parse_description,
    parse_max_results,
    parse_services,
    search,
)
from caxton.errors import InvalidMessageError

TRANSLATOR = {
    "agent": "translator",
    "services": [{"type": "translate", "name": "en-fr", "languages": ["json", "fipa-sl0"],
                  "protocols": ["fipa-request"], "ontologies": ["words"],
                  "properties": {"pairs": "en-fr", "max_words": 1000, "fast": True}}],
    "protocols": ["fipa-request", "fipa-query"],
    "languages": ["json"],
}


def desc(obj: dict[str, Any]) -> AgentDescription:
    return parse_description(obj)


def template(obj: dict[str, Any]) -> AgentDescription:
    return parse_description(obj, template=True)


def test_a_description_round_trips_through_its_json_shape() -> None:
    d = desc(TRANSLATOR)
    assert d.agent == "translator"
    assert d.services[0].properties == {"pairs": "en-fr", "max_words": 1000, "fast": True}
    out = d.to_dict()
    assert out["services"][0]["ownership"] is None
    assert out["lease"] is None
    assert parse_description(out) == d


@pytest.mark.parametrize("tmpl", [
    {},
    {"agent": "translator"},
    {"services": [{"type": "translate"}]},
    {"services": [{"name": "en-fr", "languages": ["json"]}]},
    {"services": [{"properties": {"max_words": 1000.0}}]},  # 1000.0 is the number 1000
    {"services": [{"properties": {"pairs": "en-fr", "fast": True}}]},
    {"protocols": ["fipa-query"]},
    {"protocols": ["fipa-query", "fipa-request"], "languages": ["json"]},
    {"services": [{"type": "translate"}, {"protocols": ["fipa-request"]}]},
])
def test_templates_that_match(tmpl: dict[str, Any]) -> None:
    assert matches(desc(TRANSLATOR), template(tmpl))


@pytest.mark.parametrize("tmpl", [
    {"agent": "other"},
    {"services": [{"type": "summarise"}]},
    {"services": [{"type": "translate", "name": "en-de"}]},
    {"services": [{"languages": ["xml"]}]},
    {"services": [{"properties": {"pairs": "en-de"}}]},
    {"services": [{"properties": {"fast": 1}}]},  # a boolean is not the number 1
    {"services": [{"properties": {"missing": "x"}}]},
    {"services": [{"ownership": "acme"}]},
    {"protocols": ["fipa-contract-net"]},
    {"ontologies": ["words"]},  # the service's ontology, not the agent's
])
def test_templates_that_do_not_match(tmpl: dict[str, Any]) -> None:
    assert not matches(desc(TRANSLATOR), template(tmpl))


def test_search_sorts_by_agent_limits_and_skips_lapsed_leases() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    found = [
        desc({"agent": "b", "services": [{"type": "t"}]}),
        desc({"agent": "a", "services": [{"type": "t"}]}),
        desc({"agent": "c", "services": [{"type": "t"}], "lease": "2029-12-31T00:00:00Z"}),
        desc({"agent": "d", "services": [{"type": "u"}]}),
    ]
    wanted = template({"services": [{"type": "t"}]})
    assert [d.agent for d in search(found, wanted, now=now)] == ["a", "b"]
    assert [d.agent for d in search(found, wanted, 1, now=now)] == ["a"]


def test_lease_forms() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    relative = parse_description({"agent": "a", "lease_s": 90}, now=now)
    assert relative.lease == "2030-01-01T00:01:30.000000Z"
    assert not relative.expired(now)
    assert relative.expired(now + timedelta(seconds=90))
    absolute = parse_description({"agent": "a", "lease": "2030-01-01T02:00:00+02:00"})
    assert absolute.lease == "2030-01-01T00:00:00.000000Z"


@pytest.mark.parametrize(("obj", "field", "reason"), [
    ([], "description", "must be a JSON object"),
    ({"services": []}, "description.agent", "is required"),
    ({"agent": "a b"}, "description.agent", "is not a valid agent name"),
    ({"agent": "service:x"}, "description.agent", "is not a valid agent name"),
    ({"agent": "a", "colour": "red"}, "description.colour", "unknown field"),
    ({"agent": "a", "services": {}}, "description.services", "must be a list"),
    ({"agent": "a", "services": [{}]}, "description.services[0].type", "a type or a name"),
    ({"agent": "a", "services": [{"type": 3}]}, "description.services[0].type",
     "must be a string"),
    ({"agent": "a", "services": [{"type": ""}]}, "description.services[0].type", "1 to 256"),
    ({"agent": "a", "services": [{"type": "t", "nmae": "x"}]}, "description.services[0].nmae",
     "unknown field"),
    ({"agent": "a", "services": [{"type": "t", "properties": {"k": [1]}}]},
     "description.services[0].properties.k", "a string, a number or a boolean"),
    ({"agent": "a", "services": [{"type": "t", "properties": []}]},
     "description.services[0].properties", "must be an object"),
    ({"agent": "a", "protocols": "fipa-request"}, "description.protocols", "must be a list"),
    ({"agent": "a", "protocols": [1]}, "description.protocols[0]", "must be a string"),
    ({"agent": "a", "lease": "soon"}, "description.lease", "not an RFC 3339"),
    ({"agent": "a", "lease": "2030-01-01T00:00:00"}, "description.lease", "time zone"),
    ({"agent": "a", "lease_s": -1}, "description.lease_s", "seconds"),
    # Found by the attacker sweep: both were OverflowErrors (a 500) when turned into UTC.
    ({"agent": "a", "lease": "9999-12-31T23:59:59-23:59"}, "description.lease", "out of range"),
    ({"agent": "a", "lease": "0001-01-01T00:00:00+23:59"}, "description.lease", "out of range"),
    ({"agent": "a", "lease_s": 5, "lease": "2030-01-01T00:00:00Z"}, "description.lease_s",
     "not both"),
])
def test_invalid_descriptions_name_the_field(obj: Any, field: str, reason: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        parse_description(obj)
    assert caught.value.field == field
    assert reason in caught.value.reason


def test_templates_need_no_agent_nor_service_type() -> None:
    assert template({"services": [{}]}).services[0].type is None
    assert template({}).agent is None


def test_deployed_services() -> None:
    assert parse_services(None) == ()
    (service,) = parse_services([{"type": "echo", "protocols": ["fipa-request"] * 2}])
    assert service.protocols == ("fipa-request",)  # sets: duplicates dropped
    with pytest.raises(InvalidMessageError) as caught:
        parse_services([{"type": "a"}, {"name": 5}])
    assert caught.value.field == "services[1].name"


def test_max_results() -> None:
    assert parse_max_results(None) == 100
    assert parse_max_results(7) == 7
    assert parse_max_results(-1) == 10_000
    assert parse_max_results(10**9) == 10_000
    for bad in (0, "3", 2.5, True):
        with pytest.raises(InvalidMessageError):
            parse_max_results(bad)


def test_integral_properties_past_64_bits_stay_floats() -> None:
    """Found by the attacker sweep: 2**64 (read from JSON as a float) became an int that no
    JSON writer takes, and every later directory listing answered 500."""
    big = float(2**64)
    found = parse_description({"agent": "a", "services": [
        {"type": "t", "properties": {"big": big, "small": 3.0, "neg": -float(2**63)}}]})
    properties = found.services[0].properties
    assert properties == {"big": big, "small": 3, "neg": -float(2**63)}
    assert isinstance(properties["small"], int) and isinstance(properties["big"], float)
    orjson.dumps(found.to_dict())
