"""The protocol drivers over gRPC (``ProtocolService``): a Contract Net run by the server, and
subscriptions streamed from it. Answers are the JSON shapes ``/api/v1/protocols`` returns.

>>> with ProtocolClient("127.0.0.1:50051") as drivers:
...     outcome = drivers.contract_net({"receiver": ["b1", "b2"], "deadline_s": 2,
...                                     "content": {"task": "t", "size": 3}})
...     outcome["winner"], outcome["status"]
('b2', 'done')
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc

from caxton.api.grpc import convert_protocols as cp
from caxton.api.grpc._generated import protocols_pb2, protocols_pb2_grpc
from caxton.client._common import DEFAULT_TIMEOUT_S, WAIT_MARGIN_S, channel
from caxton.client._streams import ServerStream
from caxton.client.errors import from_rpc_error
from caxton.security.client_tls import ClientTls

Outcome = dict[str, Any]
Event = dict[str, Any]


class SubscriptionStream(ServerStream[Event]):
    """A subscription's events, in order (the first is ``subscribed``, with the conversation
    id); it ends after the ``cancelled`` event or the act that ended the subscription.
    ``close()`` (or leaving ``with``) ends the call: the server then cancels by itself."""

    def _convert(self, item: Any) -> Event:
        return cp.event_from_proto(item)


class ProtocolClient:
    """A blocking client for ``caxton.v1.ProtocolService``."""

    def __init__(self, target: str, *, timeout: float | None = DEFAULT_TIMEOUT_S,
                 tls: ClientTls | None = None, token: str | None = None) -> None:
        self.target = target
        self.timeout = timeout
        self._channel = channel(target, tls, token)
        self._stub = protocols_pb2_grpc.ProtocolServiceStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> ProtocolClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def contract_net(self, request: Mapping[str, Any]) -> Outcome:
        """Run one Contract Net (the request as ``POST /api/v1/protocols/contract-net`` takes
        it); returns the outcome. The call lasts the deadline, then the result's wait."""
        pb = cp.contract_net_request_from_json(request)
        wait = (request.get("deadline_s") or 5.0) + (request.get("result_timeout_s") or 10.0)
        try:
            answer = self._stub.ContractNet(pb, timeout=wait + WAIT_MARGIN_S)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.target) from None
        return cp.outcome_from_proto(answer)

    def subscribe(self, request: Mapping[str, Any]) -> SubscriptionStream:
        """Subscribe (the request as ``POST /api/v1/protocols/subscribe`` takes it): the stream
        of the subscription's events, the first (``subscribed``) once the subscribe is sent."""
        call = self._stub.Subscribe(cp.subscribe_request_from_json(request))
        return SubscriptionStream(call, self.target)

    def cancel_subscription(self, conversation_id: str) -> Event:
        """Cancel the open subscription of ``conversation_id``: its ``cancelled`` event."""
        request = protocols_pb2.CancelSubscriptionRequest(conversation_id=conversation_id)
        try:
            answer = self._stub.CancelSubscription(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise from_rpc_error(exc, self.target) from None
        return cp.event_from_proto(answer)
