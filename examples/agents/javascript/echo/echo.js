// echo: answers every message with an `inform` carrying the same content.
import { agent, reply } from '../../../../sdk/javascript/caxton-agent.js';

const echo = agent({
  handle(msg) {
    reply({ performative: 'inform', content: msg.content ?? null });
  },
});

export const handle = echo.handle;
export const init = echo.init;
