"""The one mapping between Caxton's errors and gRPC status codes, used in both directions.

The server turns a ``CaxtonError`` into a status with rich details (``google.rpc.Status`` in the
``grpc-status-details-bin`` trailer, as grpcio-status does it):

* ``google.rpc.ErrorInfo`` whose ``reason`` is the error's stable ``code`` (the same string
  REST puts in ``{"code": ...}``) and whose ``domain`` is ``caxton``;
* ``google.rpc.BadRequest`` with one field violation naming the offending field, for
  INVALID_ARGUMENT errors;
* ``google.rpc.RetryInfo`` when the call may be retried after a delay (too many deploys).

The client (``caxton.client``) reads the details back and raises the very class the server
raised. Several errors share a status code (NOT_FOUND is an agent or a conversation), which is
why the ErrorInfo reason, not the code, picks the class.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from caxton import errors

DOMAIN = "caxton"
DETAILS_KEY = "grpc-status-details-bin"

STATUS_CODES: dict[type[errors.CaxtonError], grpc.StatusCode] = {
    errors.InvalidMessageError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.InvalidPermissionsError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.InvalidAgentNameError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.ModuleRejectedError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.HostFunctionNotPermittedError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.ConfigError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.MalformedAclError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.MalformedEnvelopeError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.CodecError: grpc.StatusCode.INVALID_ARGUMENT,
    errors.AgentNotFoundError: grpc.StatusCode.NOT_FOUND,
    errors.ConversationNotFoundError: grpc.StatusCode.NOT_FOUND,
    errors.DeadLetterNotFoundError: grpc.StatusCode.NOT_FOUND,
    errors.NotRegisteredError: grpc.StatusCode.NOT_FOUND,
    errors.DeploymentNotFoundError: grpc.StatusCode.NOT_FOUND,
    errors.DeploymentConflictError: grpc.StatusCode.ALREADY_EXISTS,
    errors.DeploymentsBusyError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.AlreadyRegisteredError: grpc.StatusCode.ALREADY_EXISTS,
    errors.MessageIdConflictError: grpc.StatusCode.ALREADY_EXISTS,
    errors.PlatformNotFoundError: grpc.StatusCode.NOT_FOUND,
    errors.PlatformConfiguredError: grpc.StatusCode.FAILED_PRECONDITION,
    errors.IllegalTransitionError: grpc.StatusCode.FAILED_PRECONDITION,
    # The act is fine in itself; the conversation's state does not allow it now.
    errors.ProtocolViolation: grpc.StatusCode.FAILED_PRECONDITION,
    errors.DataDirLockedError: grpc.StatusCode.FAILED_PRECONDITION,
    errors.AgentUnavailableError: grpc.StatusCode.UNAVAILABLE,
    errors.MailboxFullError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    # gRPC itself answers RESOURCE_EXHAUSTED for a request over its size limit: same family.
    errors.PayloadTooLargeError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.LimitAboveCeilingError: grpc.StatusCode.INVALID_ARGUMENT,
    # REST answers 409: the request is fine, the server's agents leave no room for it.
    errors.MemoryBudgetError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.CapacityError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.TooManyDeploysError: grpc.StatusCode.UNAVAILABLE,
    errors.ReplyTimeoutError: grpc.StatusCode.DEADLINE_EXCEEDED,
    errors.StoreBusyError: grpc.StatusCode.UNAVAILABLE,
    errors.StoreError: grpc.StatusCode.UNAVAILABLE,
    errors.DataDirDamagedError: grpc.StatusCode.DATA_LOSS,
    errors.AuthenticationError: grpc.StatusCode.UNAUTHENTICATED,
    errors.PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    errors.RateLimitedError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    errors.TokenNotFoundError: grpc.StatusCode.NOT_FOUND,
    # Raised by the MTP, never by a gRPC handler; mapped so that every error has a status.
    errors.SenderRefusedError: grpc.StatusCode.PERMISSION_DENIED,
    errors.DestinationRefusedError: grpc.StatusCode.PERMISSION_DENIED,
}

_BY_REASON: dict[str, type[errors.CaxtonError]] = {cls.code: cls for cls in STATUS_CODES}


def status_code(exc: errors.CaxtonError) -> grpc.StatusCode:
    """The status code for ``exc`` (subclasses map like their nearest listed ancestor)."""
    for cls in type(exc).__mro__:
        code = STATUS_CODES.get(cls)
        if code is not None:
            return code
    return grpc.StatusCode.INTERNAL


def _field(exc: errors.CaxtonError) -> str | None:
    """The request field a BadRequest violation names, for errors about one field."""
    if isinstance(exc, errors.InvalidMessageError | errors.LimitAboveCeilingError):
        return exc.field
    if isinstance(exc, errors.InvalidAgentNameError):
        return "name"
    if isinstance(exc, errors.ModuleRejectedError):
        return "module"
    return None


def _description(exc: errors.CaxtonError) -> str:
    return exc.reason if isinstance(exc, errors.InvalidMessageError) else exc.message


def to_status(exc: BaseException) -> grpc.Status:
    """The status (code, message, details trailer) a handler aborts with for ``exc``."""
    if not isinstance(exc, errors.CaxtonError):
        exc = errors.CaxtonError(f"internal error: {type(exc).__name__}")
    code = status_code(exc)
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=exc.code, domain=DOMAIN))
    details = [info]
    field = _field(exc)
    if field is not None and code is grpc.StatusCode.INVALID_ARGUMENT:
        bad = any_pb2.Any()
        bad.Pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=field, description=_description(exc))]))
        details.append(bad)
    if isinstance(exc, errors.TooManyDeploysError | errors.RateLimitedError):
        retry = any_pb2.Any()  # Retry-After, as REST says it
        retry.Pack(error_details_pb2.RetryInfo(
            retry_delay=duration_pb2.Duration(seconds=max(1, round(exc.retry_after_s + 0.49)))))
        details.append(retry)
    return rpc_status.to_status(status_pb2.Status(
        code=code.value[0], message=exc.message, details=details))


def details_of(trailing_metadata: Iterable[tuple[str, str | bytes]] | None
               ) -> status_pb2.Status | None:
    """The ``google.rpc.Status`` in a call's trailing metadata, if the server sent one."""
    for key, value in trailing_metadata or ():
        if key == DETAILS_KEY and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    return None


def field_violation(status: status_pb2.Status) -> tuple[str, str] | None:
    """(field, description) of the first BadRequest violation in ``status``."""
    for detail in status.details:
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad) and bad.field_violations:
            violation = bad.field_violations[0]
            return violation.field, violation.description
    return None


def error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo | None:
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None


def to_error(status: status_pb2.Status) -> errors.CaxtonError | None:
    """The error a Caxton server raised, rebuilt from its status; None if not Caxton's."""
    info = error_info(status)
    if info is None or info.domain != DOMAIN:
        return None
    cls = _BY_REASON.get(info.reason, errors.CaxtonError)
    if issubclass(cls, errors.InvalidMessageError):  # InvalidPermissionsError too
        field, reason = field_violation(status) or ("message", status.message)
        return cls(field, reason)
    if cls is errors.LimitAboveCeilingError:
        field = (field_violation(status) or ("limits", ""))[0]
        return errors.LimitAboveCeilingError(status.message, field=field)
    if cls is errors.RateLimitedError:
        return errors.RateLimitedError(status.message, retry_after_s=_retry_after(status))
    return cls(status.message)


def _retry_after(status: status_pb2.Status) -> float:
    for detail in status.details:
        retry = error_details_pb2.RetryInfo()
        if detail.Unpack(retry):
            return float(retry.retry_delay.seconds)
    return 1.0
