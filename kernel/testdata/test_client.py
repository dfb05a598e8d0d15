"""The unetlab kernel driven by jupyter_client: interrupt, stdin, comms,
live streaming, bad signatures, worker crash and restart.

Each test starts its own kernel ($UNETLAB_KERNEL, default "unetlab").
"""

import os
import queue
import random
import time
import unittest
import uuid

from jupyter_client.manager import KernelManager, start_new_kernel
from jupyter_client.session import Session

KERNEL = os.environ.get("UNETLAB_KERNEL", "unetlab")
TIMEOUT = 30


def kernel_stderr():
    """Where kernels write their log: $UNETLAB_KERNEL_LOG, else inherited."""
    path = os.environ.get("UNETLAB_KERNEL_LOG")
    return {"stderr": open(path, "ab")} if path else {}


class KernelCase(unittest.TestCase):
    """Starts a fresh kernel per test and offers helpers to run cells."""

    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=TIMEOUT, **kernel_stderr())
        self.drain()

    def drain(self):
        """Drops what start_new_kernel's readiness probes left queued."""
        for get in (self.kc.get_shell_msg, self.kc.get_iopub_msg):
            while True:
                try:
                    get(timeout=0.2)
                except queue.Empty:
                    break

    def tearDown(self):
        try:
            self.kc.stop_channels()
        finally:
            self.km.shutdown_kernel(now=True)

    def shell_reply(self, msg_id, timeout=TIMEOUT):
        """Returns the shell reply to msg_id, skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"no shell reply to {msg_id} within {timeout} s")
            try:
                msg = self.kc.get_shell_msg(timeout=left)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg

    def iopub_until_idle(self, msg_id, timeout=TIMEOUT):
        """Returns (arrival time, message) for the iopub messages of msg_id
        up to its status idle."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"no status idle for {msg_id} within {timeout} s; got {[m['msg_type'] for _, m in out]}")
            try:
                msg = self.kc.get_iopub_msg(timeout=left)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            out.append((time.monotonic(), msg))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return out

    def run_cell(self, code, timeout=TIMEOUT, **kw):
        """Runs code; returns (reply content, stdout text, iopub messages)."""
        msg_id = self.kc.execute(code, **kw)
        reply = self.shell_reply(msg_id, timeout)
        msgs = [m for _, m in self.iopub_until_idle(msg_id, timeout)]
        stdout = "".join(
            m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"
        )
        return reply["content"], stdout, msgs

    def result_text(self, msgs):
        for m in msgs:
            if m["msg_type"] == "execute_result":
                return m["content"]["data"]["text/plain"]
        return None

    def assert_answers(self):
        """The kernel still runs cells: 1+1 gives 2."""
        content, _, msgs = self.run_cell("1+1")
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(self.result_text(msgs), "2")


