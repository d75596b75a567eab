"""FIPA-SL0 content of the fipa-agent-management ontology: reading requests, writing answers."""

from __future__ import annotations

import pytest

from caxton.codecs import fipa_sl, sexpr
from caxton.domain.directory import parse_description
from caxton.errors import InvalidMessageError, MalformedAclError

JADE_SEARCH = ("((action (agent-identifier :name df@caxton) (search (df-agent-description "
               ":services (set (service-description :type translate))) "
               "(search-constraints :max-results 10))))")


def test_reads_the_search_jade_sends() -> None:
    action = fipa_sl.parse_action(JADE_SEARCH)
    assert action.actor == "df@caxton"
    assert action.act == "search"
    assert fipa_sl.description_from_sl(action.args[0]) == {"services": [{"type": "translate"}]}
    assert fipa_sl.max_results_from_sl(action.args[1]) == 10
    assert action.source == JADE_SEARCH[1:-1]


def test_reads_a_full_registration() -> None:
    text = """((action (agent-identifier :name df@caxton :addresses (sequence http://x/acc))
      (REGISTER (df-agent-description
        :name (agent-identifier :name seller@jade :addresses (sequence http://jade:7778/acc))
        :services (set (service-description :name "book selling" :type book-selling
                         :protocols (set fipa-request fipa-contract-net) :ontologies (set books)
                         :languages (set fipa-sl0) :ownership acme
                         :properties (set (property :name country :value italy)
                                          (property :name stock :value 42)
                                          (property :name price :value 9.5))))
        :protocols (set fipa-request) :languages (set fipa-sl0)
        :lease-time 20301231T235959000Z))))"""
    action = fipa_sl.parse_action(text)
    assert action.act == "register"
    obj = fipa_sl.description_from_sl(action.args[0])
    assert obj == {
        "agent": "seller@jade",
        "services": [{"name": "book selling", "type": "book-selling",
                      "protocols": ["fipa-request", "fipa-contract-net"],
                      "ontologies": ["books"], "languages": ["fipa-sl0"], "ownership": "acme",
                      "properties": {"country": "italy", "stock": 42, "price": 9.5}}],
        "protocols": ["fipa-request"], "languages": ["fipa-sl0"],
        "lease": "2030-12-31T23:59:59+00:00",
    }
    description = parse_description(obj)
    assert description.lease == "2030-12-31T23:59:59.000000Z"


def test_a_rendered_description_reads_back_the_same() -> None:
    original = parse_description({
        "agent": "translator",
        "services": [{"type": "translate", "name": "en fr \"quoted\"",
                      "protocols": ["fipa-request"], "properties": {"n": 3, "ok": "yes"}}],
        "ontologies": ["words"], "lease": "2031-01-01T00:00:00.250000Z"})
    text = fipa_sl.render_description(original)
    again = parse_description(fipa_sl.description_from_sl(sexpr.read(text.encode())))
    assert again == original


def test_answers() -> None:
    action = fipa_sl.parse_action(JADE_SEARCH)
    found = parse_description({"agent": "t", "services": [{"type": "translate"}]})
    result = fipa_sl.render_result(action, [fipa_sl.render_description(found)])
    assert result == (
        "((result (action (agent-identifier :name df@caxton) (search (df-agent-description "
        ":services (set (service-description :type translate))) (search-constraints "
        ":max-results 10))) (sequence (df-agent-description :name (agent-identifier :name t) "
        ":services (set (service-description :type translate))))))")
    sexpr.read(result.encode())  # well-formed
    assert fipa_sl.render_done(action).startswith("((done (action (agent-identifier")
    assert fipa_sl.render_error(action, "unauthorised", 'a "b"').endswith(
        ' (unauthorised "a \\"b\\""))')
    assert fipa_sl.render_error(None, "unrecognised-value", "x") == '((unrecognised-value "x"))'


def test_ams_frames() -> None:
    action = fipa_sl.parse_action(
        "((action (agent-identifier :name ams@caxton) (search (ams-agent-description "
        ":name (agent-identifier :name echo) :state active))))")
    assert fipa_sl.ams_template_from_sl(action.args[0]) == {"name": "echo", "state": "active"}
    bare = fipa_sl.parse_action("(action ams@caxton get-description)")
    assert (bare.actor, bare.act, bare.args) == ("ams@caxton", "get-description", ())
    text = fipa_sl.render_ap_description({"name": "caxton", "services": [
        {"name": "df", "type": "fipa-df", "addresses": ["df@caxton"]}]})
    assert text == ("(ap-description :name caxton :ap-services (sequence (ap-service :name df "
                    ":type fipa-df :addresses (sequence df@caxton))))")


@pytest.mark.parametrize(("text", "why"), [
    ("((action (agent-identifier :name df", "missing ')'"),
    ("(inform x)", "must be (action"),
    ("((action df))", "must be (action"),
    ("((action df (\"search\")))", "must start with its name"),
])
def test_content_that_is_not_an_action(text: str, why: str) -> None:
    with pytest.raises(MalformedAclError) as caught:
        fipa_sl.parse_action(text)
    assert caught.value.message.startswith("fipa-sl0: ")
    assert why in caught.value.message


@pytest.mark.parametrize(("text", "field"), [
    ("(df-agent-description :services (set (service-description :colour red)))",
     "df-agent-description.services[0].colour"),
    ("(df-agent-description :name)", "df-agent-description"),
    ("(df-agent-description :lease-time tomorrow)", "df-agent-description.lease-time"),
    ("(service-description :type t)", "df-agent-description"),
    ("(df-agent-description :name (agent-identifier :addresses (sequence x)))",
     "df-agent-description.name"),
])
def test_bad_frames_name_the_slot(text: str, field: str) -> None:
    with pytest.raises(InvalidMessageError) as caught:
        fipa_sl.description_from_sl(sexpr.read(text.encode()))
    assert caught.value.field == field


def test_max_results_must_be_an_integer() -> None:
    assert fipa_sl.max_results_from_sl(None) is None
    assert fipa_sl.max_results_from_sl(sexpr.read(b"(search-constraints)")) is None
    assert fipa_sl.max_results_from_sl(sexpr.read(b"(search-constraints :max-results -1)")) == -1
    with pytest.raises(InvalidMessageError):
        fipa_sl.max_results_from_sl(sexpr.read(b"(search-constraints :max-results ten)"))
