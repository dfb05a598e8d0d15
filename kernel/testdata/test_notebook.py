"""notebooks/hello.ipynb executed headless by `jupyter nbconvert --execute`
on the unetlab kernel, then its outputs checked cell by cell."""

import os
import subprocess
import sys
import tempfile
import unittest

import nbformat

KERNEL = os.environ.get("UNETLAB_KERNEL", "unetlab")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def texts(cell):
    """All text of a cell's outputs: streams and text/plain results."""
    out = []
    for o in cell.outputs:
        if o.output_type == "stream":
            out.append(o.text)
        elif o.output_type in ("execute_result", "display_data"):
            out.append(o.data.get("text/plain", ""))
        elif o.output_type == "error":
            out.append(f"ERROR {o.ename}: {o.evalue}")
    return "".join(out)


class HelloNotebookTest(unittest.TestCase):
    def test_nbconvert_execute(self):
        src = os.path.join(ROOT, "notebooks", "hello.ipynb")
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
                f"--ExecutePreprocessor.kernel_name={KERNEL}",
                "--ExecutePreprocessor.timeout=120",
                "--output-dir", tmp, "--output", "hello.out.ipynb", src,
            ]
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            log = os.environ.get("UNETLAB_KERNEL_LOG")
            if log:
                with open(log, "a") as f:
                    f.write(run.stderr)
            self.assertEqual(run.returncode, 0, f"nbconvert failed:\n{run.stderr[-3000:]}")
            nb = nbformat.read(os.path.join(tmp, "hello.out.ipynb"), as_version=4)

        code = [c for c in nb.cells if c.cell_type == "code"]
        self.assertEqual(len(code), 5)
        for i, c in enumerate(code):
            self.assertFalse([o for o in c.outputs if o.output_type == "error"], f"cell {i}: {texts(c)}")
        counts = [c.execution_count for c in code]
        self.assertEqual(counts, list(range(1, 6)), "execution counts")

        self.assertEqual(texts(code[0]), "hello from Go\n")
        self.assertIn("hello, lab", texts(code[1]))
        self.assertIn("bye, lab", texts(code[2]), "redefined function not used")
        html = [o for o in code[3].outputs if o.output_type == "execute_result"]
        self.assertEqual(len(html), 1, code[3].outputs)
        self.assertEqual(html[0].data["text/html"], "<b>bold</b> from Go")
        results = [o for o in code[4].outputs if o.output_type == "execute_result"]
        self.assertEqual(len(results), 1, code[4].outputs)
        self.assertEqual(results[0].data["text/plain"], "10")


if __name__ == "__main__":
    unittest.main()