class InterruptTests(KernelCase):
    def interrupt_after(self, code, delay=0.5):
        msg_id = self.kc.execute(code)
        time.sleep(delay)
        t0 = time.monotonic()
        self.km.interrupt_kernel()
        reply = self.shell_reply(msg_id, timeout=10)
        took = time.monotonic() - t0
        msgs = [m for _, m in self.iopub_until_idle(msg_id)]
        return reply["content"], took, msgs

    def test_tight_loop(self):
        self.assertEqual(self.km.kernel_spec.interrupt_mode, "message")
        content, took, _ = self.interrupt_after("for {\n}")
        self.assertNotEqual(content["status"], "ok", content)
        self.assertLess(took, 1.0, f"for {{}} took {took:.2f} s to stop after the interrupt")
        print(f"  interrupt of for {{}}: reply after {took*1000:.0f} ms", flush=True)
        self.assert_answers()

    def test_cell_context_cancelled(self):
        # Compiled code given cell.Context() sees the interrupt: a child
        # process started with exec.CommandContext is killed.
        marker = f"{30 + random.random():.6f}"
        code = (
            'import "github.com/unetlab/unetlab/kernel/cell"\n'
            f'exec.CommandContext(cell.Context(), "sleep", "{marker}").Run()'
        )
        msg_id = self.kc.execute(code)
        deadline = time.monotonic() + 10
        while not sleeping(marker):
            self.assertLess(time.monotonic(), deadline, "the cell did not start sleep")
            time.sleep(0.02)
        t0 = time.monotonic()
        self.km.interrupt_kernel()
        reply = self.shell_reply(msg_id, timeout=10)
        self.assertLess(time.monotonic() - t0, 1.0, "interrupt of a cell in a compiled call took over 1 s")
        self.assertNotEqual(reply["content"]["status"], "ok", reply["content"])
        self.iopub_until_idle(msg_id)
        while sleeping(marker):
            self.assertLess(time.monotonic() - t0, 1.5, "cell.Context() not cancelled: sleep still runs")
            time.sleep(0.02)
        self.assert_answers()


    def test_second_interrupt_restarts(self):
        # A compiled call that ignores the context (exec.Command, not
        # CommandContext) outlives the first interrupt: the cell goes on
        # (it is not reported finished while it runs); the second
        # interrupt restarts the interpreter.
        self.run_cell("lost := 1")
        marker = f"{60 + random.random():.6f}"
        msg_id = self.kc.execute(f'exec.Command("sleep", "{marker}").Run()')
        deadline = time.monotonic() + 10
        while not sleeping(marker):
            self.assertLess(time.monotonic(), deadline, "the cell did not start sleep")
            time.sleep(0.02)
        self.km.interrupt_kernel()
        try:
            reply = self.kc.get_shell_msg(timeout=1.5)
            self.fail(f"the first interrupt ended the cell while its compiled call still ran: {reply['content']}")
        except queue.Empty:
            pass
        t0 = time.monotonic()
        self.km.interrupt_kernel()
        reply = self.shell_reply(msg_id, timeout=15)
        took = time.monotonic() - t0
        content = reply["content"]
        self.assertEqual(content["status"], "error", content)
        self.assertIn("restart", (content["evalue"] + " ".join(content["traceback"])).lower())
        self.assertLess(took, 5, f"restart after the second interrupt took {took:.1f} s")
        print(f"  second interrupt: reply after {took*1000:.0f} ms", flush=True)
        self.iopub_until_idle(msg_id)
        self.assert_answers()
        content, _, _ = self.run_cell("lost")
        self.assertEqual(content["status"], "error", "state survived the restart")
        for pid in sleeping_pids(marker):  # the orphaned sleep
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


def sleeping(marker):
    """Reports whether a process `sleep MARKER` runs (Linux /proc)."""
    return bool(sleeping_pids(marker))


def sleeping_pids(marker):
    """The process ids of `sleep MARKER` (Linux /proc)."""
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if len(argv) >= 2 and argv[0].endswith(b"sleep") and argv[1] == marker.encode():
            pids.append(int(pid))
    return pids


class CompletionTests(KernelCase):
    def test_replacement_span(self):
        # Replacing text[cursor_start:cursor_end] by a match gives the
        # completed text, for package members, user names and fields.
        content, _, _ = self.run_cell("type point struct{ Xpos, Ypos int }\nvar myPoint point\nmyNumber := 3")
        self.assertEqual(content["status"], "ok", content)
        cases = [
            ("fmt.Print", "fmt.Println"),
            ("x := strings.ToU", "x := strings.ToUpper"),
            ("myN", "myNumber"),
            ("myPoint.Xp", "myPoint.Xpos"),
            ("display.HT", "display.HTML"),
            ("var q poi", "var q point"),
            ("for { brea", "for { break"),
        ]
        for text, want in cases:
            with self.subTest(text=text):
                msg_id = self.kc.complete(text, len(text))
                reply = self.shell_reply(msg_id)["content"]
                self.assertEqual(reply["status"], "ok", reply)
                cs, ce = reply["cursor_start"], reply["cursor_end"]
                done = {text[:cs] + m + text[ce:] for m in reply["matches"]}
                self.assertIn(want, done, f"matches {reply['matches']} over [{cs}:{ce}]")


