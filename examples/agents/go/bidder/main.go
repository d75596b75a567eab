// bidder is a Contract Net participant (FIPA SC00029) that keeps its book in state.
//
//   - cfp {"task": "...", "size": N}: proposes size*rate (rate from state, default 10),
//     remembers the bid under bid:<conversation> and counts the call in cfps; replies
//     propose {"price": P, "task": "..."}, or refuse when size is not a positive integer.
//   - accept-proposal: replies inform {"done": true, "price": P} and tells the ledger
//     (X-Ledger of the message, default "ledger") inform {"event": "won", "price": P}.
//   - reject-proposal: forgets the bid and tells the ledger {"event": "lost"}.
//   - confirm (the ledger's answer): counted in confirmed.
//   - request {"rate": N} sets the rate; query-ref replies with the counters.
package main

import "caxton"

const defaultRate = 10

func bump(key string) error { return caxton.StatePutInt(key, caxton.StateGetInt(key, 0)+1) }

func replyReason(performative, reason string) error {
	return caxton.Reply(caxton.NewObject().Str("performative", performative).
		Obj("content", func(c *caxton.ObjectWriter) { c.Str("reason", reason) }).Bytes())
}

func tellLedger(m *caxton.Message, event string, price int64) error {
	ledger, ok := m.Get("X-Ledger").Str()
	if !ok {
		ledger = "ledger"
	}
	return caxton.Send(caxton.NewObject().
		Str("performative", "inform").Str("receiver", ledger).
		Str("conversation_id", m.ConversationID).
		Obj("content", func(c *caxton.ObjectWriter) {
			c.Str("event", event)
			if price >= 0 {
				c.Int("price", price)
			}
		}).Bytes())
}

func handle(m *caxton.Message) error {
	bidKey := "bid:" + m.ConversationID
	switch m.Performative {
	case "cfp":
		size, ok := m.Content.Get("size").Int()
		if !ok || size <= 0 {
			return replyReason("refuse", "size must be a positive integer")
		}
		task, _ := m.Content.Get("task").Str()
		price := size * caxton.StateGetInt("rate", defaultRate)
		if err := caxton.StatePutInt(bidKey, price); err != nil {
			return err
		}
		if err := bump("cfps"); err != nil {
			return err
		}
		return caxton.Reply(caxton.NewObject().Str("performative", "propose").
			Obj("content", func(c *caxton.ObjectWriter) { c.Int("price", price).Str("task", task) }).
			Bytes())
	case "accept-proposal":
		price := caxton.StateGetInt(bidKey, -1)
		if price < 0 {
			return replyReason("failure", "no open bid in this conversation")
		}
		caxton.StateDelete(bidKey)
		if err := bump("won"); err != nil {
			return err
		}
		if err := tellLedger(m, "won", price); err != nil {
			return err
		}
		return caxton.Reply(caxton.NewObject().Str("performative", "inform").
			Obj("content", func(c *caxton.ObjectWriter) { c.Bool("done", true).Int("price", price) }).
			Bytes())
	case "reject-proposal":
		caxton.StateDelete(bidKey)
		if err := bump("lost"); err != nil {
			return err
		}
		return tellLedger(m, "lost", -1)
	case "confirm":
		return bump("confirmed")
	case "request":
		rate, ok := m.Content.Get("rate").Int()
		if !ok || rate <= 0 {
			return replyReason("refuse", `expected {"rate": N} with N > 0`)
		}
		if err := caxton.StatePutInt("rate", rate); err != nil {
			return err
		}
		return caxton.Reply(caxton.NewObject().Str("performative", "inform").
			Obj("content", func(c *caxton.ObjectWriter) { c.Int("rate", rate) }).Bytes())
	case "query-ref":
		return caxton.Reply(caxton.NewObject().Str("performative", "inform").
			Obj("content", func(c *caxton.ObjectWriter) {
				for _, k := range []string{"cfps", "won", "lost", "confirmed"} {
					c.Int(k, caxton.StateGetInt(k, 0))
				}
				c.Int("rate", caxton.StateGetInt("rate", defaultRate))
			}).Bytes())
	case "failure", "not-understood":
		caxton.Log(caxton.Warning, "bidder: got "+m.Performative+" from "+m.Sender)
		return nil
	}
	return replyReason("not-understood", "a bidder does not take "+m.Performative)
}

func init() { caxton.Handle(handle) }

func main() {}
