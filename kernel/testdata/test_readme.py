"""The README cannot rot: every ```go block of README.md runs, in order, as
the cells of ONE kernel (the built unetlab, through jupyter_client), and a
block marked `<!-- example: PKG NAME -->` must be the Go example NAME in
package PKG (its lines, less the imports and the last expression, appear in
order in the example's body), which `go test` compiles and runs.

The kernel runs in a temporary folder with UNETLAB_DATA and UNETLAB_RUNS
there, so the README's data and runs never land in the repository.
"""

import os
import queue
import re
import shutil
import tempfile
import time
import unittest

from jupyter_client.manager import start_new_kernel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
README = os.path.join(ROOT, "README.md")
KERNEL = os.environ.get("UNETLAB_KERNEL", "unetlab")
BLOCK_TIMEOUT = 300  # seconds; the library block trains for two tiny epochs

BLOCK = re.compile(r"^(?:<!-- example: (\S+) (\S+) -->\n)?```go\n(.*?)^```[ \t]*$", re.M | re.S)


def readme_blocks(text=None):
    """Returns (line number, package, example name, code) per ```go block."""
    if text is None:
        with open(README, encoding="utf-8") as f:
            text = f.read()
    out = []
    for m in BLOCK.finditer(text):
        line = text.count("\n", 0, m.start(3))  # the block's first code line is line+1
        out.append((line + 1, m.group(1), m.group(2), m.group(3)))
    return out


def kernel_stderr():
    path = os.environ.get("UNETLAB_KERNEL_LOG")
    return {"stderr": open(path, "ab")} if path else {}


def normalise(line):
    return " ".join(line.split())


def statement_lines(code):
    """The block's lines without its imports, blank lines and last
    expression (the cell's displayed result), whitespace-normalised."""
    lines = code.splitlines()
    out, in_import = [], False
    for ln in lines:
        s = ln.strip()
        if in_import:
            in_import = s != ")"
            continue
        if s.startswith("import ("):
            in_import = True
            continue
        if s.startswith("import "):
            continue
        if s:
            out.append(normalise(ln))
    if out and not out[-1].endswith("}"):
        out.pop()  # the trailing expression: `fig`, `display.HTML(...)`
    return out


def example_body(pkg, name):
    """The lines of func NAME() in the _test.go files of package dir pkg."""
    d = os.path.join(ROOT, pkg)
    for fn in sorted(os.listdir(d)):
        if not fn.endswith("_test.go"):
            continue
        with open(os.path.join(d, fn), encoding="utf-8") as f:
            src = f.read()
        m = re.search(r"^func " + re.escape(name) + r"\(\) \{\n(.*?)^\}$", src, re.M | re.S)
        if m:
            return [normalise(l) for l in m.group(1).splitlines() if l.strip()]
    return None


def missing_from(want, have):
    """The first line of want not found, in order, in have; None if all are."""
    i = 0
    for w in want:
        while i < len(have) and have[i] != w:
            i += 1
        if i == len(have):
            return w
        i += 1
    return None


class ReadmeParsing(unittest.TestCase):
    """The checker itself: it finds blocks and catches a drifted example."""

    def test_parse(self):
        text = "x\n```go\na := 1\na\n```\n\n<!-- example: viz Example_x -->\n```go\nimport \"fmt\"\nfmt.Println(1)\n```\n"
        got = readme_blocks(text)
        self.assertEqual([(b[1], b[2]) for b in got], [(None, None), ("viz", "Example_x")])
        self.assertEqual(got[0][0], 3)
        self.assertEqual(statement_lines(got[0][3]), ["a := 1"])
        self.assertEqual(statement_lines('import (\n\t"os"\n)\n\nx := os.Getenv("A")\nfig\n'), ['x := os.Getenv("A")'])

    def test_subsequence(self):
        self.assertIsNone(missing_from(["a", "c"], ["a", "b", "c"]))
        self.assertEqual(missing_from(["c", "a"], ["a", "b", "c"]), "a")
        self.assertEqual(missing_from(["a", "x"], ["a", "b"]), "x")


class ReadmeTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="unetlab-readme-")
        cls.saved = {k: os.environ.get(k) for k in ("UNETLAB_DATA", "UNETLAB_RUNS")}
        os.environ["UNETLAB_DATA"] = os.path.join(cls.tmp, "data")
        os.environ["UNETLAB_RUNS"] = os.path.join(cls.tmp, "runs")
        try:
            cls.km, cls.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60, cwd=cls.tmp, **kernel_stderr())
        finally:
            for k, v in cls.saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    @classmethod
    def tearDownClass(cls):
        try:
            cls.kc.stop_channels()
            cls.km.shutdown_kernel(now=True)
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def run_cell(self, code):
        """Runs code; returns (reply content, iopub messages up to idle)."""
        msg_id = self.kc.execute(code, allow_stdin=False, stop_on_error=False)
        deadline = time.monotonic() + BLOCK_TIMEOUT
        msgs = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.fail(f"no status idle within {BLOCK_TIMEOUT} s")
            try:
                m = self.kc.get_iopub_msg(timeout=left)
            except queue.Empty:
                continue
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            msgs.append(m)
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                break
        while True:
            r = self.kc.get_shell_msg(timeout=BLOCK_TIMEOUT)
            if r["parent_header"].get("msg_id") == msg_id:
                return r["content"], msgs

    def test_blocks_run_in_one_kernel(self):
        blocks = readme_blocks()
        self.assertGreaterEqual(len(blocks), 5, "README.md lost its go blocks?")
        for line, _, _, code in blocks:
            with self.subTest(readme_line=line):
                start = time.monotonic()
                content, msgs = self.run_cell(code)
                errs = [m["content"] for m in msgs if m["msg_type"] == "error"]
                took = time.monotonic() - start
                print(f"    README.md:{line}: {content['status']} in {took:.1f} s", flush=True)
                if content["status"] != "ok" or errs:
                    e = errs[0] if errs else content
                    self.fail(f"README.md block at line {line} failed: {e.get('ename')}: {e.get('evalue')}\n"
                              + "\n".join(e.get("traceback", [])))
                text = "".join(m["content"].get("text", "") for m in msgs if m["msg_type"] == "stream")
                self.assertNotIn("panic:", text, f"README.md block at line {line} printed a panic")

    def test_examples_match(self):
        marked = [b for b in readme_blocks() if b[1]]
        self.assertGreaterEqual(len(marked), 3, "README.md lost its example markers?")
        for line, pkg, name, code in marked:
            with self.subTest(readme_line=line, example=f"{pkg}.{name}"):
                body = example_body(pkg, name)
                self.assertIsNotNone(body, f"README.md:{line}: no func {name} in {pkg}/*_test.go")
                lost = missing_from(statement_lines(code), body)
                self.assertIsNone(lost, f"README.md:{line}: this line is not (in order) in {pkg}.{name}: {lost!r}; "
                                  "edit the README block and the example together")


if __name__ == "__main__":
    unittest.main()