class ExecuteOptionsTests(KernelCase):
    def test_stop_on_error_aborts_queued(self):
        # A runtime error after a sleep: a compile error (the type checker)
        # would fail the cell before the others are queued.
        first = self.kc.execute('time.Sleep(300 * time.Millisecond)\npanic("stop")')
        queued = [self.kc.execute(f'fmt.Println("queued {i}")') for i in range(2)]
        self.assertEqual(self.shell_reply(first)["content"]["status"], "error")
        for mid in queued:
            self.assertEqual(self.shell_reply(mid)["content"]["status"], "aborted")
        self.assert_answers()

    def test_no_stop_on_error(self):
        first = self.kc.execute("undefinedThing()", stop_on_error=False)
        nxt = self.kc.execute("2+2")
        self.assertEqual(self.shell_reply(first)["content"]["status"], "error")
        self.assertEqual(self.shell_reply(nxt)["content"]["status"], "ok")

    def test_user_expressions_and_silent(self):
        content, out, msgs = self.run_cell(
            'n := 21\nfmt.Println("loud")', silent=True, user_expressions={"double": "n*2", "bad": "nope"})
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(out, "", "silent cell produced output")
        self.assertFalse([m for m in msgs if m["msg_type"] == "execute_input"], "silent cell broadcast execute_input")
        ue = content["user_expressions"]
        self.assertEqual(ue["double"]["status"], "ok", ue)
        self.assertEqual(ue["double"]["data"]["text/plain"], "42")
        self.assertEqual(ue["bad"]["status"], "error", ue)


class RedefinitionTests(KernelCase):
    def test_redefine_type_resets_variables(self):
        content, _, _ = self.run_cell("type pt struct{ X int }\nq := 5\np := pt{1}")
        self.assertEqual(content["status"], "ok", content)
        content, _, msgs = self.run_cell("type pt struct{ X, Y int }\npt{1, 2}")
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(self.result_text(msgs), "{X:1 Y:2}")
        err = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
        # p holds a value of the old pt: it is reset and named; q, a plain
        # int of the same cell, keeps its value.
        self.assertRegex(err, r"reset to their zero values: p\n")
        content, _, msgs = self.run_cell("q")
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(self.result_text(msgs), "5")
        # A reset variable is usable, at the zero value of the new type.
        content, _, msgs = self.run_cell("p")
        self.assertEqual(content["status"], "ok", content)
        self.assertEqual(self.result_text(msgs), "{X:0 Y:0}")
        content, _, msgs = self.run_cell("p.Y = 7\np.Y * 2")
        self.assertEqual(self.result_text(msgs), "14", content)

    def test_redefine_function_keeps_variables_defined(self):
        content, _, _ = self.run_cell("kept := 3\nfunc f() int { return 1 }")
        self.assertEqual(content["status"], "ok", content)
        content, _, msgs = self.run_cell("func f() int { return 2 }\nf() + kept")
        self.assertEqual(content["status"], "ok", content)
        # kept is a plain int: it keeps its value across the rebuild.
        self.assertEqual(self.result_text(msgs), "5")


