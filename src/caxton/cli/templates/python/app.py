"""{{name}}: answers every message with an ``inform`` {"agent", "count", "echo"}.

The count lives in host state, so it survives restarts and new versions of the agent.
"""

from caxton_agent import Agent, serve


class Main(Agent):
    def handle(self, msg: dict) -> None:
        count = int(self.state.get_json("count", 0)) + 1
        self.state.put_json("count", count)
        self.reply({"performative": "inform",
                    "content": {"agent": "{{name}}", "count": count, "echo": msg.get("content")}})


WitWorld = serve(Main)
