"""The df and ams platform agents: FIPA-Agent-Management requests in JSON and SL0, answered
per fipa-request, and the in-memory directory behind df."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from caxton.codecs import sexpr
from caxton.domain.acl import AclMessage, Performative
from caxton.domain.directory import AgentDescription, parse_description, parse_services
from caxton.domain.lifecycle import AgentState
from caxton.errors import AlreadyRegisteredError, NotRegisteredError
from caxton.runtime.directory import Directory
from caxton.runtime.platform_agents import AmsAgent, DfAgent, guid_renderer, server_endpoints
from caxton.store.writer import OnCommit, Statement

CLIENT = "_client-0123456789ab"
AM = "fipa-agent-management"


class Repo:
    def __init__(self, rows: list[tuple[AgentDescription, str]] | None = None) -> None:
        self.rows = rows or []

    def all(self) -> list[tuple[AgentDescription, str]]:
        return self.rows


class Harness:
    def __init__(self) -> None:
        self.written: list[Statement] = []
        self.directory = Directory(cast(Any, Repo()), self.submit)
        self.replies: list[AclMessage] = []
        self.df = DfAgent(self.replies.append, self.directory)
        cells = [SimpleNamespace(name=n, state=s, record=SimpleNamespace(version="1.0"))
                 for n, s in (("alpha", AgentState.RUNNING), ("beta", AgentState.STOPPED))]
        self.ams = AmsAgent(self.replies.append, lambda: cast(Any, cells), platform="acme")

    def submit(self, statements: list[Statement], on_commit: OnCommit | None) -> None:
        self.written.extend(statements)
        if on_commit is not None:
            on_commit(None)

    def ask(self, content: Any, *, to: str = "df", sender: str = CLIENT,
            performative: Performative = Performative.REQUEST, **fields: Any) -> AclMessage:
        msg = AclMessage(performative, sender, (to,), content=content, **fields)
        before = len(self.replies)
        assert (self.df if to == "df" else self.ams).deliver(msg) is None
        assert len(self.replies) == before + 1, "expected exactly one answer"
        answer = self.replies[-1]
        assert answer.sender == to and answer.receiver == (sender,)
        assert answer.in_reply_to == msg.message_id
        return answer

    def silent(self, msg: AclMessage) -> None:
        before = len(self.replies)
        self.df.deliver(msg)
        self.ams.deliver(msg)
        assert len(self.replies) == before


@pytest.fixture
def h() -> Harness:
    return Harness()


def test_register_search_modify_deregister_in_json(h: Harness) -> None:
    d = {"agent": "alpha", "services": [{"type": "translate", "languages": ["json"]}]}
    answer = h.ask({"action": "register", "description": d}, ontology=AM)
    assert answer.performative is Performative.INFORM and answer.ontology == AM
    assert answer.content["action"] == "register"
    assert answer.content["result"]["agent"] == "alpha"
    found = h.ask({"action": "search", "description": {"services": [{"type": "translate"}]}})
    assert [r["agent"] for r in found.content["result"]] == ["alpha"]
    h.ask({"action": "modify", "description": {"agent": "alpha",
                                               "services": [{"type": "summarise"}]}})
    assert h.directory.providers("summarise") == ("alpha",)
    assert h.directory.providers("translate") == ()
    done = h.ask({"action": "deregister", "description": {"agent": "alpha"}})
    assert done.content == {"action": "deregister", "result": {"agent": "alpha"}}
    assert len(h.directory) == 0
    assert [sql.split()[0] for sql, _ in h.written] == ["INSERT", "INSERT", "DELETE"]


def test_json_content_may_come_as_text(h: Harness) -> None:
    answer = h.ask('{"action": "search", "max_results": 5}', language="json")
    assert answer.performative is Performative.INFORM
    assert answer.content == {"action": "search", "result": []}


def test_register_and_search_in_sl(h: Harness) -> None:
    register = ("((action (agent-identifier :name df@caxton) (register (df-agent-description "
                ":name (agent-identifier :name alpha) :services (set (service-description "
                ":type translate :properties (set (property :name pairs :value en-fr))))))))")
    answer = h.ask(register, language="fipa-sl0", ontology=AM)
    assert answer.performative is Performative.INFORM
    assert answer.language == "fipa-sl0"
    assert answer.content.startswith("((done (action (agent-identifier :name df@caxton) (regi")
    search = ("((action (agent-identifier :name df@caxton) (search (df-agent-description "
              ":services (set (service-description :type translate))) "
              "(search-constraints :max-results 10))))")
    found = h.ask(search, language="fipa-sl0")
    assert found.content.startswith("((result (action (agent-identifier :name df@caxton) (sea")
    assert ("(sequence (df-agent-description :name (agent-identifier :name alpha) :services "
            "(set (service-description :type translate :properties (set (property :name pairs "
            ":value en-fr))))))))") in found.content
    sexpr.read(found.content.encode())


def test_an_agent_acts_only_for_itself(h: Harness) -> None:
    h.directory.register(parse_description({"agent": "beta", "services": [{"type": "t"}]}))
    refused = h.ask({"action": "deregister", "description": {"agent": "beta"}}, sender="alpha")
    assert refused.performative is Performative.REFUSE
    assert refused.content == {"error": "unauthorised", "action": "deregister",
                               "reason": "'alpha' may only deregister itself, not 'beta'"}
    refused = h.ask({"action": "register", "description": {"agent": "beta"}}, sender="alpha")
    assert refused.content["error"] == "unauthorised"
    # without a name, an agent registers itself
    ok = h.ask({"action": "register", "description": {"services": [{"type": "u"}]}},
               sender="alpha")
    assert ok.performative is Performative.INFORM and ok.content["result"]["agent"] == "alpha"
    assert h.ask({"action": "deregister", "description": {}}, sender="alpha").performative \
        is Performative.INFORM
    assert h.directory.get("beta") is not None


@pytest.mark.parametrize(("content", "performative", "error"), [
    ({"action": "suspend"}, Performative.REFUSE, "unsupported-function"),
    ({"action": "register", "description": {"agent": "a", "services": [{}]}},
     Performative.REFUSE, "unrecognised-parameter-value"),
    ({"action": "register", "description": {"services": []}}, Performative.REFUSE,
     "missing-parameter"),
    ({"action": "search", "oops": 1}, Performative.REFUSE, "unrecognised-parameter-value"),
    ({"action": "search", "max_results": 0}, Performative.REFUSE,
     "unrecognised-parameter-value"),
    ({"action": "deregister", "description": {"agent": "ghost"}}, Performative.FAILURE,
     "not-registered"),
    ({"action": "modify", "description": {"agent": "ghost"}}, Performative.FAILURE,
     "not-registered"),
    ({"no": "action"}, Performative.NOT_UNDERSTOOD, "unrecognised-value"),
    ("not json", Performative.NOT_UNDERSTOOD, "unrecognised-value"),
    (None, Performative.NOT_UNDERSTOOD, "unrecognised-value"),
])
def test_bad_requests_are_answered_with_reasons(h: Harness, content: Any,
                                                performative: Performative, error: str) -> None:
    answer = h.ask(content)
    assert answer.performative is performative
    assert answer.content["error"] == error and answer.content["reason"]


def test_registering_twice_fails(h: Harness) -> None:
    d = {"action": "register", "description": {"agent": "a", "services": [{"type": "t"}]}}
    h.ask(d)
    answer = h.ask(d)
    assert answer.performative is Performative.FAILURE
    assert answer.content["error"] == "already-registered"


def test_bad_sl_is_refused_or_not_understood_in_sl(h: Harness) -> None:
    answer = h.ask("((action (agent-identifier :name df) (register (df-agent-description "
                   ":name (agent-identifier :name a) :services (set (service-description "
                   ":colour red))))))", language="fipa-sl0")
    assert answer.performative is Performative.REFUSE
    assert answer.content.startswith("((action (agent-identifier :name df) (register")
    assert answer.content.endswith('(unrecognised-parameter-value "field '
                                   "'df-agent-description.services[0].colour': unknown slot\"))")
    answer = h.ask("((action (agent-identifier", language="fipa-sl0")
    assert answer.performative is Performative.NOT_UNDERSTOOD
    assert answer.content.startswith('((unrecognised-value "fipa-sl0: ')
    answer = h.ask("((action (agent-identifier :name df) (suspend)))", language="fipa-sl0")
    assert answer.performative is Performative.REFUSE
    assert answer.content.endswith("(unsupported-function \"df does not perform 'suspend' "
                                   '(it does register, deregister, modify and search)"))')


def test_other_acts_and_ontologies(h: Harness) -> None:
    answer = h.ask({"action": "search"}, performative=Performative.QUERY_REF)
    assert answer.performative is Performative.NOT_UNDERSTOOD
    assert answer.content["error"] == "unsupported-act"
    answer = h.ask({"action": "search"}, ontology="books")
    assert answer.performative is Performative.NOT_UNDERSTOOD
    assert answer.content["error"] == "unsupported-value"


def test_trouble_and_stray_replies_are_never_answered(h: Harness) -> None:
    for performative in (Performative.FAILURE, Performative.NOT_UNDERSTOOD):
        h.silent(AclMessage(performative, "alpha", ("df", "ams"), content={"action": "x"}))
    h.silent(AclMessage(Performative.INFORM, "alpha", ("ams",), content="echoed",
                        in_reply_to="abc"))


def test_ams_get_description_and_search(h: Harness) -> None:
    h.ams.endpoints = lambda: {"fipa.mts.mtp.http.std": "http://h:1/acc",
                               "caxton.api.rest": "http://h:1"}
    answer = h.ask({"action": "get-description"}, to="ams")
    platform = answer.content["result"]
    assert platform["name"] == "acme" and platform["addresses"] == ["http://h:1/acc"]
    assert [s["name"] for s in platform["services"]] == [
        "df", "ams", "fipa.mts.mtp.http.std", "caxton.api.rest"]
    found = h.ask({"action": "search", "description": {"state": "suspended"}}, to="ams")
    assert found.content["result"] == [{"name": "beta", "state": "suspended",
                                        "caxton_state": "stopped", "version": "1.0"}]
    found = h.ask({"action": "search", "description": {"state": "running"}}, to="ams")
    assert [a["name"] for a in found.content["result"]] == ["alpha"]
    sl = h.ask("((action (agent-identifier :name ams@acme) (search (ams-agent-description "
               ":name (agent-identifier :name alpha)))))", to="ams", language="fipa-sl0")
    assert sl.content.endswith("(sequence (ams-agent-description :name (agent-identifier "
                               ":name alpha) :state active))))")
    sl = h.ask("((action (agent-identifier :name ams@acme) (get-description)))", to="ams",
               language="fipa-sl0")
    assert "(ap-description :name acme :ap-services (sequence (ap-service :name df" in sl.content
    refused = h.ask({"action": "register", "description": {}}, to="ams")
    assert refused.performative is Performative.REFUSE
    assert refused.content["error"] == "unsupported-function"


def test_directory_declare_forget_and_restore(h: Harness) -> None:
    d = h.directory
    d.declare("alpha", parse_services([{"type": "t"}, {"name": "n"}]))
    assert d.providers("t") == d.providers("n") == ("alpha",)
    d.declare("alpha", parse_services([{"type": "u"}]))  # a new version replaces them
    assert d.providers("t") == () and d.providers("u") == ("alpha",)
    d.declare("alpha", ())
    assert len(d) == 0
    with pytest.raises(NotRegisteredError):
        d.deregister("alpha")
    d.register(parse_description({"agent": "alpha"}))
    with pytest.raises(AlreadyRegisteredError):
        d.register(parse_description({"agent": "alpha"}))
    d.forget("alpha")
    d.forget("alpha")
    assert len(d) == 0
    lapsed = parse_description({"agent": "old", "lease": "2001-01-01T00:00:00Z"})
    live = parse_description({"agent": "new", "services": [{"type": "t"}], "lease_s": 60})
    restored = Directory(cast(Any, Repo([(lapsed, "register"), (live, "deploy")])), h.submit)
    assert restored.restore() == 1
    assert restored.providers("t") == ("new",)
    assert h.written[-1] == ("DELETE FROM directory WHERE agent = ?", ("old",))


def test_server_endpoints_come_from_the_server_file(tmp_path: Path) -> None:
    file = tmp_path / "server.json"
    endpoints = server_endpoints(file)
    assert endpoints() == {}  # not listening yet
    file.write_text('{"url": "http://h:1", "grpc": "h:2", "pid": 1}')
    assert endpoints() == {"fipa.mts.mtp.http.std": "http://h:1/acc",
                           "caxton.api.rest": "http://h:1", "caxton.api.grpc": "h:2"}
    file.unlink()
    assert endpoints()["caxton.api.grpc"] == "h:2"  # kept
    assert server_endpoints(file, "https://acc.example/acc")() == {}


def test_another_platforms_agent_gets_our_agents_by_guid_with_our_address() -> None:
    # A JADE agent's DFService search: an AID "alpha" would mean an agent of its own platform.
    replies: list[AclMessage] = []
    directory = Directory(cast(Any, Repo()), lambda *_: None)
    directory.register(parse_description({"agent": "alpha", "services": [{"type": "t"}]}))
    directory.register(parse_description({"agent": "seller@jade", "services": [{"type": "t"}]}))
    guid = guid_renderer("acme", lambda: {"fipa.mts.mtp.http.std": "http://acme/acc"})
    df = DfAgent(replies.append, directory, guid=guid)
    search = ("((action (agent-identifier :name df@acme) (search (df-agent-description "
              ":services (set (service-description :type t))) (search-constraints))))")
    df.deliver(AclMessage(Performative.REQUEST, "buyer@jade", ("df",), content=search,
                          language="fipa-sl0", addresses={"buyer@jade": ("http://jade/acc",)}))
    found = replies[-1].content
    assert ("(df-agent-description :name (agent-identifier :name alpha@acme :addresses "
            "(sequence http://acme/acc)) :services") in found
    assert "(agent-identifier :name seller@jade) :services" in found
    df.deliver(AclMessage(Performative.REQUEST, CLIENT, ("df",), content=search,
                          language="fipa-sl0"))
    assert "(df-agent-description :name (agent-identifier :name alpha) :services" in (
        replies[-1].content)  # local askers keep local names
    cells = [SimpleNamespace(name="alpha", state=AgentState.RUNNING,
                             record=SimpleNamespace(version="1"))]
    ams = AmsAgent(replies.append, lambda: cast(Any, cells), platform="acme", guid=guid)
    ams.deliver(AclMessage(Performative.REQUEST, "buyer@jade", ("ams",), language="fipa-sl0",
                           content="((action (agent-identifier :name ams@acme) (search "
                                   "(ams-agent-description))))"))
    assert ("(ams-agent-description :name (agent-identifier :name alpha@acme :addresses "
            "(sequence http://acme/acc)) :state active)") in replies[-1].content
