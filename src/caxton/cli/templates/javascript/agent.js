// {{name}}: answers every message with an `inform` {agent, count, echo}. The count lives in host
// state, so it survives restarts and new versions of the agent.
import { agent, reply, state } from './caxton-agent.js';

const main = agent({
  handle(msg) {
    const count = state.getJSON('count', 0) + 1;
    state.putJSON('count', count);
    reply({
      performative: 'inform',
      content: { agent: '{{name}}', count, echo: msg.content ?? null },
    });
  },
});

export const handle = main.handle;
export const init = main.init;
