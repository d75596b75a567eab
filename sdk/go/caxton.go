// Package caxton writes Caxton agents in Go (agent ABI version 1, docs/agent-abi.md).
//
// It hides the ABI: the alloc/dealloc/handle/handle_batch exports, the message as JSON in linear memory and
// the raw host imports. Register a handler in an init function and build with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o agent.wasm .
//
// (Go 1.24 or later). The module is a WASI reactor: the host calls its _initialize export,
// which runs the package init functions, so main is never called.
//
//	package main
//
//	import "caxton"
//
//	func init() {
//		caxton.Handle(func(m *caxton.Message) error {
//			return caxton.Reply(caxton.NewObject().
//				Str("performative", "inform").Raw("content", m.Content.Raw()).Bytes())
//		})
//	}
//
//	func main() {}
//
// A handler that returns an error fails the message: what it sent and wrote to state is
// discarded and the sender gets a FIPA failure naming the code. What the program prints to
// stdout or stderr (a panic's message, say) appears in the agent's log.
package caxton

import (
	"strconv"
	"unsafe"
)

//go:wasmimport caxton send
func hostSend(ptr unsafe.Pointer, n int32) int32

//go:wasmimport caxton reply
func hostReply(ptr unsafe.Pointer, n int32) int32

//go:wasmimport caxton log
func hostLog(level int32, ptr unsafe.Pointer, n int32)

//go:wasmimport caxton now
func hostNow() int64

//go:wasmimport caxton random
func hostRandom(ptr unsafe.Pointer, n int32) int32

//go:wasmimport caxton state_get
func hostStateGet(kptr unsafe.Pointer, klen int32, vptr unsafe.Pointer, vcap int32) int32

//go:wasmimport caxton state_put
func hostStatePut(kptr unsafe.Pointer, klen int32, vptr unsafe.Pointer, vlen int32) int32

//go:wasmimport caxton state_delete
func hostStateDelete(kptr unsafe.Pointer, klen int32) int32

// Error is a failure code: the host's are negative, an agent may use positive ones.
type Error struct{ Code int32 }

var (
	ErrNotFound   = &Error{-1}
	ErrInvalid    = &Error{-2} // the host refused a message (the reason is in the agent's log)
	ErrTooLarge   = &Error{-3}
	ErrNoMessage  = &Error{-5}
	ErrBadMessage = &Error{-11} // handle was given something that is not a JSON object
)

func (e *Error) Error() string {
	names := map[int32]string{-1: "not found", -2: "invalid", -3: "too large",
		-5: "no current message", -11: "bad message"}
	name, ok := names[e.Code]
	if !ok {
		name = "agent error"
	}
	return name + " (" + strconv.Itoa(int(e.Code)) + ")"
}

func check(rc int32) error {
	if rc < 0 {
		return &Error{rc}
	}
	return nil
}

func ptr(b []byte) unsafe.Pointer { return unsafe.Pointer(unsafe.SliceData(b)) }

// Send sends a message: a JSON object with at least receiver and performative.
func Send(json []byte) error { return check(hostSend(ptr(json), int32(len(json)))) }

// Reply answers the message being handled. Only performative is needed; the host fills in
// receiver, conversation_id, in_reply_to and the rest.
func Reply(json []byte) error { return check(hostReply(ptr(json), int32(len(json)))) }

// Level is a log level.
type Level int32

const (
	Debug Level = iota
	Info
	Warning
	ErrorLevel
)

// Log writes a line to the agent's log (caxton agents logs NAME).
func Log(level Level, text string) {
	hostLog(int32(level), unsafe.Pointer(unsafe.StringData(text)), int32(len(text)))
}

// Now is the wall-clock time in nanoseconds since the Unix epoch.
func Now() int64 { return hostNow() }

// Random fills b with cryptographically secure random bytes (at most 64 KiB).
func Random(b []byte) error { return check(hostRandom(ptr(b), int32(len(b)))) }

func key(k string) (unsafe.Pointer, int32) {
	return unsafe.Pointer(unsafe.StringData(k)), int32(len(k))
}

// StateGet reads this agent's value for key.
func StateGet(k string) ([]byte, bool) {
	kp, kl := key(k)
	buf := make([]byte, 256)
	for {
		n := hostStateGet(kp, kl, ptr(buf), int32(len(buf)))
		if n < 0 {
			return nil, false
		}
		if int(n) <= len(buf) {
			return buf[:n], true
		}
		buf = make([]byte, n) // too small: the host told us the size
	}
}

