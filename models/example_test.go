package models_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/unetlab/unetlab/models"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The paper's networks: parameters and compute for a batch of 2 at 128^3,
// the paper's FLOPs being thop 0.1.1's multiply-accumulates.
func ExampleDescribe() {
	for _, a := range []models.Arch{models.UNet, models.ConvNeXt, models.SwinUNETR} {
		s, err := models.Describe(models.Config{Arch: a})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %d parameters, %.1f GMAC (thop), %.1f GFLOP\n", a, s.Params, float64(s.MACs)/1e9, float64(s.FLOPs)/1e9)
	}
	// Output:
	// UNet: 43799342 parameters, 1074.3 GMAC (thop), 1926.6 GFLOP
	// ConvNeXt: 7901270 parameters, 256.0 GMAC (thop), 291.9 GFLOP
	// SwinUNETR: 62186708 parameters, 1564.1 GMAC (thop), 3076.8 GFLOP
}

func ExampleConfig_Validate() {
	err := models.Config{Arch: models.UNet, InputSize: [3]int{100, 128, 128}}.Validate()
	fmt.Println(err)
	// Output:
	// models: invalid configuration: InputSize [100 128 128]: side 0 (100) is not divisible by 2^(levels-1) = 32 for 6 levels
}

// Build a small U-net, run it on one volume, save its weights and load
// them into a second model.
func ExampleNew() {
	m, err := models.New(models.Small(models.UNet))
	if err != nil {
		fmt.Println(err)
		return
	}
	x := m.Input("x", 1) // (1, 1, 32, 32, 32)
	gorgonia.Let(x, tensor.New(tensor.WithShape(1, 1, 32, 32, 32), tensor.WithBacking(make([]float32, 32*32*32))))
	logits, err := m.Forward(x)
	if err != nil {
		fmt.Println(err)
		return
	}
	vm := gorgonia.NewTapeMachine(m.Graph())
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("logits", logits.Shape(), "parameters", m.NumParams())
	fmt.Println("first parameter", m.Parameters()[0].Name)

	dir, _ := os.MkdirTemp("", "unetlab")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "unet.safetensors")
	if err := m.Save(path); err != nil {
		fmt.Println(err)
		return
	}
	m2, _ := models.New(models.Small(models.UNet))
	fmt.Println("load:", m2.Load(path))
	// Output:
	// logits (1, 2, 32, 32, 32) parameters 350466
	// first parameter encoder.conv_blocks.0.conv_block_1.convolution.weight
	// load: <nil>
}
