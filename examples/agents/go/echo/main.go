// echo replies inform with the message's content, byte for byte.
package main

import "caxton"

func init() {
	caxton.Handle(func(m *caxton.Message) error {
		return caxton.Reply(caxton.NewObject().
			Str("performative", "inform").
			Raw("content", m.Content.Raw()).
			Bytes())
	})
}

func main() {}
