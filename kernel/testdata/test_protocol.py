"""The unetlab kernel against jupyter_kernel_test's protocol checks.

Every sample field of jupyter_kernel_test.KernelTests is filled (the pager
is optional and left out); the kernel is the one named by $UNETLAB_KERNEL
(default "unetlab"), installed by integration.sh into a temporary
JUPYTER_DATA_DIR.
"""

import os
import unittest

import jupyter_kernel_test
from jupyter_client.manager import start_new_kernel
from test_client import kernel_stderr

KERNEL = os.environ.get("UNETLAB_KERNEL", "unetlab")


class UnetlabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL
    language_name = "go"

    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name=cls.kernel_name, **kernel_stderr())
    file_extension = ".go"

    code_hello_world = 'fmt.Println("hello, world")'
    code_stderr = 'fmt.Fprintln(os.Stderr, "to stderr")'

    # Matches replace cursor_start..cursor_end, which after "pkg." covers
    # only the member's prefix (test_client.CompletionTests checks the span).
    completion_samples = [
        {"text": "fmt.Print", "matches": {"Print", "Printf", "Println"}},
        {"text": "strings.ToU", "matches": {"ToUpper", "ToUpperSpecial"}},
        {"text": "fallthro", "matches": {"fallthrough"}},
    ]

    complete_code_samples = [
        'fmt.Println("x")',
        "x := 1",
        "func f() int { return 1 }",
        'import "fmt"',
        "type point struct{ X, Y int }",
    ]
    incomplete_code_samples = [
        "func f() {",
        "for i := 0; i < 3; i++ {",
        "xs := []int{1,\n2,",
        "type t struct {",
    ]
    invalid_code_samples = [
        "x := )",
        "func f() }",
    ]

    code_generate_error = "undefinedName + 1"

    code_execute_result = [
        {"code": "1+2", "result": "3"},
        {"code": "x := 6*7\nx", "result": "42"},
        {"code": 'strings.Repeat("go", 2) + "!"', "mime": "text/plain"},
        {"code": 'display.HTML("<b>hi</b>")', "mime": "text/html", "result": "<b>hi</b>"},
        {"code": "image.NewGray(image.Rect(0, 0, 4, 4))", "mime": "image/png"},
    ]

    code_display_data = [
        {"code": '_ = display.Show(display.HTML("<i>shown</i>"))', "mime": "text/html"},
        {
            "code": "var buf bytes.Buffer\n"
            "_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)))\n"
            "_ = display.Show(display.PNG(buf.Bytes()))",
            "mime": "image/png",
        },
        {"code": '_ = display.Show(display.Markdown("# title"))', "mime": "text/markdown"},
    ]

    code_clear_output = 'fmt.Println("gone")\n_ = display.Clear(false)'

    code_history_pattern = "1+*"
    supported_history_operations = ("tail", "range", "search")
    supports_history = True  # newer jupyter_kernel_test releases read this name

    code_inspect_sample = "fmt.Println"


if __name__ == "__main__":
    unittest.main()
