package kernel

import (
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/unetlab/unetlab/kernel/wire"
)

// Version is the unetlab version reported in kernel_info_reply; the module
// version when the binary was built from a tagged module, else "devel".
var Version = moduleVersion()

func moduleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return strings.TrimPrefix(bi.Main.Version, "v")
	}
	return "devel"
}

// ProjectURL is the project's home, linked from the Help menu.
const ProjectURL = "https://github.com/unetlab/unetlab"

// kernelInfo is the content of kernel_info_reply. It needs no interpreter.
func kernelInfo() wire.KernelInfoReply {
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	return wire.KernelInfoReply{
		Status:                wire.StatusOK,
		ProtocolVersion:       wire.ProtocolVersion,
		Implementation:        "unetlab",
		ImplementationVersion: Version,
		LanguageInfo: wire.LanguageInfo{
			Name:           "go",
			Version:        goVersion,
			Mimetype:       "text/x-go",
			FileExtension:  ".go",
			PygmentsLexer:  "go",
			CodemirrorMode: "go",
		},
		Banner: "unetlab " + Version + ": Go " + goVersion + " interpreted by yaegi, " +
			"with the unetlab 3D segmentation library built in.\n" +
			"Long calls take cell.Context(), which an interrupt cancels.",
		HelpLinks: []wire.HelpLink{
			{Text: "Go documentation", URL: "https://go.dev/doc/"},
			{Text: "Go standard library", URL: "https://pkg.go.dev/std"},
			{Text: "Effective Go", URL: "https://go.dev/doc/effective_go"},
			{Text: "yaegi (the Go interpreter)", URL: "https://github.com/traefik/yaegi"},
			{Text: "unetlab", URL: ProjectURL},
		},
	}
}
