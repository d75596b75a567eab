"""echo: answers every message with an ``inform`` carrying the same content."""

from caxton_agent import Agent, serve


class Echo(Agent):
    def handle(self, msg: dict) -> None:
        self.reply({"performative": "inform", "content": msg.get("content")})


WitWorld = serve(Echo)