class CellEvaluationTests(KernelCase):
    """Cells a notebook author reported, run one after another as in a
    notebook (yaegi mishandles each at a cell's top level; the worker works
    around it)."""

    def ok(self, code, stdout=None, result=None):
        content, out, msgs = self.run_cell(code)
        self.assertEqual(content["status"], "ok", (code, content))
        if stdout is not None:
            self.assertEqual(out, stdout, code)
        if result is not None:
            self.assertEqual(self.result_text(msgs), result, code)

    def test_reported_cells(self):
        # := inside a block of a top-level statement.
        self.ok('root := ""\nif root == "" { if _, err := os.Stat("/nonexistent/go.mod"); err == nil '
                '{ root = "../data" } else { root = "none" } }\nfmt.Println(root)', stdout="none\n")
        self.ok('home := os.Getenv("HOME")\nif _, err := os.Stat("/"); err != nil { panic(err) }\n'
                'if root == "none" { if _, err := os.Stat("/nonexistent"); err != nil { root = home + "!" } }\n'
                'root != "none"', result="true")
        self.ok("xs := []int{1, 2}\nf := func(i int) (int, float64, error) { return i * 10, float64(i) / 2, nil }\n"
                'for _, i := range xs { id, d, err := f(i); if err != nil { panic(err) }; fmt.Printf("%d %.1f\\n", id, d) }',
                stdout="10 0.5\n20 1.0\n")
        # Comma-ok := of a map of an interpreted struct.
        self.ok('type pr struct{ N int }\nps := map[string]pr{"a": {N: 1}}\nv, ok := ps["a"]\nfmt.Println(v, ok)',
                stdout="{1} true\n")
        # Multi-value assignment with a composite literal.
        self.ok("func f3() { var a [3]int; var b int; a, b = [3]int{1, 2, 3}, 10; fmt.Println(a, b) }\nf3()",
                stdout="[1 2 3] 10\n")
        # Globals of multi-value := (one named like package net) used by a
        # function that another function calls.
        self.ok('ds, err := url.Parse("http://h/")')
        self.ok('net, err := url.Parse("http://n/")')
        self.ok("func caseDice(i int) (string, error) {\n\tc, err := ds.Parse(fmt.Sprint(i))\n\treturn c.String() + net.Host, err\n}\n"
                "func all() []string {\n\tvar out []string\n\tfor _, i := range []int{1, 2} {\n\t\tid, err := caseDice(i)\n"
                "\t\tif err != nil { panic(err) }\n\t\tout = append(out, id)\n\t}\n\treturn out\n}\nall()",
                result="[http://h/1n http://h/2n]")


class TransportTests(unittest.TestCase):
    def test_ipc(self):
        km = KernelManager(kernel_name=KERNEL, transport="ipc")
        km.start_kernel(**kernel_stderr())
        kc = km.client()
        try:
            kc.start_channels()
            kc.wait_for_ready(timeout=TIMEOUT)
            self.assertEqual(kc.transport, "ipc")
            msg_id = kc.execute("40+2")
            while True:
                msg = kc.get_iopub_msg(timeout=TIMEOUT)
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_result":
                    self.assertEqual(msg["content"]["data"]["text/plain"], "42")
                    break
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


class IntrospectionTests(KernelCase):
    def test_kernel_info(self):
        msg_id = self.kc.kernel_info()
        info = self.shell_reply(msg_id)["content"]
        self.assertEqual(info["status"], "ok")
        self.assertEqual(info["protocol_version"], "5.3")
        li = info["language_info"]
        for key, want in [("name", "go"), ("mimetype", "text/x-go"), ("file_extension", ".go"),
                          ("pygments_lexer", "go"), ("codemirror_mode", "go")]:
            self.assertEqual(li.get(key), want, key)
        self.assertTrue(li.get("version"))
        self.assertTrue(info.get("help_links"), "no help_links")

    def test_inspect(self):
        msg_id = self.kc.inspect("fmt.Println", len("fmt.Println"))
        reply = self.shell_reply(msg_id)["content"]
        self.assertTrue(reply["found"], reply)
        text = reply["data"]["text/plain"]
        self.assertIn("func Println(a ...any) (n int, err error)", text)
        self.assertIn("default formats", text, "no doc comment")
        content, _, _ = self.run_cell("answerVar := 42")
        self.assertEqual(content["status"], "ok", content)
        msg_id = self.kc.inspect("answerVar", len("answerVar"))
        reply = self.shell_reply(msg_id)["content"]
        self.assertTrue(reply["found"], reply)
        text = reply["data"]["text/plain"]
        self.assertIn("int", text)
        self.assertIn("42", text)

    def test_is_complete_indent(self):
        msg_id = self.kc.is_complete("func f() {")
        reply = self.shell_reply(msg_id)["content"]
        self.assertEqual(reply["status"], "incomplete")
        self.assertTrue(reply.get("indent", "").strip(" \t") == "" and reply.get("indent"), reply)


