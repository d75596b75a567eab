// bidder: a Contract Net participant (FIPA SC00029) that keeps its book in state.
//
// The same protocol as the other languages' bidders (examples/agents/go/bidder):
//   - cfp {"task": "...", "size": N}: proposes size*rate (rate from state, default 10),
//     remembers the bid under bid:<conversation> and counts the call in cfps; replies
//     propose {"price": P, "task": "..."}, or refuse when size is not a positive integer.
//   - accept-proposal: replies inform {"done": true, "price": P} and tells the ledger
//     (X-Ledger of the message, default "ledger") inform {"event": "won", "price": P}.
//   - reject-proposal: forgets the bid and tells the ledger {"event": "lost"}.
//   - confirm (the ledger's answer): counted in confirmed.
//   - request {"rate": N} sets the rate; query-ref replies with the counters.
import { agent, log, reply, send, state } from '../../../../sdk/javascript/caxton-agent.js';

const DEFAULT_RATE = 10;
const COUNTERS = ['cfps', 'won', 'lost', 'confirmed'];

const number = (key, fallback = 0) => state.getJSON(key, fallback);
const bump = (key) => state.putJSON(key, number(key) + 1);
const positiveInt = (v) => (Number.isInteger(v) && v > 0 ? v : null);
const answer = (performative, reason) => reply({ performative, content: { reason } });

function tellLedger(msg, event, price) {
  const content = price === undefined ? { event } : { event, price };
  send({
    performative: 'inform',
    receiver: msg['X-Ledger'] ?? 'ledger',
    conversation_id: msg.conversation_id,
    content,
  });
}

function handleMessage(msg) {
  const body = msg.content !== null && typeof msg.content === 'object' ? msg.content : {};
  const bidKey = `bid:${msg.conversation_id}`;
  switch (msg.performative) {
    case 'cfp': {
      const size = positiveInt(body.size);
      if (size === null) return answer('refuse', 'size must be a positive integer');
      const price = size * number('rate', DEFAULT_RATE);
      state.putJSON(bidKey, price);
      bump('cfps');
      return reply({ performative: 'propose', content: { price, task: body.task ?? '' } });
    }
    case 'accept-proposal': {
      const price = state.getJSON(bidKey);
      if (price === undefined) return answer('failure', 'no open bid in this conversation');
      state.delete(bidKey);
      bump('won');
      tellLedger(msg, 'won', price);
      return reply({ performative: 'inform', content: { done: true, price } });
    }
    case 'reject-proposal':
      state.delete(bidKey);
      bump('lost');
      return tellLedger(msg, 'lost');
    case 'confirm':
      return bump('confirmed');
    case 'request': {
      const rate = positiveInt(body.rate);
      if (rate === null) return answer('refuse', 'expected {"rate": N} with N > 0');
      state.putJSON('rate', rate);
      return reply({ performative: 'inform', content: { rate } });
    }
    case 'query-ref': {
      const figures = Object.fromEntries(COUNTERS.map((k) => [k, number(k)]));
      figures.rate = number('rate', DEFAULT_RATE);
      return reply({ performative: 'inform', content: figures });
    }
    case 'failure':
    case 'not-understood':
      return log(`bidder: got ${msg.performative} from ${msg.sender}`, 'warning');
    default:
      return answer('not-understood', `a bidder does not take ${msg.performative}`);
  }
}

const bidder = agent({ handle: handleMessage });

export const handle = bidder.handle;
export const init = bidder.init;
