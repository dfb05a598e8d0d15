package kernel

import (
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/unetlab/unetlab/display"
	"github.com/unetlab/unetlab/kernel/cell"
	"github.com/unetlab/unetlab/kernel/wire"
	"github.com/unetlab/unetlab/kernel/worker/proto"
)

// cellRun is the state of the executing cell shared with the control
// goroutine (interrupts) and the stdin router.
type cellRun struct {
	p          Interpreter
	req        *wire.Message
	interrupts int  // guarded by Kernel.mu
	killed     bool // second interrupt: the interpreter was closed
	done       chan struct{}
	stop       chan struct{} // closed by the first interrupt
	stopOnce   sync.Once
}

func (k *Kernel) handleExecute(ch *channel, req *wire.Message) {
	var c executeRequest
	if !k.decode(ch, req, &c) {
		return
	}
	storeHistory := orTrue(c.StoreHistory) && !c.Silent
	if storeHistory {
		k.count++
	}
	count := k.count
	if !c.Silent {
		k.publish(req, "execute_input", wire.ExecuteInput{Code: c.Code, ExecutionCount: count})
	}
	if notice := k.sup.takeNotice(); notice != "" && !c.Silent {
		k.reportDeath(req, notice)
	}

	p, err := k.sup.get(k.ctx)
	if err != nil {
		k.executeError(ch, req, c, count, "InterpreterUnavailable", err.Error())
		return
	}
	run := &cellRun{p: p, req: req, done: make(chan struct{}), stop: make(chan struct{})}
	k.mu.Lock()
	k.running = run
	if !c.Silent {
		k.lastCell = req
	}
	k.mu.Unlock()
	res, err := p.Execute(k.ctx, proto.ExecuteRequest{
		Code:            c.Code,
		Silent:          c.Silent,
		StoreHistory:    storeHistory,
		AllowStdin:      orTrue(c.AllowStdin),
		UserExpressions: c.UserExpressions,
		ExecutionCount:  count,
	}, func(ev proto.Event) { k.onEvent(run, c, ev) })
	k.mu.Lock()
	killed := run.killed
	k.mu.Unlock()
	// A death this request reports is claimed (sup.crashed) while it still
	// counts as running, so that the supervisor's watch, seeing p exit,
	// does not report it a second time as an idle death.
	crashed := err != nil && (killed || errors.Is(err, proto.ErrCrashed) || exited(p))
	if crashed {
		k.sup.crashed(p)
	}
	k.mu.Lock()
	k.running = nil
	k.mu.Unlock()
	close(run.done)

	if err != nil {
		if killed {
			k.forgetComms(req)
			k.executeError(ch, req, c, count, "KernelRestarted",
				"the cell was still running after a second interrupt, so the interpreter was restarted; "+
					"its state was reset (variables, functions and imports are gone)")
			return
		}
		if crashed {
			k.forgetComms(req)
			k.executeError(ch, req, c, count, "InterpreterCrashed",
				"the interpreter crashed and its state was reset (variables, functions and imports are gone); "+
					"a fresh interpreter has started.\n"+err.Error())
		} else {
			k.executeError(ch, req, c, count, "InterpreterError", err.Error())
		}
		return
	}

	if len(res.Reset) > 0 && !c.Silent {
		k.publish(req, "stream", wire.Stream{Name: "stderr", Text: resetLine(res.Reset)})
	}
	output := ""
	if res.Result != nil && !c.Silent {
		data := mimeBundle(res.Result)
		output, _ = data[display.MIMEText].(string)
		k.publish(req, "execute_result", wire.ExecuteResult{
			ExecutionCount: count, Data: data, Metadata: map[string]any{}})
	}
	if storeHistory {
		if persist := k.hist.record(count, c.Code, output); persist != nil {
			k.afterIdle = append(k.afterIdle, persist)
		}
	}
	userExpr := res.UserExpressions
	if userExpr == nil {
		userExpr = map[string]wire.UserExpression{}
	}
	switch res.Status {
	case "error":
		tb := res.Traceback
		if tb == nil {
			tb = []string{res.EName + ": " + res.EValue}
		}
		if !c.Silent {
			k.publish(req, "error", wire.Error{EName: res.EName, EValue: res.EValue, Traceback: tb})
		}
		k.reply(ch, req, "execute_reply", wire.ExecuteErrorReply{
			Status: wire.StatusError, ExecutionCount: count,
			Error:           wire.Error{EName: res.EName, EValue: res.EValue, Traceback: tb},
			UserExpressions: userExpr})
		if orTrue(c.StopOnError) {
			k.abortQueued()
		}
	case "aborted":
		k.reply(ch, req, "execute_reply", wire.ExecuteAbortedReply{Status: wire.StatusAborted, ExecutionCount: count})
	default:
		k.reply(ch, req, "execute_reply", wire.ExecuteReply{
			Status: wire.StatusOK, ExecutionCount: count, UserExpressions: userExpr, Payload: []any{}})
	}
}

