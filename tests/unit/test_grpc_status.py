"""The mapping between Caxton's errors and gRPC statuses (caxton.api.grpc.status), and the
client's reading of statuses back into errors (caxton.client.errors)."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from caxton import errors
from caxton.api.grpc.status import (
    DETAILS_KEY,
    STATUS_CODES,
    details_of,
    status_code,
    to_error,
    to_status,
)
from caxton.client.errors import ServerUnreachableError, translate

C = grpc.StatusCode


def _all_errors(cls: type[errors.CaxtonError] = errors.CaxtonError
                ) -> list[type[errors.CaxtonError]]:
    out = []
    for sub in cls.__subclasses__():
        if sub.__module__ == "caxton.errors":
            out += [sub, *_all_errors(sub)]
    return out


def _make(cls: type[errors.CaxtonError], text: str = "it broke") -> errors.CaxtonError:
    if issubclass(cls, errors.InvalidMessageError):
        return cls("fuel", text)
    return cls(text)


def _status(exc: BaseException) -> status_pb2.Status:
    status = details_of(to_status(exc).trailing_metadata)
    assert status is not None
    return status


def test_every_caxton_error_has_an_explicit_status() -> None:
    # A new error class must be placed deliberately (REST has the same kind of table).
    assert set(_all_errors()) <= set(STATUS_CODES)


@pytest.mark.parametrize(("cls", "code"), [
    (errors.InvalidMessageError, C.INVALID_ARGUMENT),
    (errors.InvalidAgentNameError, C.INVALID_ARGUMENT),
    (errors.ModuleRejectedError, C.INVALID_ARGUMENT),
    (errors.AgentNotFoundError, C.NOT_FOUND),
    (errors.ConversationNotFoundError, C.NOT_FOUND),
    (errors.IllegalTransitionError, C.FAILED_PRECONDITION),
    (errors.AgentUnavailableError, C.UNAVAILABLE),
    (errors.MailboxFullError, C.RESOURCE_EXHAUSTED),
    (errors.PayloadTooLargeError, C.RESOURCE_EXHAUSTED),
    (errors.ReplyTimeoutError, C.DEADLINE_EXCEEDED),
    (errors.StoreError, C.UNAVAILABLE),
])
def test_status_codes(cls: type[errors.CaxtonError], code: grpc.StatusCode) -> None:
    exc = _make(cls)
    assert status_code(exc) is code
    status = to_status(exc)
    assert status.code is code
    assert status.details == exc.message


def test_a_subclass_maps_like_its_parent_unless_listed() -> None:
    class Shaky(errors.StoreError):
        code = "shaky"

    assert status_code(Shaky("x")) is C.UNAVAILABLE
    assert status_code(errors.StoreBusyError("x")) is C.UNAVAILABLE


def test_details_carry_the_reason_and_the_offending_field() -> None:
    status = _status(errors.InvalidMessageError("reply_by", "must include a time zone"))
    assert status.code == C.INVALID_ARGUMENT.value[0]
    assert status.message == "field 'reply_by': must include a time zone"
    info, bad = error_details_pb2.ErrorInfo(), error_details_pb2.BadRequest()
    assert status.details[0].Unpack(info) and status.details[1].Unpack(bad)
    assert (info.reason, info.domain) == ("invalid_message", "caxton")
    assert [(v.field, v.description) for v in bad.field_violations] == [
        ("reply_by", "must include a time zone")]
    for exc, field in [(errors.InvalidAgentNameError("bad name"), "name"),
                       (errors.ModuleRejectedError("no handle"), "module")]:
        status = _status(exc)
        assert status.details[1].Unpack(bad) and bad.field_violations[0].field == field
    assert len(_status(errors.AgentNotFoundError("gone")).details) == 1  # no BadRequest


@pytest.mark.parametrize("cls", _all_errors())
def test_round_trip_gives_the_same_class_and_message(cls: type[errors.CaxtonError]) -> None:
    exc = _make(cls)
    back = to_error(_status(exc))
    assert type(back) is cls
    assert back.message == exc.message
    if isinstance(exc, errors.InvalidMessageError):
        assert isinstance(back, errors.InvalidMessageError)
        assert (back.field, back.reason) == (exc.field, exc.reason)


def test_unexpected_exceptions_are_internal_without_their_text() -> None:
    status = to_status(KeyError("secret path /etc/x"))
    assert status.code is C.INTERNAL
    assert status.details == "internal error: KeyError"


def test_statuses_from_elsewhere_are_not_mistaken_for_caxton_errors() -> None:
    foreign = status_pb2.Status(code=5, message="nope")
    assert to_error(foreign) is None
    assert details_of(None) is None
    assert details_of([("other", "x")]) is None


def test_client_translation_of_statuses_without_caxton_details() -> None:
    target = "127.0.0.1:1"
    unreachable = translate(C.UNAVAILABLE, "connection refused", None, target)
    assert isinstance(unreachable, ServerUnreachableError)
    assert unreachable.message == f"cannot reach the Caxton server at {target}: connection refused"
    late = translate(C.DEADLINE_EXCEEDED, "Deadline Exceeded", (), target)
    assert isinstance(late, errors.ReplyTimeoutError)
    assert isinstance(translate(C.RESOURCE_EXHAUSTED, "too big", (), target),
                      errors.PayloadTooLargeError)
    other = translate(C.UNIMPLEMENTED, "no such method", (), target)
    assert type(other) is errors.CaxtonError and other.message == "UNIMPLEMENTED: no such method"


def test_client_translation_prefers_the_servers_details() -> None:
    metadata = to_status(errors.StoreError("disk gone")).trailing_metadata
    assert metadata[0][0] == DETAILS_KEY
    error = translate(C.UNAVAILABLE, "disk gone", metadata, "x:1")
    assert type(error) is errors.StoreError  # not ServerUnreachableError
