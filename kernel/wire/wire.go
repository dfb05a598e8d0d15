// Package wire implements the Jupyter messaging wire format (protocol 5.3):
// the multipart frames of a message, their HMAC signature and the
// connection file a front end writes for a kernel.
//
// A message on a ROUTER socket travels as
//
//	[identities...] "<IDS|MSG>" signature header parent_header metadata content [buffers...]
//
// where header, parent_header, metadata and content are JSON objects and the
// signature is the lowercase hex HMAC of those four frames, or empty when the
// session key is empty. See
// https://jupyter-client.readthedocs.io/en/latest/messaging.html#the-wire-protocol
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// ProtocolVersion is the version of the messaging protocol this package speaks.
const ProtocolVersion = "5.3"

// Delimiter separates the routing identities from the message proper.
const Delimiter = "<IDS|MSG>"

// Errors of Decode; each returned error wraps one of them.
var (
	ErrNoDelimiter = errors.New("wire: no <IDS|MSG> delimiter")
	ErrShort       = errors.New("wire: too few frames after the delimiter")
	ErrSignature   = errors.New("wire: missing or wrong signature")
	ErrJSON        = errors.New("wire: malformed JSON frame")
)

// Header is the header (and parent header) of a message.
type Header struct {
	MsgID    string `json:"msg_id"`
	Session  string `json:"session"`
	Username string `json:"username"`
	// Date is an ISO 8601 timestamp; kept as text so that a parent header
	// is echoed exactly as the front end wrote it.
	Date    string `json:"date"`
	MsgType string `json:"msg_type"`
	Version string `json:"version"`
}

// IsZero reports whether h is the empty header (a message with no parent).
func (h Header) IsZero() bool { return h == Header{} }

// Message is one Jupyter message.
type Message struct {
	// Identities are the ZeroMQ routing prefixes; a reply carries the
	// request's identities back.
	Identities [][]byte
	Header     Header
	// ParentHeader is the header of the request this message answers; the
	// zero Header encodes as {}.
	ParentHeader Header
	// Metadata encodes as {} when nil.
	Metadata map[string]any
	// Content is the message content, a JSON object; nil encodes as {}.
	Content json.RawMessage
	// Buffers are the extra binary frames after the content.
	Buffers [][]byte
}

// Type returns the message type of m (its header's msg_type).
func (m *Message) Type() string { return m.Header.MsgType }

// DecodeContent unmarshals m's content into v.
func (m *Message) DecodeContent(v any) error {
	if len(m.Content) == 0 {
		return json.Unmarshal([]byte("{}"), v)
	}
	if err := json.Unmarshal(m.Content, v); err != nil {
		return fmt.Errorf("%w: %s content: %v", ErrJSON, m.Header.MsgType, err)
	}
	return nil
}

// NewHeader returns a fresh header of the given type for the session, with a
// random msg_id, the current UTC time and the protocol version.
func NewHeader(msgType, session, username string) Header {
	return Header{
		MsgID:    uuid.NewString(),
		Session:  session,
		Username: username,
		Date:     time.Now().UTC().Format("2006-01-02T15:04:05.000000Z"),
		MsgType:  msgType,
		Version:  ProtocolVersion,
	}
}

// NewMessage returns a message of type msgType whose content is content
// marshalled to JSON (a json.RawMessage or []byte is taken as is). When
// parent is non-nil the message answers it: it carries parent's header as
// its parent header and parent's identities as its own.
func NewMessage(msgType, session, username string, parent *Message, content any) (*Message, error) {
	m := &Message{Header: NewHeader(msgType, session, username)}
	if parent != nil {
		m.ParentHeader = parent.Header
		m.Identities = parent.Identities
	}
	switch c := content.(type) {
	case nil:
		m.Content = json.RawMessage("{}")
	case json.RawMessage:
		m.Content = c
	case []byte:
		m.Content = json.RawMessage(c)
	default:
		b, err := json.Marshal(c)
		if err != nil {
			return nil, fmt.Errorf("wire: encoding %s content: %w", msgType, err)
		}
		m.Content = b
	}
	return m, nil
}