// executeError ends a cell that failed outside the interpreter (it could
// not start, crashed, or was restarted): an iopub error and an error reply.
func (k *Kernel) executeError(ch *channel, req *wire.Message, c executeRequest, count int, ename, evalue string) {
	tb := append([]string{ename + ":"}, strings.Split(evalue, "\n")...)
	if !c.Silent {
		k.publish(req, "error", wire.Error{EName: ename, EValue: evalue, Traceback: tb})
	}
	k.reply(ch, req, "execute_reply", wire.ExecuteErrorReply{
		Status: wire.StatusError, ExecutionCount: count,
		Error:           wire.Error{EName: ename, EValue: evalue, Traceback: tb},
		UserExpressions: map[string]wire.UserExpression{}})
	if orTrue(c.StopOnError) {
		k.abortQueued()
	}
}

// abortQueued answers every execute_request already queued on shell with
// status "aborted" (the other queued requests are served as usual).
func (k *Kernel) abortQueued() {
	for {
		select {
		case m := <-k.shellQ:
			if m.Header.MsgType != "execute_request" {
				k.handle(k.socks.shell, m)
				continue
			}
			k.publish(m, "status", wire.Status{ExecutionState: "busy"})
			k.reply(k.socks.shell, m, "execute_reply", wire.ExecuteAbortedReply{Status: wire.StatusAborted, ExecutionCount: k.count})
			k.publish(m, "status", wire.Status{ExecutionState: "idle"})
		default:
			return
		}
	}
}

func resetLine(names []string) string {
	names = append([]string(nil), names...)
	sort.Strings(names)
	return fmt.Sprintf("unetlab: a redefinition rebuilt the interpreter; these variables were reset to their zero values: %s\n",
		strings.Join(names, ", "))
}

// onEvent relays one event of the running cell.
func (k *Kernel) onEvent(run *cellRun, c executeRequest, ev proto.Event) {
	if ev.Input != nil {
		if !orTrue(c.AllowStdin) {
			run.p.Input("", cell.ErrStdinNotAllowed)
			return
		}
		k.requestInput(run, ev.Input)
		return
	}
	k.relay(run.req, c.Silent, ev)
}

// errNoCellForInput answers a read of standard input outside a cell.
var errNoCellForInput = errors.New("kernel: no cell is running to read standard input")

// reportIdleDeath tells the front end, under the latest non-silent cell,
// that the interpreter p died while no request ran (a goroutine's panic
// after its cell ended, say), and closes the dead interpreter's comms,
// without waiting for the next cell. A death while a request used p is
// that request's to report (a cell's error; for a comm handler, the next
// cell's notice), so it stays silent then; and before any cell ran: the
// next cell reports it then.
func (k *Kernel) reportIdleDeath(p Interpreter) {
	k.mu.Lock()
	parent, busy := k.lastCell, k.running != nil && k.running.p == p
	k.mu.Unlock()
	if parent == nil || busy {
		return
	}
	if notice := k.sup.takeNotice(); notice != "" {
		k.reportDeath(parent, notice)
	}
}

// reportDeath tells the front end, under parent, of an interpreter death
// no request reported (notice says when it happened), and closes the dead
// interpreter's comms.
func (k *Kernel) reportDeath(parent *wire.Message, notice string) {
	k.publish(parent, "stream", wire.Stream{Name: "stderr",
		Text: "unetlab: " + notice + "; its state was reset (variables, functions and imports are gone).\n"})
	k.forgetComms(parent)
}

// onIdle relays what p emits while it serves no request: output of
// goroutines that outlived their cell goes to the latest non-silent cell
// (see the package doc).
func (k *Kernel) onIdle(p Interpreter, ev proto.Event) {
	if ev.Input != nil {
		p.Input("", errNoCellForInput)
		return
	}
	k.mu.Lock()
	parent := k.lastCell
	k.mu.Unlock()
	k.relay(parent, false, ev)
}

// relay publishes an output or comm event with parent as parent header;
// silent drops output but not comm messages.
func (k *Kernel) relay(parent *wire.Message, silent bool, ev proto.Event) {
	switch {
	case ev.Stream != nil:
		if !silent {
			k.publish(parent, "stream", wire.Stream{Name: ev.Stream.Name, Text: ev.Stream.Text})
		}
	case ev.Display != nil:
		if silent {
			return
		}
		d := ev.Display
		md := d.Metadata
		if md == nil {
			md = map[string]any{}
		}
		content := wire.DisplayData{Data: mimeBundle(d.Data), Metadata: md, Transient: wire.Transient{DisplayID: d.DisplayID}}
		typ := "display_data"
		if d.Update {
			typ = "update_display_data"
		}
		k.publish(parent, typ, content)
	case ev.Clear != nil:
		if !silent {
			k.publish(parent, "clear_output", wire.ClearOutput{Wait: ev.Clear.Wait})
		}
	case ev.Comm != nil:
		k.comms.track(ev.Comm.Type, ev.Comm.Content)
		k.publishWith(parent, ev.Comm.Type, ev.Comm.Content, ev.Comm.Metadata, ev.Comm.Buffers)
	}
}

