package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// ErrConnection is wrapped by every error about a connection file.
var ErrConnection = errors.New("wire: invalid connection file")

// ConnectionInfo is the content of the connection file a Jupyter front end
// writes when it launches a kernel.
type ConnectionInfo struct {
	Transport       string `json:"transport"` // "tcp" or "ipc"
	IP              string `json:"ip"`        // tcp: address; ipc: path prefix
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	IOPubPort       int    `json:"iopub_port"`
	StdinPort       int    `json:"stdin_port"`
	HBPort          int    `json:"hb_port"`
	Key             string `json:"key"`              // HMAC key; "" disables signing
	SignatureScheme string `json:"signature_scheme"` // e.g. "hmac-sha256"
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and validates the connection file at path.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("%w: %w", ErrConnection, err)
	}
	c, err := ParseConnection(b)
	if err != nil {
		return ConnectionInfo{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConnection parses and validates the JSON of a connection file.
// A missing transport means tcp and a missing signature_scheme hmac-sha256.
func ParseConnection(data []byte) (ConnectionInfo, error) {
	var c ConnectionInfo
	if err := unmarshalObject(data, &c); err != nil {
		return ConnectionInfo{}, fmt.Errorf("%w: %v", ErrConnection, err)
	}
	if c.Transport == "" {
		c.Transport = "tcp"
	}
	if c.SignatureScheme == "" {
		c.SignatureScheme = "hmac-sha256"
	}
	if err := c.Validate(); err != nil {
		return ConnectionInfo{}, err
	}
	return c, nil
}

// Validate checks the transport, address, ports and signature scheme.
// Ports must be set (1 to 65535); see Endpoint for port 0.
func (c ConnectionInfo) Validate() error {
	if c.Transport != "tcp" && c.Transport != "ipc" {
		return fmt.Errorf("%w: transport %q, want \"tcp\" or \"ipc\"", ErrConnection, c.Transport)
	}
	if c.IP == "" {
		return fmt.Errorf("%w: \"ip\" is empty (for ipc it is the socket path prefix)", ErrConnection)
	}
	for _, p := range c.ports() {
		if p.port <= 0 || p.port > 65535 {
			return fmt.Errorf("%w: %s %d, want 1 to 65535", ErrConnection, p.name, p.port)
		}
	}
	if _, err := NewSigner(c.SignatureScheme, c.Key); err != nil {
		return fmt.Errorf("%w: signature_scheme: %w", ErrConnection, err)
	}
	return nil
}

type namedPort struct {
	name string
	port int
}

func (c ConnectionInfo) ports() []namedPort {
	return []namedPort{
		{"shell_port", c.ShellPort}, {"control_port", c.ControlPort}, {"iopub_port", c.IOPubPort},
		{"stdin_port", c.StdinPort}, {"hb_port", c.HBPort},
	}
}

// Endpoint returns the ZeroMQ endpoint for port: "tcp://IP:PORT", or
// "ipc://IP-PORT" as jupyter_client names ipc sockets. For tcp, port 0 asks
// the system for a free port when binding.
func (c ConnectionInfo) Endpoint(port int) string {
	if c.Transport == "ipc" {
		return "ipc://" + c.IP + "-" + strconv.Itoa(port)
	}
	host := c.IP
	if host == "*" {
		host = "0.0.0.0"
	}
	return "tcp://" + joinHostPort(host, port)
}

func joinHostPort(host string, port int) string {
	for _, r := range host {
		if r == ':' { // IPv6 literal
			return "[" + host + "]:" + strconv.Itoa(port)
		}
	}
	return host + ":" + strconv.Itoa(port)
}

// Signer returns the Signer the connection's key and scheme describe.
func (c ConnectionInfo) Signer() (*Signer, error) {
	return NewSigner(c.SignatureScheme, c.Key)
}

// MarshalIndent returns c as the JSON of a connection file.
func (c ConnectionInfo) MarshalIndent() ([]byte, error) {
	return json.MarshalIndent(c, "", "  ")
}
