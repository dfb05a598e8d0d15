package wire

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseConnection(t *testing.T) {
	tcp := `{"shell_port":5001,"iopub_port":5002,"stdin_port":5003,"control_port":5004,"hb_port":5005,
		"ip":"127.0.0.1","key":"k","transport":"tcp","signature_scheme":"hmac-sha256","kernel_name":"go"}`
	c, err := ParseConnection([]byte(tcp))
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint(c.ShellPort) != "tcp://127.0.0.1:5001" || c.Endpoint(c.HBPort) != "tcp://127.0.0.1:5005" {
		t.Errorf("endpoints %s %s", c.Endpoint(c.ShellPort), c.Endpoint(c.HBPort))
	}
	ipc := `{"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5,
		"ip":"/tmp/kernel-x-ipc","key":"","transport":"ipc","signature_scheme":"hmac-sha256"}`
	c, err = ParseConnection([]byte(ipc))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Endpoint(c.IOPubPort); got != "ipc:///tmp/kernel-x-ipc-2" {
		t.Errorf("ipc endpoint %s", got)
	}
	c, err = ParseConnection([]byte(`{"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5,"ip":"::1"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport != "tcp" || c.SignatureScheme != "hmac-sha256" || c.Endpoint(9) != "tcp://[::1]:9" {
		t.Errorf("defaults: %+v %s", c, c.Endpoint(9))
	}
}

func TestParseConnectionErrors(t *testing.T) {
	base := `"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5,"ip":"127.0.0.1"`
	tests := []struct{ name, json, mention string }{
		{"not json", `{`, "invalid connection"},
		{"array", `[]`, "JSON object"},
		{"transport", `{` + base + `,"transport":"udp"}`, `transport "udp"`},
		{"no ip", `{"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"hb_port":5}`, `"ip" is empty`},
		{"no hb", `{"shell_port":1,"iopub_port":2,"stdin_port":3,"control_port":4,"ip":"x"}`, "hb_port 0"},
		{"big port", `{` + strings.Replace(base, `"shell_port":1`, `"shell_port":70000`, 1) + `}`, "shell_port 70000"},
		{"port string", `{` + strings.Replace(base, `"shell_port":1`, `"shell_port":"1"`, 1) + `}`, "shell_port"},
		{"scheme", `{` + base + `,"signature_scheme":"hmac-foo"}`, "hmac-foo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConnection([]byte(tt.json))
			if !errors.Is(err, ErrConnection) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %v, want ErrConnection mentioning %q", err, tt.mention)
			}
		})
	}
}

func TestReadConnectionFile(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadConnectionFile(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, ErrConnection) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(dir, "bad.json")
	os.WriteFile(p, []byte(`{"ip":"x"}`), 0o600)
	if _, err := ReadConnectionFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("bad file error %v does not name the file", err)
	}
	c := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: 1, ControlPort: 2, IOPubPort: 3,
		StdinPort: 4, HBPort: 5, Key: "k", SignatureScheme: "hmac-sha256"}
	b, _ := c.MarshalIndent()
	os.WriteFile(p, b, 0o600)
	got, err := ReadConnectionFile(p)
	if err != nil || got != c {
		t.Errorf("round trip %+v, %v", got, err)
	}
}
