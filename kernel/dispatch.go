package kernel

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/unetlab/unetlab/kernel/wire"
	"github.com/unetlab/unetlab/kernel/worker/proto"
)

const username = "kernel"

// handle serves one request from ch (shell or control) between a busy and
// an idle status on iopub. On shell, the work a handler left for after the
// idle status (k.afterIdle) runs once the idle is out.
func (k *Kernel) handle(ch *channel, req *wire.Message) {
	k.publish(req, "status", wire.Status{ExecutionState: "busy"})
	defer k.finish(ch, req)
	typ := req.Header.MsgType
	switch {
	case typ == "kernel_info_request":
		k.reply(ch, req, "kernel_info_reply", kernelInfo())
	case typ == "shutdown_request":
		k.handleShutdown(ch, req)
	case typ == "interrupt_request":
		k.handleInterrupt(ch, req)
	case ch == k.socks.control:
		k.log.Warn("unsupported request on the control socket", "msg_type", typ)
	case typ == "execute_request":
		k.handleExecute(ch, req)
	case typ == "complete_request":
		k.handleComplete(ch, req)
	case typ == "inspect_request":
		k.handleInspect(ch, req)
	case typ == "is_complete_request":
		k.handleIsComplete(ch, req)
	case typ == "history_request":
		k.handleHistory(ch, req)
	case typ == "comm_info_request":
		k.handleCommInfo(ch, req)
	case typ == "comm_open", typ == "comm_msg", typ == "comm_close":
		k.handleComm(req)
	default:
		k.log.Warn("unsupported request on the shell socket", "msg_type", typ)
	}
}

// finish publishes req's idle status; on shell it then runs the work left
// in k.afterIdle, in order.
func (k *Kernel) finish(ch *channel, req *wire.Message) {
	k.publish(req, "status", wire.Status{ExecutionState: "idle"})
	if ch != k.socks.shell {
		return
	}
	for len(k.afterIdle) > 0 {
		f := k.afterIdle[0]
		k.afterIdle = k.afterIdle[1:]
		f()
	}
	k.afterIdle = nil
}

// reply sends the answer to req on the socket req came in on.
func (k *Kernel) reply(ch *channel, req *wire.Message, msgType string, content any) {
	m, err := wire.NewMessage(msgType, k.session, username, req, content)
	if err != nil {
		k.log.Error("encoding a reply", "msg_type", msgType, "err", err)
		return
	}
	if err := k.send(ch, m); err != nil && k.ctx.Err() == nil {
		k.log.Error("sending a reply", "err", err)
	}
}

// replyError answers req with status "error".
func (k *Kernel) replyError(ch *channel, req *wire.Message, ename, evalue string) {
	msgType := strings.TrimSuffix(req.Header.MsgType, "_request") + "_reply"
	k.reply(ch, req, msgType, wire.ErrorReply{Status: wire.StatusError,
		Error: wire.Error{EName: ename, EValue: evalue, Traceback: []string{ename + ": " + evalue}}})
}

// publish sends a message on iopub; parent may be nil.
func (k *Kernel) publish(parent *wire.Message, msgType string, content any) {
	k.publishWith(parent, msgType, content, nil, nil)
}

// publishWith is publish with the message's metadata and binary buffers
// (comm messages of the widget protocol carry both).
func (k *Kernel) publishWith(parent *wire.Message, msgType string, content any, metadata map[string]any, buffers [][]byte) {
	m, err := wire.NewMessage(msgType, k.session, username, nil, content)
	if err != nil {
		k.log.Error("encoding an iopub message", "msg_type", msgType, "err", err)
		return
	}
	m.Metadata = metadata
	m.Buffers = buffers
	if parent != nil {
		m.ParentHeader = parent.Header
	}
	m.Identities = [][]byte{[]byte("kernel." + k.session + "." + msgType)}
	if err := k.send(k.socks.iopub, m); err != nil && k.ctx.Err() == nil {
		k.log.Error("publishing", "err", err)
	}
}

// decode unmarshals req's content into v, answering req with an error
// reply when the content does not fit.
func (k *Kernel) decode(ch *channel, req *wire.Message, v any) bool {
	if err := req.DecodeContent(v); err != nil {
		k.log.Warn("bad request content", "msg_type", req.Header.MsgType, "err", err)
		k.replyError(ch, req, "BadRequest", err.Error())
		return false
	}
	return true
}

