from . import acl_pb2 as _acl_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ContractNetRequest(_message.Message):
    __slots__ = ("receiver", "content_json", "deadline_s", "pick", "result_timeout_s", "conversation_id", "language", "ontology", "user_params", "addresses")
    class UserParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AddressesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _acl_pb2.AddressList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_acl_pb2.AddressList, _Mapping]] = ...) -> None: ...
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_JSON_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_S_FIELD_NUMBER: _ClassVar[int]
    PICK_FIELD_NUMBER: _ClassVar[int]
    RESULT_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_FIELD_NUMBER: _ClassVar[int]
    USER_PARAMS_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    receiver: _containers.RepeatedScalarFieldContainer[str]
    content_json: str
    deadline_s: float
    pick: str
    result_timeout_s: float
    conversation_id: str
    language: str
    ontology: str
    user_params: _containers.ScalarMap[str, str]
    addresses: _containers.MessageMap[str, _acl_pb2.AddressList]
    def __init__(self, receiver: _Optional[_Iterable[str]] = ..., content_json: _Optional[str] = ..., deadline_s: _Optional[float] = ..., pick: _Optional[str] = ..., result_timeout_s: _Optional[float] = ..., conversation_id: _Optional[str] = ..., language: _Optional[str] = ..., ontology: _Optional[str] = ..., user_params: _Optional[_Mapping[str, str]] = ..., addresses: _Optional[_Mapping[str, _acl_pb2.AddressList]] = ...) -> None: ...

class ParticipantAnswer(_message.Message):
    __slots__ = ("agent", "answer", "after_s", "content_json", "message_id", "decision", "reason")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    AFTER_S_FIELD_NUMBER: _ClassVar[int]
    CONTENT_JSON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    agent: str
    answer: str
    after_s: float
    content_json: str
    message_id: str
    decision: str
    reason: str
    def __init__(self, agent: _Optional[str] = ..., answer: _Optional[str] = ..., after_s: _Optional[float] = ..., content_json: _Optional[str] = ..., message_id: _Optional[str] = ..., decision: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ContractNetResult(_message.Message):
    __slots__ = ("performative", "content_json", "after_s", "message_id")
    PERFORMATIVE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_JSON_FIELD_NUMBER: _ClassVar[int]
    AFTER_S_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    performative: str
    content_json: str
    after_s: float
    message_id: str
    def __init__(self, performative: _Optional[str] = ..., content_json: _Optional[str] = ..., after_s: _Optional[float] = ..., message_id: _Optional[str] = ...) -> None: ...

class ContractNetOutcome(_message.Message):
    __slots__ = ("conversation_id", "protocol", "rule", "reply_by", "status", "winner", "proposal_json", "result", "participants", "elapsed_s")
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    REPLY_BY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    WINNER_FIELD_NUMBER: _ClassVar[int]
    PROPOSAL_JSON_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_S_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    protocol: str
    rule: str
    reply_by: str
    status: str
    winner: str
    proposal_json: str
    result: ContractNetResult
    participants: _containers.RepeatedCompositeFieldContainer[ParticipantAnswer]
    elapsed_s: float
    def __init__(self, conversation_id: _Optional[str] = ..., protocol: _Optional[str] = ..., rule: _Optional[str] = ..., reply_by: _Optional[str] = ..., status: _Optional[str] = ..., winner: _Optional[str] = ..., proposal_json: _Optional[str] = ..., result: _Optional[_Union[ContractNetResult, _Mapping]] = ..., participants: _Optional[_Iterable[_Union[ParticipantAnswer, _Mapping]]] = ..., elapsed_s: _Optional[float] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("receiver", "content_json", "count", "cancel_timeout_s", "conversation_id", "language", "ontology", "user_params", "addresses")
    class UserParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AddressesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _acl_pb2.AddressList
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_acl_pb2.AddressList, _Mapping]] = ...) -> None: ...
    RECEIVER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_JSON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    CANCEL_TIMEOUT_S_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    ONTOLOGY_FIELD_NUMBER: _ClassVar[int]
    USER_PARAMS_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    receiver: str
    content_json: str
    count: int
    cancel_timeout_s: float
    conversation_id: str
    language: str
    ontology: str
    user_params: _containers.ScalarMap[str, str]
    addresses: _containers.MessageMap[str, _acl_pb2.AddressList]
    def __init__(self, receiver: _Optional[str] = ..., content_json: _Optional[str] = ..., count: _Optional[int] = ..., cancel_timeout_s: _Optional[float] = ..., conversation_id: _Optional[str] = ..., language: _Optional[str] = ..., ontology: _Optional[str] = ..., user_params: _Optional[_Mapping[str, str]] = ..., addresses: _Optional[_Mapping[str, _acl_pb2.AddressList]] = ...) -> None: ...

class CancelSubscriptionRequest(_message.Message):
    __slots__ = ("conversation_id",)
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    conversation_id: str
    def __init__(self, conversation_id: _Optional[str] = ...) -> None: ...

class SubscriptionEvent(_message.Message):
    __slots__ = ("event", "conversation_id", "after_s", "message", "answer", "outcome", "reason")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_S_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    event: str
    conversation_id: str
    after_s: float
    message: _acl_pb2.AclMessage
    answer: _acl_pb2.AclMessage
    outcome: str
    reason: str
    def __init__(self, event: _Optional[str] = ..., conversation_id: _Optional[str] = ..., after_s: _Optional[float] = ..., message: _Optional[_Union[_acl_pb2.AclMessage, _Mapping]] = ..., answer: _Optional[_Union[_acl_pb2.AclMessage, _Mapping]] = ..., outcome: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...
