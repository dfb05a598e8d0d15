package models_test

import (
	"fmt"
	"testing"

	"github.com/unetlab/unetlab/models"
)

func TestPaperName(t *testing.T) {
	seen := map[string]models.Arch{}
	for _, a := range models.Archs {
		n := a.PaperName()
		if n == "" || n == string(a) {
			t.Errorf("%s: paper name %q", a, n)
		}
		if b, ok := seen[n]; ok {
			t.Errorf("%s and %s share the paper name %q", a, b, n)
		}
		seen[n] = a
	}
	if got := models.Arch("Other").PaperName(); got != "Other" {
		t.Errorf("unknown arch: %q", got)
	}
}

func ExampleArch_PaperName() {
	for _, a := range models.Archs {
		fmt.Printf("%s ", a.PaperName())
	}
	fmt.Println()
	// Output: U-net Resblock-1 Resblock-2 ConvNext Conv-Skip Conv-Skip-Resblock-2 Trans-Unet Half-UNet Swin-UNETR
}