func (k *Kernel) handleShutdown(ch *channel, req *wire.Message) {
	var c shutdownRequest
	if !k.decode(ch, req, &c) {
		return
	}
	content := wire.ShutdownReply{Status: wire.StatusOK, Restart: c.Restart}
	k.reply(ch, req, "shutdown_reply", content)
	k.publish(req, "shutdown_reply", content)
	// The process exits in both cases: with restart, the kernel manager
	// starts a fresh kernel once this one is gone (jupyter_client waits for
	// the exit and would kill a kernel that stayed).
	k.log.Debug("shutdown requested", "restart", c.Restart)
	go k.Shutdown()
}

func (k *Kernel) handleComplete(ch *channel, req *wire.Message) {
	var c completeRequest
	if !k.decode(ch, req, &c) {
		return
	}
	p, err := k.sup.get(k.ctx)
	if err != nil {
		k.replyError(ch, req, "InterpreterUnavailable", err.Error())
		return
	}
	r, err := p.Complete(k.ctx, c.Code, c.CursorPos)
	if err != nil {
		k.workerFailed(req, p, err)
		k.replyError(ch, req, "CompletionFailed", err.Error())
		return
	}
	matches := r.Matches
	if matches == nil {
		matches = []string{}
	}
	k.reply(ch, req, "complete_reply", wire.CompleteReply{
		Status: wire.StatusOK, Matches: matches, CursorStart: r.CursorStart, CursorEnd: r.CursorEnd,
		Metadata: wire.CompleteMetadata{Types: r.Types},
	})
}

func (k *Kernel) handleInspect(ch *channel, req *wire.Message) {
	var c inspectRequest
	if !k.decode(ch, req, &c) {
		return
	}
	p, err := k.sup.get(k.ctx)
	if err != nil {
		k.replyError(ch, req, "InterpreterUnavailable", err.Error())
		return
	}
	r, err := p.Inspect(k.ctx, c.Code, c.CursorPos, c.DetailLevel)
	if err != nil {
		k.workerFailed(req, p, err)
		k.replyError(ch, req, "InspectionFailed", err.Error())
		return
	}
	data := map[string]any{}
	if r.Found {
		data = mimeBundle(r.Data)
	}
	k.reply(ch, req, "inspect_reply", wire.InspectReply{
		Status: wire.StatusOK, Found: r.Found, Data: data, Metadata: map[string]any{},
	})
}

func (k *Kernel) handleIsComplete(ch *channel, req *wire.Message) {
	var c isCompleteRequest
	if !k.decode(ch, req, &c) {
		return
	}
	p, err := k.sup.get(k.ctx)
	if err != nil {
		k.reply(ch, req, "is_complete_reply", wire.IsCompleteReply{Status: "unknown"})
		return
	}
	r, err := p.IsComplete(k.ctx, c.Code)
	if err != nil {
		k.workerFailed(req, p, err)
		k.reply(ch, req, "is_complete_reply", wire.IsCompleteReply{Status: "unknown"})
		return
	}
	content := wire.IsCompleteReply{Status: r.Status}
	if r.Status == "incomplete" {
		content.Indent = &r.Indent
	}
	k.reply(ch, req, "is_complete_reply", content)
}

func (k *Kernel) handleHistory(ch *channel, req *wire.Message) {
	var c historyRequest
	if !k.decode(ch, req, &c) {
		return
	}
	h, err := k.hist.query(c)
	if err != nil {
		k.replyError(ch, req, "BadRequest", err.Error())
		return
	}
	k.reply(ch, req, "history_reply", wire.HistoryReply{Status: wire.StatusOK, History: h})
}

func (k *Kernel) handleCommInfo(ch *channel, req *wire.Message) {
	var c commInfoRequest
	if !k.decode(ch, req, &c) {
		return
	}
	k.reply(ch, req, "comm_info_reply", wire.CommInfoReply{Status: wire.StatusOK, Comms: k.comms.info(c.TargetName)})
}