// requestInput sends input_request on the stdin socket and answers the
// interpreter when the input_reply comes (or the cell is interrupted).
func (k *Kernel) requestInput(run *cellRun, in *proto.InputEvent) {
	m, err := wire.NewMessage("input_request", k.session, username, run.req,
		wire.InputRequest{Prompt: in.Prompt, Password: in.Password})
	if err != nil {
		run.p.Input("", err)
		return
	}
	// Drop stale replies to earlier requests.
	for len(k.inputs) > 0 {
		<-k.inputs
	}
	// Sending can block (a front end that allowed stdin but never
	// connected its stdin socket), so it happens off the event loop too.
	sent := make(chan error, 1)
	go func() { sent <- k.send(k.socks.stdin, m) }()
	go func() {
		select {
		case err := <-sent:
			if err != nil {
				run.p.Input("", fmt.Errorf("kernel: sending input_request: %w", err))
				return
			}
		case <-run.stop:
			run.p.Input("", cell.ErrInputInterrupted)
			return
		case <-run.done:
			return
		}
		for {
			select {
			case r := <-k.inputs:
				if r.ParentHeader.MsgID != "" && r.ParentHeader.MsgID != m.Header.MsgID {
					k.log.Warn("input_reply for another request dropped", "parent", r.ParentHeader.MsgID)
					continue
				}
				var c inputReply
				if err := r.DecodeContent(&c); err != nil {
					run.p.Input("", err)
					return
				}
				run.p.Input(c.Value, nil)
				return
			case <-run.stop:
				run.p.Input("", cell.ErrInputInterrupted)
				return
			case <-run.done:
				return
			case <-k.ctx.Done():
				return
			}
		}
	}()
}

// deliverInput routes a message from the stdin socket.
func (k *Kernel) deliverInput(m *wire.Message) {
	if m.Header.MsgType != "input_reply" {
		k.log.Warn("unexpected message on the stdin socket", "msg_type", m.Header.MsgType)
		return
	}
	select {
	case k.inputs <- m:
	default:
		k.log.Warn("input_reply dropped: nobody asked for input")
	}
}

// handleInterrupt serves interrupt_request.
func (k *Kernel) handleInterrupt(ch *channel, req *wire.Message) {
	k.Interrupt()
	k.reply(ch, req, "interrupt_reply", wire.InterruptReply{Status: wire.StatusOK})
}

// Interrupt interrupts the running cell as an interrupt_request does: the
// first interrupt of a cell cancels its context (and a pending input
// request), a second one while the cell still runs restarts the
// interpreter.
func (k *Kernel) Interrupt() {
	k.mu.Lock()
	run := k.running
	n := 0
	if run != nil {
		run.interrupts++
		n = run.interrupts
		if n >= 2 {
			run.killed = true
		}
	}
	k.mu.Unlock()
	switch {
	case run == nil:
		if p := k.sup.current(); p != nil {
			p.Interrupt() // nothing runs; harmless, but stops stray work
		}
	case n == 1:
		run.stopOnce.Do(func() { close(run.stop) })
		if err := run.p.Interrupt(); err != nil {
			k.log.Warn("interrupting the cell", "err", err)
		}
	default:
		k.log.Warn("second interrupt: restarting the interpreter")
		k.sup.kill(run.p)
	}
}

// mimeBundle turns a display bundle into the data of a Jupyter message:
// []byte entries (binary images) become base64 text, and text/plain is added
// when missing.
func mimeBundle(b display.Bundle) map[string]any {
	out := make(map[string]any, len(b)+1)
	for mime, v := range b {
		if raw, ok := v.([]byte); ok {
			if strings.HasPrefix(mime, "text/") || mime == display.MIMESVG {
				v = string(raw)
			} else {
				v = base64.StdEncoding.EncodeToString(raw)
			}
		}
		out[mime] = v
	}
	if _, ok := out[display.MIMEText]; !ok {
		out[display.MIMEText] = b.Text()
	}
	return out
}

// exited reports whether p has exited. (A request whose pipe to p broke
// waits for p's exit before it returns, so a failed request of a dying p
// finds it exited.)
func exited(p Interpreter) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}
