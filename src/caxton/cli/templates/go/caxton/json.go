package caxton

import (
	"strconv"
	"unicode/utf8"
)

// Kind is the kind of a JSON value.
type Kind int

const (
	Absent Kind = iota
	Null
	Bool
	Number
	String
	Array
	Object
)

// Value is a view of one JSON value's bytes (no copy, no tree). The zero Value is absent.
type Value struct{ raw []byte }

func isWS(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS(b[i]) {
		i++
	}
	return i
}

func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index just past the value at b[i], or -1. Containers are skipped by
// counting brackets outside strings, without recursion.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(b) && !isWS(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// Parse views b as one JSON value (surrounding whitespace allowed).
func Parse(b []byte) (Value, bool) {
	start := skipWS(b, 0)
	end := skipValue(b, start)
	if end < 0 || skipWS(b, end) != len(b) {
		return Value{}, false
	}
	return Value{b[start:end]}, true
}

// Raw is the value's JSON text as it arrived (nil when absent).
func (v Value) Raw() []byte { return v.raw }

// Exists is false for the zero Value (a member that is not there).
func (v Value) Exists() bool { return len(v.raw) > 0 }

func (v Value) Kind() Kind {
	if len(v.raw) == 0 {
		return Absent
	}
	switch v.raw[0] {
	case 'n':
		return Null
	case 't', 'f':
		return Bool
	case '"':
		return String
	case '[':
		return Array
	case '{':
		return Object
	}
	return Number
}

// each calls f(key token with quotes, value) for an object's members, or (nil, element) for
// an array's elements, until f returns true.
func (v Value) each(f func(k []byte, v Value) bool) {
	kind := v.Kind()
	if kind != Object && kind != Array {
		return
	}
	b := v.raw
	end := len(b) - 1
	for i := skipWS(b, 1); i < end; {
		var k []byte
		if kind == Object {
			j := skipString(b, i)
			if j < 0 {
				return
			}
			k = b[i:j]
			if i = skipWS(b, j); i >= end || b[i] != ':' {
				return
			}
			i = skipWS(b, i+1)
		}
		j := skipValue(b, i)
		if j < 0 || f(k, Value{b[i:j]}) {
			return
		}
		if i = skipWS(b, j); i >= end || b[i] != ',' {
			return
		}
		i = skipWS(b, i+1)
	}
}

// Get returns an object's member (absent when there is none).
func (v Value) Get(key string) Value {
	var out Value
	v.each(func(k []byte, val Value) bool {
		if len(k) >= 2 && (string(k[1:len(k)-1]) == key || unescape(k[1:len(k)-1]) == key) {
			out = val
			return true
		}
		return false
	})
	return out
}

// At returns an array's element (absent past the end).
func (v Value) At(index int) Value {
	var out Value
	if v.Kind() != Array {
		return out
	}
	n := 0
	v.each(func(_ []byte, val Value) bool {
		if n == index {
			out = val
			return true
		}
		n++
		return false
	})
	return out
}

// Len is the number of elements or members (0 for other kinds).
func (v Value) Len() int {
	n := 0
	v.each(func([]byte, Value) bool { n++; return false })
	return n
}

// Str returns a string value, unescaped.
func (v Value) Str() (string, bool) {
	if v.Kind() != String || len(v.raw) < 2 {
		return "", false
	}
	return unescape(v.raw[1 : len(v.raw)-1]), true
}

// Int returns an integer value (no fraction or exponent) that fits in an int64.
func (v Value) Int() (int64, bool) {
	if v.Kind() != Number {
		return 0, false
	}
	n, err := strconv.ParseInt(string(v.raw), 10, 64)
	return n, err == nil
}

// Bool returns a true or false value.
func (v Value) Bool() (value, ok bool) {
	switch string(v.raw) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}

// unescape decodes a JSON string body (without quotes); bad escapes become U+FFFD.
func unescape(b []byte) string {
	i := 0
	for i < len(b) && b[i] != '\\' {
		i++
	}
	if i == len(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			out = utf8.AppendRune(out, utf8.RuneError)
			break
		}
		e := b[i+1]
		i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b[i:])
			i += 4
			if ok && r >= 0xD800 && r < 0xDC00 && i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
				if lo, ok2 := hex4(b[i+2:]); ok2 && lo >= 0xDC00 && lo < 0xE000 {
					r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
					i += 6
				}
			}
			if !ok {
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			out = utf8.AppendRune(out, utf8.RuneError)
		}
	}
	return string(out)
}