// Encode returns the frames of m, signed with s (nil means no signing).
func Encode(m *Message, s *Signer) ([][]byte, error) {
	header, err := json.Marshal(m.Header)
	if err != nil {
		return nil, fmt.Errorf("wire: encoding header: %w", err)
	}
	parent := []byte("{}")
	if !m.ParentHeader.IsZero() {
		if parent, err = json.Marshal(m.ParentHeader); err != nil {
			return nil, fmt.Errorf("wire: encoding parent header: %w", err)
		}
	}
	metadata := []byte("{}")
	if len(m.Metadata) > 0 {
		if metadata, err = json.Marshal(m.Metadata); err != nil {
			return nil, fmt.Errorf("wire: encoding metadata: %w", err)
		}
	}
	content := []byte(m.Content)
	if len(content) == 0 {
		content = []byte("{}")
	}
	frames := make([][]byte, 0, len(m.Identities)+6+len(m.Buffers))
	frames = append(frames, m.Identities...)
	frames = append(frames, []byte(Delimiter), s.Sign(header, parent, metadata, content), header, parent, metadata, content)
	frames = append(frames, m.Buffers...)
	return frames, nil
}

// Decode parses the frames of one message and verifies its signature with s
// (nil, or a Signer with an empty key, accepts any signature). It returns an
// error wrapping ErrNoDelimiter, ErrShort, ErrSignature or ErrJSON for a
// malformed message; it never panics.
func Decode(frames [][]byte, s *Signer) (*Message, error) {
	i := 0
	for i < len(frames) && !bytes.Equal(frames[i], []byte(Delimiter)) {
		i++
	}
	if i == len(frames) {
		return nil, fmt.Errorf("%w (%d frames)", ErrNoDelimiter, len(frames))
	}
	rest := frames[i+1:]
	if len(rest) < 5 {
		return nil, fmt.Errorf("%w: %d, want at least 5", ErrShort, len(rest))
	}
	sig, header, parent, metadata, content := rest[0], rest[1], rest[2], rest[3], rest[4]
	if !s.Verify(sig, header, parent, metadata, content) {
		return nil, fmt.Errorf("%w (%d signature bytes)", ErrSignature, len(sig))
	}
	m := &Message{}
	if i > 0 {
		m.Identities = make([][]byte, i)
		copy(m.Identities, frames[:i])
	}
	if err := unmarshalObject(header, &m.Header); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrJSON, err)
	}
	if m.Header.MsgType == "" {
		return nil, fmt.Errorf("%w: header has no msg_type", ErrJSON)
	}
	if err := unmarshalObject(parent, &m.ParentHeader); err != nil {
		return nil, fmt.Errorf("%w: parent_header: %v", ErrJSON, err)
	}
	if err := unmarshalObject(metadata, &m.Metadata); err != nil {
		return nil, fmt.Errorf("%w: metadata: %v", ErrJSON, err)
	}
	if err := validObject(content); err != nil {
		return nil, fmt.Errorf("%w: content: %v", ErrJSON, err)
	}
	m.Content = append(json.RawMessage(nil), content...)
	if len(rest) > 5 {
		m.Buffers = make([][]byte, len(rest)-5)
		copy(m.Buffers, rest[5:])
	}
	return m, nil
}

// unmarshalObject decodes a JSON object (and only an object) into v.
func unmarshalObject(b []byte, v any) error {
	if !isObject(b) {
		return errNotObject
	}
	return json.Unmarshal(b, v)
}

// validObject checks that b is one JSON object, without decoding it (the
// content is decoded once, by the handler that knows its type).
func validObject(b []byte) error {
	if !isObject(b) {
		return errNotObject
	}
	if !json.Valid(b) {
		return errors.New("invalid JSON")
	}
	return nil
}

var errNotObject = errors.New("not a JSON object")

// isObject reports whether b's first token opens an object.
func isObject(b []byte) bool {
	t := bytes.TrimLeft(b, " \t\r\n")
	return len(t) > 0 && t[0] == '{'
}
