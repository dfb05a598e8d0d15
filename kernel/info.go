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

type helpLink struct {
	Text string `json:"text"`
	URL  string `json:"url"`
}

type languageInfo struct {
	Name           string `json:"name"`
	Version        string `json:"version"`
	Mimetype       string `json:"mimetype"`
	FileExtension  string `json:"file_extension"`
	PygmentsLexer  string `json:"pygments_lexer"`
	CodemirrorMode string `json:"codemirror_mode"`
}

type kernelInfoReply struct {
	Status                string       `json:"status"`
	ProtocolVersion       string       `json:"protocol_version"`
	Implementation        string       `json:"implementation"`
	ImplementationVersion string       `json:"implementation_version"`
	LanguageInfo          languageInfo `json:"language_info"`
	Banner                string       `json:"banner"`
	HelpLinks             []helpLink   `json:"help_links"`
	Debugger              bool         `json:"debugger"`
}

// kernelInfo is the content of kernel_info_reply. It needs no interpreter.
func kernelInfo() kernelInfoReply {
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	return kernelInfoReply{
		Status:                "ok",
		ProtocolVersion:       wire.ProtocolVersion,
		Implementation:        "unetlab",
		ImplementationVersion: Version,
		LanguageInfo: languageInfo{
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
		HelpLinks: []helpLink{
			{"Go documentation", "https://go.dev/doc/"},
			{"Go standard library", "https://pkg.go.dev/std"},
			{"Effective Go", "https://go.dev/doc/effective_go"},
			{"yaegi (the Go interpreter)", "https://github.com/traefik/yaegi"},
			{"unetlab", ProjectURL},
		},
	}
}
