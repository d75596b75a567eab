// faults: misbehaves on request, to show how failures surface. The content picks:
//   "bad-reply": malformed JSON; the host refuses it (HostError "invalid") and handle fails;
//   "bad-send":  a message with no receiver (HostError "invalid");
//   "raise":     an exception in the handler (its stack goes to the agent's log);
//   "trap":      abort(), a WebAssembly trap (the host replaces the instance);
//   "spin":      loops until its fuel (or its time) runs out;
// anything else gets inform "ok".
import { abort, agent, reply, send } from '../../../../sdk/javascript/caxton-agent.js';

let sink = 0;

const faults = agent({
  handle(msg) {
    switch (msg.content) {
      case 'bad-reply':
        return reply('{"performative":"inform","content":');
      case 'bad-send':
        return send({ performative: 'inform' });
      case 'raise':
        throw new Error('faults: exception requested');
      case 'trap':
        return abort('faults: trap requested');
      case 'spin':
        for (;;) sink += 1;
      default:
        return reply({ performative: 'inform', content: 'ok' });
    }
  },
});

export const handle = faults.handle;
export const init = faults.init;
