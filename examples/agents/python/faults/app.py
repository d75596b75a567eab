"""faults: misbehaves on request, to show how failures surface. The content picks:

- "bad-reply": malformed JSON; the host refuses it (HostError "invalid") and handle fails;
- "bad-send": a message with no receiver (HostError "invalid");
- "raise": an exception in the handler (its traceback goes to the agent's log);
- "trap": os.abort(), a WebAssembly trap (the host replaces the instance);
- "spin": loops until its fuel (or its time) runs out;
anything else gets inform "ok".
"""

import os

from caxton_agent import Agent, serve


class Faults(Agent):
    def handle(self, msg: dict) -> None:
        what = msg.get("content")
        if what == "bad-reply":
            self.reply('{"performative":"inform","content":')
        elif what == "bad-send":
            self.send({"performative": "inform"})
        elif what == "raise":
            raise RuntimeError("faults: exception requested")
        elif what == "trap":
            self.log("faults: trap requested", "error")
            os.abort()
        elif what == "spin":
            n = 0
            while True:
                n += 1
        else:
            self.reply({"performative": "inform", "content": "ok"})


WitWorld = serve(Faults)