class StdinTests(KernelCase):
    CODE = 'var s string\nn, err := fmt.Scanln(&s)\nfmt.Println("got", s, n, err)'

    def test_input_request(self):
        msg_id = self.kc.execute(self.CODE, allow_stdin=True)
        req = self.kc.get_stdin_msg(timeout=TIMEOUT)
        self.assertEqual(req["msg_type"], "input_request")
        self.assertEqual(req["parent_header"]["msg_id"], msg_id)
        self.assertIn("password", req["content"])
        self.kc.input("gopher")
        reply = self.shell_reply(msg_id)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        msgs = [m for _, m in self.iopub_until_idle(msg_id)]
        out = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream")
        self.assertIn("got gopher 1 <nil>", out)

    def test_stdin_not_allowed(self):
        content, out, msgs = self.run_cell(self.CODE, allow_stdin=False)
        with self.assertRaises(queue.Empty):
            self.kc.get_stdin_msg(timeout=0.5)
        # Either the cell fails, or Scanln returns an error the cell prints.
        if content["status"] == "ok":
            self.assertIn("got", out)
            self.assertNotIn("<nil>", out, "Scanln succeeded without stdin")
        else:
            self.assertIn("stdin", (content.get("evalue", "") + " ".join(content.get("traceback", []))).lower())


class CommTests(KernelCase):
    def test_comm_info(self):
        msg_id = self.kc.comm_info()
        reply = self.shell_reply(msg_id)
        self.assertEqual(reply["msg_type"], "comm_info_reply")
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertIsInstance(reply["content"]["comms"], dict)

    def test_open_unknown_target_is_closed(self):
        comm_id = uuid.uuid4().hex
        msg = self.kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "no-such-target", "data": {}})
        self.kc.shell_channel.send(msg)
        deadline = time.monotonic() + 10
        while True:
            self.assertLess(time.monotonic(), deadline, "no comm_close for an unknown target")
            try:
                m = self.kc.get_iopub_msg(timeout=1)
            except queue.Empty:
                continue
            if m["msg_type"] == "comm_close" and m["content"].get("comm_id") == comm_id:
                break
        msg_id = self.kc.comm_info()
        self.assertNotIn(comm_id, self.shell_reply(msg_id)["content"]["comms"])
        self.assert_answers()


