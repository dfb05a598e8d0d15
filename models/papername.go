package models

// paperNames are the designs' names as the paper's tables and figures
// print them.
var paperNames = map[Arch]string{
	UNet:              "U-net",
	ResBlock1:         "Resblock-1",
	ResBlock2:         "Resblock-2",
	ConvNeXt:          "ConvNext",
	ConvSkip:          "Conv-Skip",
	ConvSkipResBlock2: "Conv-Skip-Resblock-2",
	TransUNet:         "Trans-Unet",
	HalfUNet:          "Half-UNet",
	SwinUNETR:         "Swin-UNETR",
}

// PaperName returns the design's name as the paper's tables and figures
// write it ("U-net", "Conv-Skip-Resblock-2", "Swin-UNETR"), for labelling
// results the way the paper does; an Arch the paper does not have gives its
// own string.
func (a Arch) PaperName() string {
	if n, ok := paperNames[a]; ok {
		return n
	}
	return string(a)
}
