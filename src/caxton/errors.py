"""Caxton's errors: one rooted tree, so callers can catch as broadly or narrowly as they need.

    CaxtonError
    ├── ConfigError                 bad settings (file, environment, flags)
    ├── AuthenticationError         a credential is missing, malformed, expired or forged
    ├── DataDirLockedError          another server already uses the data directory
    ├── InvalidMessageError         an ACL message fails validation (names the field)
    │   └── InvalidPermissionsError an agent's declared permissions fail validation (names it)
    ├── InvalidAgentNameError       an agent name breaks the naming rule
    ├── IllegalTransitionError      a lifecycle change the state machine forbids
    ├── ProtocolViolation           a message its conversation's interaction protocol forbids
    ├── ModuleRejectedError         a WebAssembly artifact failed validation
    │   └── HostFunctionNotPermittedError  it imports a host function its permissions deny
    ├── AgentNotFoundError          no agent by that name
    ├── AgentUnavailableError       the agent exists but cannot take messages now
    ├── MailboxFullError            the agent's mailbox is at its bound
    ├── ConversationNotFoundError   no conversation by that id
    ├── DeadLetterNotFoundError     no dead letter by that message id
    ├── DeploymentNotFoundError     no deployment by that id (finished ones are kept a while)
    ├── DeploymentConflictError     the agent has a deployment in progress already
    ├── DeploymentsBusyError        as many deployments as the server runs at once are running
    ├── NotRegisteredError          no directory (DF) registration for that agent
    ├── AlreadyRegisteredError      the agent is registered with the directory already
    ├── PayloadTooLargeError        a message or module exceeds its size limit
    ├── LimitAboveCeilingError      a requested agent limit is above the server's ceiling
    ├── MemoryBudgetError           the agents' memory limits would exceed the server's total
    ├── CapacityError               the OS refused memory for another sandbox (address space,
    │                               mappings): the server is full, the module is not at fault
    ├── TooManyDeploysError         deploys are already running and queued; retry shortly
    ├── ReplyTimeoutError           no reply arrived before the deadline
    ├── MessageIdConflictError      a message id already accepted for a different message
    ├── PermissionDeniedError       the credential's role or scope does not allow the call (403)
    ├── RateLimitedError            too many requests from one token or address (429)
    ├── TokenNotFoundError          no API key by that id
    ├── CodecError                  bytes from another platform cannot be decoded
    │   ├── MalformedAclError       not a valid FIPA ACL message (string representation)
    │   └── MalformedEnvelopeError  not a valid FIPA transport envelope or MTP body
    └── StoreError                  the embedded database failed
        ├── StoreBusyError          too many writes are queued; retry shortly
        └── DataDirDamagedError     the data directory's database is damaged or not Caxton's

Every error has a stable machine-readable ``code`` that the REST and gRPC layers report.
"""

from __future__ import annotations


class CaxtonError(Exception):
    """Root of every error Caxton raises on purpose."""

    code = "internal"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(CaxtonError):
    code = "invalid_config"


class AuthenticationError(CaxtonError):
    """A credential did not prove who is calling; the message says why (expired, wrong
    audience, bad signature, ...). REST answers 401, gRPC UNAUTHENTICATED."""

    code = "unauthenticated"


class DataDirLockedError(CaxtonError):
    code = "data_dir_locked"


class InvalidMessageError(CaxtonError):
    """A message field is missing or malformed; ``field`` names it."""

    code = "invalid_message"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"field '{field}': {reason}")
        self.field = field
        self.reason = reason


class InvalidPermissionsError(InvalidMessageError):
    """An agent's permissions (declared at deploy) are malformed; ``field`` names the part,
    e.g. ``permissions.messaging[2]``."""

    code = "invalid_permissions"


class InvalidAgentNameError(CaxtonError):
    code = "invalid_agent_name"


class IllegalTransitionError(CaxtonError):
    code = "illegal_transition"