// StateGetInt reads an integer stored by StatePutInt, or returns otherwise.
func StateGetInt(k string, otherwise int64) int64 {
	v, ok := StateGet(k)
	if !ok {
		return otherwise
	}
	n, err := strconv.ParseInt(string(v), 10, 64)
	if err != nil {
		return otherwise
	}
	return n
}

// StatePut stores value under key; committed only if the handler succeeds.
func StatePut(k string, value []byte) error {
	kp, kl := key(k)
	return check(hostStatePut(kp, kl, ptr(value), int32(len(value))))
}

// StatePutInt stores an integer as decimal text.
func StatePutInt(k string, value int64) error {
	return StatePut(k, strconv.AppendInt(nil, value, 10))
}

// StateDelete deletes key; false when it was absent.
func StateDelete(k string) bool {
	kp, kl := key(k)
	return hostStateDelete(kp, kl) == 0
}

// Message is the message being handled. Header fields are decoded; Content is the raw JSON.
type Message struct {
	Raw            []byte
	Performative   string
	Sender         string
	ConversationID string
	Content        Value
	root           Value
}

// Get returns any member by name, e.g. "protocol" or "X-Forward-To".
func (m *Message) Get(field string) Value { return m.root.Get(field) }

// ParseMessage reads a message object (one walk over its members).
func ParseMessage(b []byte) (*Message, bool) {
	root, ok := Parse(b)
	if !ok || root.Kind() != Object {
		return nil, false
	}
	m := &Message{Raw: b, root: root, Content: Value{[]byte("null")}}
	root.each(func(k []byte, v Value) bool {
		switch string(k) {
		case `"performative"`:
			m.Performative, _ = v.Str()
		case `"sender"`:
			m.Sender, _ = v.Str()
		case `"conversation_id"`:
			m.ConversationID, _ = v.Str()
		case `"content"`:
			m.Content = v
		}
		return false
	})
	return m, true
}

var (
	handler func(*Message) error
	buffers = map[uintptr][]byte{} // what alloc handed out, kept alive for the GC
)

// Handle registers the message handler (call it from an init function).
func Handle(h func(*Message) error) { handler = h }

//go:wasmexport alloc
func alloc(size int32) uint32 {
	if size < 0 {
		return 0
	}
	b := make([]byte, size+1)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	buffers[p] = b
	return uint32(p)
}

//go:wasmexport dealloc
func dealloc(p uint32, size int32) { delete(buffers, uintptr(p)) }

//go:wasmexport caxton_abi_version
func abiVersion() int32 { return 1 }

//go:wasmexport handle
func handle(p uint32, n int32) int32 { return dispatch(inbox(p, n)) }

// handleBatch is the optional batch export (docs/agent-abi.md): several queued messages in one
// call, each handed to the same handler as handle would hand it. The buffer is
//
//	u32 current | u32 count | count frames of (u32 length, JSON bytes)
//
// all little-endian and unaligned. current is written before each message, so the host
// attributes its sends, replies and state to it; the first non-zero code stops the batch
// (the host delivers the rest again).
//
//go:wasmexport handle_batch
func handleBatch(p uint32, n int32) int32 {
	buf := inbox(p, n)
	if len(buf) < 8 {
		return ErrBadMessage.Code
	}
	count := le32(buf[4:])
	off := uint32(8)
	for i := uint32(0); i < count; i++ {
		putLE32(buf, i)
		rest := uint32(len(buf)) - off
		if rest < 4 || le32(buf[off:]) > rest-4 {
			return ErrBadMessage.Code // a frame runs past the buffer: fail this message
		}
		end := off + 4 + le32(buf[off:])
		// capped, so that appending to Message.Raw cannot overwrite the next frame
		if rc := dispatch(buf[off+4 : end : end]); rc != 0 {
			return rc
		}
		off = end
	}
	return 0
}

// inbox is the host's buffer [p, p+n) in linear memory.
func inbox(p uint32, n int32) []byte {
	if n < 0 {
		n = 0
	}
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(p))), n)
}

// le32 and putLE32 read and write a little-endian u32 byte by byte (frames are unaligned).
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

func putLE32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// dispatch parses one message and runs the handler: the code handle returns for it.
func dispatch(b []byte) int32 {
	m, ok := ParseMessage(b)
	if !ok {
		return ErrBadMessage.Code
	}
	if handler == nil {
		Log(ErrorLevel, "caxton: no handler registered (call caxton.Handle in an init function)")
		return 1
	}
	err := handler(m)
	if err == nil {
		return 0
	}
	if e, ok := err.(*Error); ok && e.Code != 0 {
		return e.Code
	}
	Log(ErrorLevel, err.Error())
	return 1
}
