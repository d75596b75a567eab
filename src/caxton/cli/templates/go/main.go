// {{name}} is a Caxton agent in Go, made by `caxton agents new`.
//
// It answers every message with
// inform {"agent":"{{name}}","count":N,"echo":<content>}, where N counts the messages it has
// handled (kept in host state, so it survives restarts). See README.md.
package main

import "caxton"

func handle(m *caxton.Message) error {
	// Never answer a complaint with another one: two agents could bounce them forever.
	if m.Performative == "failure" || m.Performative == "not-understood" {
		caxton.Log(caxton.Warning, "{{name}}: got "+m.Performative)
		return nil
	}
	count := caxton.StateGetInt("count", 0) + 1
	// an error fails the message: the sender gets a FIPA failure
	if err := caxton.StatePutInt("count", count); err != nil {
		return err
	}
	return caxton.Reply(caxton.NewObject().
		Str("performative", "inform").
		Obj("content", func(c *caxton.ObjectWriter) {
			c.Str("agent", "{{name}}").Int("count", count).Raw("echo", m.Content.Raw())
		}).
		Bytes())
}

// The host calls the module's _initialize export, which runs init; main is never called.
func init() { caxton.Handle(handle) }

func main() {}