class ProtocolViolation(CaxtonError):  # noqa: N818 - the FIPA term, named in the issue
    """A message its conversation's interaction protocol does not allow at that point.

    ``protocol`` names the protocol, ``performative`` the offending act and ``expected`` the acts
    that would have been allowed (empty when the conversation, or that party's part, is over).
    FIPA answers such a message with ``not-understood``; the message says what was expected so
    that reply can explain itself.
    """

    code = "protocol_violation"

    def __init__(
        self, message: str, *, protocol: str = "", performative: str = "",
        expected: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.protocol = protocol
        self.performative = performative
        self.expected = expected


class ModuleRejectedError(CaxtonError):
    code = "module_rejected"


class HostFunctionNotPermittedError(ModuleRejectedError):
    """The module imports a host function its declared permissions do not allow; ``function``
    names the import."""

    code = "host_function_not_permitted"

    def __init__(self, message: str, function: str = "") -> None:
        super().__init__(message)
        self.function = function


class AgentNotFoundError(CaxtonError):
    code = "agent_not_found"


class AgentUnavailableError(CaxtonError):
    code = "agent_unavailable"


class MailboxFullError(CaxtonError):
    code = "mailbox_full"


class ConversationNotFoundError(CaxtonError):
    code = "conversation_not_found"


class DeadLetterNotFoundError(CaxtonError):
    code = "dead_letter_not_found"


class DeploymentNotFoundError(CaxtonError):
    code = "deployment_not_found"


class DeploymentConflictError(CaxtonError):
    code = "deployment_in_progress"


class DeploymentsBusyError(CaxtonError):
    code = "deployments_busy"


class NotRegisteredError(CaxtonError):
    code = "not_registered"


class AlreadyRegisteredError(CaxtonError):
    code = "already_registered"


class PlatformNotFoundError(CaxtonError):
    code = "platform_not_found"


class PlatformConfiguredError(CaxtonError):
    """The address book entry comes from the server config: change it there."""

    code = "platform_configured"


class PayloadTooLargeError(CaxtonError):
    code = "payload_too_large"


class LimitAboveCeilingError(CaxtonError):
    """A client asked for more than the server allows one agent; ``field`` names the limit."""

    code = "limit_above_ceiling"

    def __init__(self, message: str, field: str = "limits") -> None:
        super().__init__(message)
        self.field = field


class MemoryBudgetError(CaxtonError):
    """Deploying would take the sum of the agents' memory limits over the server's budget."""

    code = "memory_budget_exceeded"


class CapacityError(CaxtonError):
    """The operating system refused the memory a new sandbox needs (``mmap``: out of address
    space, ``vm.max_map_count`` mappings or ``ulimit -v``). The module is fine; the server has
    no room for another live instance now. REST answers 503, gRPC RESOURCE_EXHAUSTED."""

    code = "capacity_exhausted"


class TooManyDeploysError(CaxtonError):
    """Every deploy slot is taken and the queue is full: try again after ``retry_after_s``."""

    code = "too_many_deploys"
    retry_after_s = 2


class ReplyTimeoutError(CaxtonError):
    code = "reply_timeout"


class MessageIdConflictError(CaxtonError):
    """A client reused a message id for a message that differs from the one first accepted
    under it: a retry must repeat the message, or use a new id."""

    code = "message_id_conflict"


class CodecError(CaxtonError):
    """Input in a foreign wire format (FIPA string, XML envelope, MTP body) is malformed."""

    code = "malformed_input"


class MalformedAclError(CodecError):
    code = "malformed_acl"


class MalformedEnvelopeError(CodecError):
    code = "malformed_envelope"


class SenderRefusedError(CaxtonError):
    """A message from another platform claims to come from (or sends answers to) an agent of
    this platform: a bare name, ``NAME@<platform_name>``, or this platform's own ``/acc``."""

    code = "sender_refused"


class DestinationRefusedError(CaxtonError):
    """The outbound MTP will not POST to this address: it is the server's own, or neither in
    the platform address book nor on a host ``mtp_allowed_hosts`` allows."""

    code = "destination_refused"


class StoreError(CaxtonError):
    code = "store_error"


class StoreBusyError(StoreError):
    code = "store_busy"


class DataDirDamagedError(StoreError):
    """The database file is not one Caxton can trust: empty where data was expected, not a
    SQLite database, or failing its integrity check. The message names the file and what to
    do."""

    code = "data_dir_damaged"


class PermissionDeniedError(CaxtonError):
    """The caller is known but its role, or the agents its grant covers, do not allow this."""

    code = "permission_denied"


class RateLimitedError(CaxtonError):
    """Too many requests from one token or source address; retry after ``retry_after_s``."""

    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TokenNotFoundError(CaxtonError):
    code = "token_not_found"