// AppendString appends s as a JSON string (quotes included).
func AppendString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		out = append(out, s[run:i]...)
		run = i + 1
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		}
	}
	out = append(out, s[run:]...)
	return append(out, '"')
}

// writer is the buffer an ObjectWriter and its nested writers share.
type writer struct{ buf []byte }

// ObjectWriter builds a JSON object. Start one with NewObject; nested objects and arrays are
// written by the functions given to Obj and Arr.
type ObjectWriter struct {
	w     *writer
	first bool
}

// ArrayWriter builds a JSON array.
type ArrayWriter struct {
	w     *writer
	first bool
}

// NewObject starts a JSON object; Bytes finishes it.
func NewObject() *ObjectWriter {
	w := &writer{buf: make([]byte, 0, 128)}
	w.buf = append(w.buf, '{')
	return &ObjectWriter{w: w, first: true}
}

func (o *ObjectWriter) key(k string) {
	if !o.first {
		o.w.buf = append(o.w.buf, ',')
	}
	o.first = false
	o.w.buf = append(AppendString(o.w.buf, k), ':')
}

func (o *ObjectWriter) Str(k, v string) *ObjectWriter {
	o.key(k)
	o.w.buf = AppendString(o.w.buf, v)
	return o
}

func (o *ObjectWriter) Int(k string, v int64) *ObjectWriter {
	o.key(k)
	o.w.buf = strconv.AppendInt(o.w.buf, v, 10)
	return o
}

func (o *ObjectWriter) Bool(k string, v bool) *ObjectWriter {
	o.key(k)
	o.w.buf = strconv.AppendBool(o.w.buf, v)
	return o
}

func (o *ObjectWriter) Null(k string) *ObjectWriter {
	o.key(k)
	o.w.buf = append(o.w.buf, "null"...)
	return o
}

// Raw writes a member whose value is JSON text as is (nil or empty writes null).
func (o *ObjectWriter) Raw(k string, json []byte) *ObjectWriter {
	o.key(k)
	if len(json) == 0 {
		json = []byte("null")
	}
	o.w.buf = append(o.w.buf, json...)
	return o
}

func (o *ObjectWriter) Obj(k string, f func(*ObjectWriter)) *ObjectWriter {
	o.key(k)
	o.w.buf = append(o.w.buf, '{')
	f(&ObjectWriter{w: o.w, first: true})
	o.w.buf = append(o.w.buf, '}')
	return o
}

func (o *ObjectWriter) Arr(k string, f func(*ArrayWriter)) *ObjectWriter {
	o.key(k)
	o.w.buf = append(o.w.buf, '[')
	f(&ArrayWriter{w: o.w, first: true})
	o.w.buf = append(o.w.buf, ']')
	return o
}

// Bytes closes the object started by NewObject and returns its JSON text.
func (o *ObjectWriter) Bytes() []byte { return append(o.w.buf, '}') }

func (a *ArrayWriter) next() {
	if !a.first {
		a.w.buf = append(a.w.buf, ',')
	}
	a.first = false
}

func (a *ArrayWriter) Str(v string) *ArrayWriter {
	a.next()
	a.w.buf = AppendString(a.w.buf, v)
	return a
}

func (a *ArrayWriter) Int(v int64) *ArrayWriter {
	a.next()
	a.w.buf = strconv.AppendInt(a.w.buf, v, 10)
	return a
}

func (a *ArrayWriter) Raw(json []byte) *ArrayWriter {
	a.next()
	if len(json) == 0 {
		json = []byte("null")
	}
	a.w.buf = append(a.w.buf, json...)
	return a
}

func (a *ArrayWriter) Obj(f func(*ObjectWriter)) *ArrayWriter {
	a.next()
	a.w.buf = append(a.w.buf, '{')
	f(&ObjectWriter{w: a.w, first: true})
	a.w.buf = append(a.w.buf, '}')
	return a
}
