package host

import (
	"os"
	"testing"

	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// Cells see the real process environment (UNETLAB_SCALE, UNETLAB_DATA, HOME)
// and what they set is seen by compiled library code, which reads os.Getenv
// directly.
func TestCellEnvironment(t *testing.T) {
	t.Setenv("UNETLAB_TEST_ENV", "from-parent")
	p := startWorker(t)
	res, _, err := run(t, p, proto.ExecuteRequest{Code: `os.Getenv("UNETLAB_TEST_ENV") + "," + os.Getenv("HOME")`})
	if err != nil || res.Status != "ok" {
		t.Fatalf("Getenv: %+v, %v", res, err)
	}
	want := `"from-parent,` + os.Getenv("HOME") + `"`
	if got := res.Result["text/plain"]; got != want {
		t.Errorf("cell sees %v, want %s", got, want)
	}
	// Setenv in a cell changes the worker's real environment: exec.Command
	// (compiled code) inherits it.
	res, _, err = run(t, p, proto.ExecuteRequest{Code: "os.Setenv(\"UNETLAB_TEST_SET\", \"42\")\nout, _ := exec.Command(\"sh\", \"-c\", \"echo $UNETLAB_TEST_SET\").Output()\nstrings.TrimSpace(string(out))"})
	if err != nil || res.Status != "ok" {
		t.Fatalf("Setenv: %+v, %v", res, err)
	}
	if got := res.Result["text/plain"]; got != `"42"` {
		t.Errorf("compiled code sees %v after the cell's Setenv, want \"42\"", got)
	}
}
