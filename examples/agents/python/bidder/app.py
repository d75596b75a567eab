"""bidder: a Contract Net participant (FIPA SC00029) that keeps its book in state.

The same protocol as the other languages' bidders (examples/agents/go/bidder):

- cfp {"task": "...", "size": N}: proposes size*rate (rate from state, default 10), remembers
  the bid under bid:<conversation> and counts the call in cfps; replies propose
  {"price": P, "task": "..."}, or refuse when size is not a positive integer.
- accept-proposal: replies inform {"done": true, "price": P} and tells the ledger (X-Ledger of
  the message, default "ledger") inform {"event": "won", "price": P}.
- reject-proposal: forgets the bid and tells the ledger {"event": "lost"}.
- confirm (the ledger's answer): counted in confirmed.
- request {"rate": N} sets the rate; query-ref replies with the counters.
"""

from caxton_agent import Agent, serve

DEFAULT_RATE = 10
COUNTERS = ("cfps", "won", "lost", "confirmed")


def positive_int(value: object) -> int | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value > 0
    return value if ok else None


class Bidder(Agent):
    def number(self, key: str, default: int = 0) -> int:
        return int(self.state.get_json(key, default))

    def bump(self, key: str) -> None:
        self.state.put_json(key, self.number(key) + 1)

    def answer(self, performative: str, reason: str) -> None:
        self.reply({"performative": performative, "content": {"reason": reason}})

    def tell_ledger(self, msg: dict, event: str, price: int | None = None) -> None:
        content: dict = {"event": event}
        if price is not None:
            content["price"] = price
        self.send({"performative": "inform", "receiver": msg.get("X-Ledger", "ledger"),
                   "conversation_id": msg["conversation_id"], "content": content})

    def handle(self, msg: dict) -> None:
        act = msg["performative"]
        content = msg.get("content")
        body = content if isinstance(content, dict) else {}
        bid_key = f"bid:{msg['conversation_id']}"
        if act == "cfp":
            size = positive_int(body.get("size"))
            if size is None:
                return self.answer("refuse", "size must be a positive integer")
            price = size * self.number("rate", DEFAULT_RATE)
            self.state.put_json(bid_key, price)
            self.bump("cfps")
            self.reply({"performative": "propose",
                        "content": {"price": price, "task": body.get("task", "")}})
        elif act == "accept-proposal":
            price = self.state.get_json(bid_key)
            if price is None:
                return self.answer("failure", "no open bid in this conversation")
            self.state.discard(bid_key)
            self.bump("won")
            self.tell_ledger(msg, "won", price)
            self.reply({"performative": "inform", "content": {"done": True, "price": price}})
        elif act == "reject-proposal":
            self.state.discard(bid_key)
            self.bump("lost")
            self.tell_ledger(msg, "lost")
        elif act == "confirm":
            self.bump("confirmed")
        elif act == "request":
            rate = positive_int(body.get("rate"))
            if rate is None:
                return self.answer("refuse", 'expected {"rate": N} with N > 0')
            self.state.put_json("rate", rate)
            self.reply({"performative": "inform", "content": {"rate": rate}})
        elif act == "query-ref":
            figures = {key: self.number(key) for key in COUNTERS}
            figures["rate"] = self.number("rate", DEFAULT_RATE)
            self.reply({"performative": "inform", "content": figures})
        elif act in ("failure", "not-understood"):
            self.log(f"bidder: got {act} from {msg['sender']}", "warning")
        else:
            self.answer("not-understood", f"a bidder does not take {act}")
        return None


WitWorld = serve(Bidder)
