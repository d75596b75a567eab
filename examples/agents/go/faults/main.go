// faults misbehaves on request, to show how failures surface. The content picks:
// "bad-reply" (malformed JSON: the host refuses it with -2 and the handler returns the error),
// "bad-send" (a message with no receiver: -2), "trap" (a panic: printed to the agent's log,
// then the module exits), "spin" (loops until its fuel runs out); else inform "ok".
package main

import "caxton"

var sink uint64

func init() {
	caxton.Handle(func(m *caxton.Message) error {
		what, _ := m.Content.Str()
		switch what {
		case "bad-reply":
			return caxton.Reply([]byte(`{"performative":"inform","content":`))
		case "bad-send":
			return caxton.Send(caxton.NewObject().Str("performative", "inform").Bytes())
		case "trap":
			panic("faults: trap requested")
		case "spin":
			for {
				sink++
			}
		}
		return caxton.Reply([]byte(`{"performative":"inform","content":"ok"}`))
	})
}

func main() {}