// handleComm forwards a front end's comm message to the interpreter and
// waits for the handler a cell registered (package comm) to return; what
// it sends and prints goes out with the message as parent. A comm_open the
// interpreter refuses is answered with a comm_close (the worker answers
// one for an unknown target itself); messages for unknown comms are
// dropped. An interrupt stops the wait; the handler runs on and what it
// emits later goes out as idle output (see onIdle).
func (k *Kernel) handleComm(req *wire.Message) {
	typ := req.Header.MsgType
	var content map[string]any
	if err := req.DecodeContent(&content); err != nil {
		k.log.Warn("bad comm message", "msg_type", typ, "err", err)
		return
	}
	id, _ := content["comm_id"].(string)
	if id == "" {
		k.log.Warn("comm message without comm_id", "msg_type", typ)
		return
	}
	if typ != "comm_open" && !k.comms.has(id) {
		k.log.Warn("message for an unknown comm dropped", "msg_type", typ, "comm_id", id)
		return
	}
	p, err := k.sup.get(k.ctx)
	if err == nil {
		// Tracked first: the handler's own comm_close for it comes after.
		k.comms.track(typ, content)
		err = k.serveComm(req, p, typ, content)
	}
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled) && k.ctx.Err() == nil:
		k.log.Info("interrupted: stopped waiting for the comm handler; it runs on", "msg_type", typ, "comm_id", id)
	case errors.Is(err, proto.ErrCrashed):
		// serveComm closed the comms and left word for the next cell.
	case typ == "comm_open":
		target, _ := content["target_name"].(string)
		k.log.Warn("comm_open refused", "target_name", target, "err", err)
		k.comms.remove(id)
		k.publish(req, "comm_close", wire.CommClose{CommID: id,
			Data: map[string]any{"error": fmt.Sprintf("comm target %q: %v", target, err)}})
	default:
		k.log.Warn("forwarding a comm message", "msg_type", typ, "err", err)
		if typ == "comm_close" {
			k.comms.remove(id)
		}
	}
}

// serveComm runs the handler of a comm message as a cell runs: an
// interrupt_request stops the wait, a second one restarts the interpreter.
func (k *Kernel) serveComm(req *wire.Message, p Interpreter, typ string, content map[string]any) error {
	ctx, cancel := context.WithCancel(k.ctx)
	defer cancel()
	run := &cellRun{p: p, req: req, done: make(chan struct{}), stop: make(chan struct{})}
	k.mu.Lock()
	k.running = run
	k.mu.Unlock()
	go func() {
		select {
		case <-run.stop:
			cancel()
		case <-run.done:
		}
	}()
	err := p.Comm(ctx, typ, content, req.Buffers, func(ev proto.Event) {
		if ev.Input != nil {
			p.Input("", fmt.Errorf("%w (a comm handler asked)", errNoCellForInput))
			return
		}
		k.relay(req, false, ev)
	})
	k.mu.Lock()
	killed := run.killed
	k.mu.Unlock()
	// The death is claimed (sup.died) while the handler still counts as
	// running, so that the supervisor's watch does not report it as an
	// idle death too (see execute).
	dead := err != nil && (killed || errors.Is(err, proto.ErrCrashed) || !errors.Is(err, context.Canceled) && exited(p))
	text := "the interpreter process died in a comm handler"
	if killed {
		text = "a second interrupt restarted the interpreter while a comm handler ran"
	}
	if dead {
		k.sup.died(p, text)
	}
	k.mu.Lock()
	k.running = nil
	k.mu.Unlock()
	close(run.done)
	if dead {
		k.log.Warn(text+"; starting a fresh one", "msg_type", typ, "err", err)
		k.forgetComms(req)
		if !errors.Is(err, proto.ErrCrashed) {
			err = fmt.Errorf("%w: %w", proto.ErrCrashed, err)
		}
	}
	return err
}

// workerFailed starts a fresh interpreter when err came from p's death.
func (k *Kernel) workerFailed(req *wire.Message, p Interpreter, err error) {
	select {
	case <-p.Done():
		k.log.Warn("the interpreter died; starting a fresh one", "err", err)
		k.sup.crashed(p)
		k.forgetComms(req)
	default:
	}
}

// forgetComms closes, on the front end's side, every comm of an
// interpreter that is gone.
func (k *Kernel) forgetComms(parent *wire.Message) {
	for _, id := range k.comms.reset() {
		k.publish(parent, "comm_close", wire.CommClose{CommID: id, Data: map[string]any{}})
	}
}