class IdleOutputTests(KernelCase):
    """Output and comm messages the interpreter sends while no cell runs
    reach the front end at once, without another execute_request."""

    def collect(self, parent_id, until, timeout=5):
        """Returns the iopub messages with parent parent_id, in order, up to
        the first for which until(msg) holds."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"gave up after {timeout} s; got {[(m['msg_type'], m['content']) for m in out]}")
            try:
                msg = self.kc.get_iopub_msg(timeout=left)
            except queue.Empty:
                continue
            if msg["parent_header"].get("msg_id") != parent_id:
                continue
            out.append(msg)
            if until(msg):
                return out

    def test_comm_handler_reply_without_execute(self):
        content, _, _ = self.run_cell(
            'comm.Register("unetlab.test.echo", func(c *comm.Comm, data map[string]any) {\n'
            '\tc.OnMessage(func(d map[string]any) {\n'
            '\t\tif d["slow"] == true {\n'
            "\t\t\ttime.Sleep(1500 * time.Millisecond)\n"
            "\t\t}\n"
            '\t\tfmt.Println("handler got", d["n"])\n'
            '\t\tc.Send(map[string]any{"echo": d["n"]})\n'
            "\t})\n"
            "})")
        self.assertEqual(content["status"], "ok", content)
        count = content["execution_count"]
        comm_id = uuid.uuid4().hex
        idle = lambda m: m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
        msg = self.kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "unetlab.test.echo", "data": {}})
        self.kc.shell_channel.send(msg)
        opened = self.collect(msg["header"]["msg_id"], idle)
        self.assertNotIn("comm_close", [m["msg_type"] for m in opened], "the registered target refused the comm")
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"n": 7}})
        t0 = time.monotonic()
        self.kc.shell_channel.send(msg)
        got = self.collect(msg["header"]["msg_id"], idle)
        took = time.monotonic() - t0
        kinds = [m["msg_type"] for m in got]
        self.assertEqual(kinds, ["status", "stream", "comm_msg", "status"], kinds)
        self.assertEqual(got[1]["content"]["text"], "handler got 7\n")
        self.assertEqual(got[2]["content"]["comm_id"], comm_id)
        self.assertEqual(got[2]["content"]["data"], {"echo": 7})
        print(f"  comm_msg -> handler reply: {took*1000:.0f} ms", flush=True)
        # A handler that takes its time is waited for, as a cell would be.
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {"n": 8, "slow": True}})
        self.kc.shell_channel.send(msg)
        got = self.collect(msg["header"]["msg_id"], idle)
        self.assertEqual([m["msg_type"] for m in got], ["status", "stream", "comm_msg", "status"])
        self.assertEqual(got[2]["content"]["data"], {"echo": 8})
        # Nothing ran as a cell: the next cell's count follows the last.
        content, _, _ = self.run_cell("1+1")
        self.assertEqual(content["execution_count"], count + 1, "a comm message counted as a cell")

    def test_goroutine_output_after_cell(self):
        code = (
            "go func() {\n"
            "\ttime.Sleep(200 * time.Millisecond)\n"
            '\tfmt.Println("late line")\n'
            '\tdisplay.Show(display.Text("late display"))\n'
            '\tfmt.Println("after display")\n'
            "}()"
        )
        msg_id = self.kc.execute(code)
        self.assertEqual(self.shell_reply(msg_id)["content"]["status"], "ok")
        msgs = self.iopub_until_idle(msg_id)
        t_idle = msgs[-1][0]
        self.assertNotIn("stream", [m["msg_type"] for _, m in msgs], "the late output came with the cell")
        # No other request: the output arrives on its own, with the cell
        # that started the goroutine (the latest cell) as parent.
        got = self.collect(msg_id, lambda m: m["msg_type"] == "stream" and "after display" in m["content"]["text"])
        lag = time.monotonic() - t_idle
        texts = [m["content"]["text"] if m["msg_type"] == "stream" else m["content"]["data"]["text/plain"] for m in got]
        self.assertEqual("".join(t if t.endswith("\n") else f"[{t}]" for t in texts),
                         "late line\n[late display]after display\n", [m["msg_type"] for m in got])
        self.assertLess(lag, 2, f"late output arrived {lag:.2f} s after the cell ended")
        print(f"  goroutine output 200 ms after its cell: arrived {lag*1000:.0f} ms after idle", flush=True)


    def test_goroutine_panic_after_cell(self):
        # A goroutine that panics after its cell ended takes the interpreter
        # down; the front end hears of it under that cell at once, and the
        # next cell runs in a fresh interpreter without repeating it.
        msg_id = self.kc.execute('go func() {\n\ttime.Sleep(200 * time.Millisecond)\n\tpanic("late boom")\n}()')
        self.assertEqual(self.shell_reply(msg_id)["content"]["status"], "ok")
        self.iopub_until_idle(msg_id)
        got = self.collect(msg_id, lambda m: m["msg_type"] == "stream" and "exited between requests" in m["content"]["text"],
                           timeout=10)
        self.assertIn("state was reset", got[-1]["content"]["text"])
        content, _, msgs = self.run_cell("1+1")
        self.assertEqual(content["status"], "ok", content)
        self.assertNotIn("stream", [m["msg_type"] for m in msgs], "the death was reported again")
        self.assertEqual(self.result_text(msgs), "2")


class StreamTests(KernelCase):
    def test_live(self):
        code = 'for i := 0; i < 6; i++ {\n\tfmt.Println("tick", i)\n\ttime.Sleep(200 * time.Millisecond)\n}'
        msg_id = self.kc.execute(code)
        msgs = self.iopub_until_idle(msg_id)
        reply = self.shell_reply(msg_id)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        ticks = [(t, m) for t, m in msgs if m["msg_type"] == "stream"]
        text = "".join(m["content"]["text"] for _, m in ticks)
        self.assertEqual(text, "".join(f"tick {i}\n" for i in range(6)))
        self.assertGreaterEqual(len(ticks), 4, f"output came in {len(ticks)} messages, want it streamed")
        spread = ticks[-1][0] - ticks[0][0]
        self.assertGreater(spread, 0.6, f"stream messages arrived within {spread:.2f} s: not live")
        idle = msgs[-1][0]
        self.assertGreater(idle - ticks[0][0], 0.8, "first line arrived only at the end of the cell")

    def test_latency(self):
        # Output written directly to the process's stdout (as compiled code
        # does) reaches the front end while the cell still runs.
        code = 'os.Stdout.WriteString("early\\n")\ntime.Sleep(1500 * time.Millisecond)'
        msg_id = self.kc.execute(code)
        msgs = self.iopub_until_idle(msg_id)
        t_input = next(t for t, m in msgs if m["msg_type"] == "execute_input")
        t_out = next((t for t, m in msgs if m["msg_type"] == "stream" and "early" in m["content"]["text"]), None)
        self.assertIsNotNone(t_out, [m["msg_type"] for _, m in msgs])
        lag = t_out - t_input
        self.assertLess(lag, 0.5, f"output arrived {lag:.2f} s after execute_input")
        print(f"  stdout lag: {lag*1000:.0f} ms", flush=True)

    def test_compiled_stdout_streams(self):
        # Compiled library code writing to os.Stdout directly also streams.
        code = 'os.Stdout.WriteString("direct\\n")\nos.Stderr.WriteString("direct err\\n")'
        content, out, msgs = self.run_cell(code)
        self.assertEqual(content["status"], "ok", content)
        self.assertIn("direct", out)
        err = "".join(m["content"]["text"] for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")
        self.assertIn("direct err", err)


class DisplayTests(KernelCase):
    def test_live_update(self):
        code = (
            'h := display.ShowLive(display.Text("0%"))\n'
            "for i := 1; i <= 2; i++ {\n"
            "\ttime.Sleep(50 * time.Millisecond)\n"
            '\t_ = h.Update(display.Text(fmt.Sprint(i*50, "%")))\n'
            "}"
        )
        content, _, msgs = self.run_cell(code)
        self.assertEqual(content["status"], "ok", content)
        shown = [m for m in msgs if m["msg_type"] == "display_data"]
        updates = [m for m in msgs if m["msg_type"] == "update_display_data"]
        self.assertEqual(len(shown), 1, [m["msg_type"] for m in msgs])
        did = shown[0]["content"].get("transient", {}).get("display_id")
        self.assertTrue(did, "display_data without transient.display_id")
        self.assertEqual(shown[0]["content"]["data"]["text/plain"], "0%")
        self.assertEqual([u["content"]["transient"]["display_id"] for u in updates], [did, did])
        self.assertEqual(updates[-1]["content"]["data"]["text/plain"], "100%")

    def test_renderer_value(self):
        # A user type implementing display.Renderer shows richly as the
        # cell's last value.
        code = (
            "type badge struct{ n int }\n"
            'func (b badge) Render() display.Bundle { return display.HTML(fmt.Sprintf("<b>%d</b>", b.n)) }\n'
            "badge{7}"
        )
        content, _, msgs = self.run_cell(code)
        self.assertEqual(content["status"], "ok", content)
        res = [m for m in msgs if m["msg_type"] == "execute_result"]
        self.assertEqual(len(res), 1, [m["msg_type"] for m in msgs])
        self.assertEqual(res[0]["content"]["data"].get("text/html"), "<b>7</b>")


class SignatureTests(KernelCase):
    def assert_no_reply(self, what, wait=1.5):
        """No shell message at all arrives within wait seconds."""
        try:
            msg = self.kc.get_shell_msg(timeout=wait)
        except queue.Empty:
            return
        self.fail(f"{what} got a reply: {msg['msg_type']} {msg['content']}")

    def test_wrong_key(self):
        bad = Session(key=b"not-the-key", signature_scheme=self.kc.session.signature_scheme, username="mallory")
        bad.send(self.kc.shell_channel.socket, "execute_request",
                 {"code": 'fmt.Println("pwned")', "silent": False, "store_history": True,
                  "user_expressions": {}, "allow_stdin": False, "stop_on_error": True})
        self.assert_no_reply("a wrongly signed execute_request")
        self.assert_answers()
        # And the bad cell never ran.
        while True:
            try:
                m = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                break
            if m["msg_type"] == "stream":
                self.assertNotIn("pwned", m["content"]["text"])

    def test_missing_signature_and_garbage(self):
        sock = self.kc.shell_channel.socket
        msg = self.kc.session.msg("kernel_info_request", {})
        frames = self.kc.session.serialize(msg)  # [DELIM, sig, header, parent, metadata, content]
        frames[1] = b""
        sock.send_multipart(frames)
        self.assert_no_reply("an unsigned kernel_info_request")
        for junk in ([b"garbage"], [b"<IDS|MSG>"], [b"<IDS|MSG>", b"00", b"{", b"}", b"", b"\xff"], [b"<IDS|MSG>", b"", b"", b"", b"", b""]):
            sock.send_multipart(junk)
        self.assert_no_reply("garbage frames", wait=1)
        self.assert_answers()


class CrashTests(KernelCase):
    def test_goroutine_panic_resets(self):
        content, _, _ = self.run_cell("survivor := 42")
        self.assertEqual(content["status"], "ok", content)
        content, _, msgs = self.run_cell('go func() { panic("x") }()\ntime.Sleep(3 * time.Second)')
        self.assertEqual(content["status"], "error", content)
        errs = [m for m in msgs if m["msg_type"] == "error"]
        self.assertEqual(len(errs), 1, [m["msg_type"] for m in msgs])
        text = (content["ename"] + " " + content["evalue"] + " " + " ".join(content["traceback"])).lower()
        self.assertIn("reset", text)
        self.assert_answers()
        content, _, _ = self.run_cell("survivor")
        self.assertEqual(content["status"], "error", "state survived a worker crash")

    def test_os_exit(self):
        # os.Exit in a cell is an error of that cell, never the kernel's end.
        content, _, _ = self.run_cell("os.Exit(3)")
        self.assertEqual(content["status"], "error", content)
        self.assertIn("os.exit", (content["evalue"] + " ".join(content["traceback"])).lower())
        self.assert_answers()


class RestartTests(KernelCase):
    def test_shutdown_restart(self):
        content, _, _ = self.run_cell("kept := 1")
        self.assertEqual(content["status"], "ok", content)
        msg_id = self.kc.shutdown(restart=True)
        reply = self.kc.get_control_msg(timeout=TIMEOUT)
        self.assertEqual(reply["msg_type"], "shutdown_reply")
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertTrue(reply["content"]["restart"])
        deadline = time.monotonic() + 5
        while self.km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(self.km.is_alive(), "kernel process still alive 5 s after shutdown_request")
        # The manager restarts it on the same ports, as a front end does.
        self.km.restart_kernel(now=True)
        self.kc.wait_for_ready(timeout=TIMEOUT)
        self.assert_answers()
        content, _, _ = self.run_cell("kept")
        self.assertEqual(content["status"], "error", "state survived a restart")

    def test_manager_restart(self):
        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=TIMEOUT)
        self.assert_answers()


if __name__ == "__main__":
    unittest.main()
