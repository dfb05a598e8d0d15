// Package models builds the networks of "U-net Design Comparison on Medical
// Image Segmentation Tasks" (Boschet, Detry, Gagne; MAIS 2023): the U-net and
// its seven variants, configurable by one Config, with analytic parameter and
// compute counts (Summary) and weights in the safetensors format under the
// PyTorch module names of the authors' code (MONAI's names for SwinUNETR).
//
// Tensors are laid out (N, C, D, H, W). A Config's zero value plus an Arch is
// the paper's network: 6 levels of [32 64 128 256 380 512] channels, input
// 128^3, InstanceNorm3d without affine, LeakyReLU(0.01), ConvTranspose3d
// up-sampling and concatenated skips. Small(arch) is a CPU-sized preset.
//
// Describe(cfg) gives the Summary without building anything: a layer table
// with output shapes, parameter counts and compute counted two ways, the
// paper's (thop 0.1.1 multiply-accumulates) and true FLOPs. New(cfg) builds
// the parameters in a gorgonia graph (initialised as PyTorch does); Forward
// adds a pass on an input node and returns the logits; Save and Load move
// the weights as safetensors under PyTorch's state_dict names.
//
// Each architecture is written once (arch.go) against a builder that
// records the layer table and, given an engine, builds the graph with
// package nn. testdata/gen_torch.py holds PyTorch definitions of the same
// networks; the tests check parameter counts, state names and shapes, MAC
// counts and forward outputs against them.
package models

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/unetlab/unetlab/models/nn"
)

// ErrConfig is returned (wrapped) when a Config is invalid; the message names
// the field and the value at fault.
var ErrConfig = errors.New("models: invalid configuration")

// Arch names an architecture of the paper.
type Arch string

// The architectures of the paper (PROTOCOL.md, "Variants").
const (
	UNet              Arch = "UNet"              // two conv units per level ("DoubleConv")
	ResBlock1         Arch = "ResBlock1"         // unit2(unit1(x)) + Conv1x1(x)
	ResBlock2         Arch = "ResBlock2"         // y = unit1(x); unit3(unit2(y)) + y
	ConvNeXt          Arch = "ConvNeXt"          // 1x1 resize, then a ConvNeXt residual block
	ConvSkip          Arch = "ConvSkip"          // every skip s becomes DoubleConv(s) + s
	ConvSkipResBlock2 Arch = "ConvSkipResBlock2" // ResBlock2 everywhere, skip block without "+ s"
	TransUNet         Arch = "TransUNet"         // cross-attention on the skips
	HalfUNet          Arch = "HalfUNet"          // decoder without per-level blocks
	SwinUNETR         Arch = "SwinUNETR"         // MONAI 1.1 SwinUNETR
)

// Archs lists every architecture in the paper's order.
var Archs = []Arch{UNet, ResBlock1, ResBlock2, ConvNeXt, ConvSkip, ConvSkipResBlock2, TransUNet, HalfUNet, SwinUNETR}

// PaperChannels is the channel count per level of every convolutional
// variant in the paper (380 is really written so).
var PaperChannels = []int{32, 64, 128, 256, 380, 512}

// Activation names a non-linearity.
type Activation string

// Activations. The zero value is ActLeakyReLU with slope 0.01.
const (
	ActLeakyReLU Activation = "leakyrelu"
	ActReLU      Activation = "relu"
	ActGELU      Activation = "gelu"
)

// UpMode names the decoder's up-sampling.
type UpMode string

// Up-sampling modes. The zero value is UpConvTranspose.
const (
	// UpConvTranspose is ConvTranspose3d k2 s2 from the deeper channel count
	// to the skip's.
	UpConvTranspose UpMode = "convtranspose"
	// UpNearest and UpTrilinear interpolate (align-corners off) and keep the
	// channel count, as the authors' InterpolateUpsample does; the decoder
	// block then takes skip + deeper channels.
	UpNearest   UpMode = "nearest"
	UpTrilinear UpMode = "trilinear"
)

// SkipMode names how a skip joins the decoder path.
type SkipMode string

// Skip modes. The zero value is SkipConcat.
const (
	SkipConcat SkipMode = "concat" // torch.cat([skip, up], dim=1)
	SkipAdd    SkipMode = "add"    // up + skip (the deeper path is brought to the skip's channels)
)

// ConvNeXtVariant selects the ConvNeXt block.
type ConvNeXtVariant string

// ConvNeXt variants. The zero value is ConvNeXtAuthors.
const (
	// ConvNeXtAuthors: depthwise conv -> InstanceNorm -> 1x1 to 3C ->
	// activation -> 1x1 back to C, plus the residual.
	ConvNeXtAuthors ConvNeXtVariant = "authors"
	// ConvNeXtOriginal: depthwise 7 -> LayerNorm over channels -> Linear to
	// 4C -> GELU -> Linear back to C -> layer scale (init 1e-6), plus the
	// residual (Liu et al. 2022).
	ConvNeXtOriginal ConvNeXtVariant = "original"
)

// ConvNeXtOptions configures the ConvNeXt blocks. Zero values mean the
// defaults of the chosen variant.
type ConvNeXtOptions struct {
	Variant ConvNeXtVariant
	// Kernel is the depthwise kernel size: 0 means 3 for the authors' block
	// (their config) and 7 for the original.
	Kernel int
	// Expansion is the hidden width factor: 0 means 3 (authors) or 4 (original).
	Expansion int
	// LayerScale is the initial layer-scale value of the original block
	// (0 means 1e-6).
	LayerScale float64
}

// Query selects which path gives the queries of TransUNet's cross-attention.
type Query string

// Query sides. The zero value is QuerySkip.
const (
	// QuerySkip: query = skip, key = value = decoder path (the authors' code).
	QuerySkip Query = "skip"
	// QueryDecoder: query = decoder path, key = value = skip (the paper's text).
	// The attention output then has the decoder path's token grid and goes
	// back to the skip's size by ConvTranspose3d with kernel = stride = 2 x patch.
	QueryDecoder Query = "decoder"
)

// TransUNetOptions configures the cross-attention on the skips. Zero values
// mean the authors' settings.
type TransUNetOptions struct {
	Query Query
	// TokensPerSide is the patch-size factor: patch = skip side / TokensPerSide
	// (0 means 8, so every skip gives 8^3 tokens).
	TokensPerSide int
	// Embed is the embedding width (0 means 64).
	Embed int
	// Heads is the number of attention heads (0 means 8).
	Heads int
}

// HalfUNetVariant selects the Half-UNet decoder.
type HalfUNetVariant string

// Half-UNet variants. The zero value is HalfUNetAuthors.
const (
	// HalfUNetAuthors: ConvTranspose from the bottleneck, then repeated
	// "+ skip -> ConvTranspose"; at full resolution a 1x1 conv C0 -> 2C0,
	// DoubleConv(2C0 -> 2C0), DoubleConv(2C0 -> C0), then the head.
	HalfUNetAuthors HalfUNetVariant = "authors"
	// HalfUNetLu: Lu et al. 2022 in 3D: every level has the same width
	// (HalfUNetOptions.Width), blocks of two ghost modules (3x3x3 conv to
	// half the width and a depthwise 3x3x3 conv on it, each with the
	// configured norm and activation, concatenated), full-scale fusion
	// (every level up-sampled to full resolution, by Config.Up when it
	// interpolates and trilinearly otherwise, and summed), two ghost
	// modules, then the head.
	HalfUNetLu HalfUNetVariant = "lu"
)

// HalfUNetOptions configures Half-UNet.
type HalfUNetOptions struct {
	Variant HalfUNetVariant
	// Width is the uniform channel count of the Lu variant (0 means
	// 2 x Channels[0], 64 at paper size, Lu et al.'s choice).
	Width int
}

// SwinOptions configures SwinUNETR. Zero values mean MONAI's defaults as the
// paper used them.
type SwinOptions struct {
	FeatureSize int   // 0 means 48; must be divisible by 12
	Depths      []int // nil means [2 2 2 2]
	Heads       []int // nil means [3 6 12 24]
	Window      int   // 0 means 7
	Patch       int   // 0 means 2
	MLPRatio    int   // 0 means 4
	// Merging is the patch merging at the end of each stage ("" means
	// MergingLegacy, what MONAI 1.1's SwinUNETR and so the paper used).
	Merging SwinMerging
}

// SwinMerging selects SwinUNETR's patch merging, which gathers each 2x2x2
// neighbourhood of a stage's (D, H, W, C) tokens into (D/2, H/2, W/2, 8C)
// before LayerNorm and a Linear to 2C. The values are MONAI's names for its
// downsample argument.
type SwinMerging string

const (
	// MergingLegacy is MONAI's PatchMerging ("merging", the default of
	// SwinUNETR in MONAI 1.1 and so the paper's): the 8 blocks are the
	// offsets (d, h, w) = 000, 100, 010, 001, 101, 010, 001, 111, so 010 and
	// 001 are taken twice and 110, 011 never.
	MergingLegacy SwinMerging = "merging"
	// MergingV2 is MONAI's PatchMergingV2 ("mergingv2"), the corrected
	// merging: each of the 8 offsets once, in itertools.product order
	// 000, 001, 010, 011, 100, 101, 110, 111.
	MergingV2 SwinMerging = "mergingv2"
)

// Config describes one network. The zero value plus an Arch is the paper's
// network; Small returns a CPU-sized preset.
type Config struct {
	Arch Arch
	// InChannels is the number of image channels (MONAI's in_channels; 0
	// means 1).
	InChannels int
	// Classes is the number of output channels, one logit per class
	// background included (MONAI's out_channels; 0 means 2). It keeps the
	// name Classes because the losses, metrics and records count classes.
	Classes int
	// Channels per level, shallow to deep (MONAI's channels; nil means
	// PaperChannels). Level i runs at InputSize / 2^i: every stride is 2, so
	// there is no Strides field (MONAI's strides would be all 2). Ignored by
	// SwinUNETR.
	Channels []int
	// InputSize is (D, H, W) in voxels (zero means 128^3); each side must be
	// divisible by 2^(len(Channels)-1) (32 for SwinUNETR).
	InputSize [3]int
	// Batch is the batch size used for compute counts (0 means 2, the paper's).
	Batch int

	// Norm is the normalisation after each convolution: nn.NormInstance
	// (the zero value; affine per NormAffine), nn.NormBatch (always affine)
	// or nn.NormNone. MONAI's UNet calls it norm.
	Norm          nn.NormKind
	NormAffine    bool // InstanceNorm with a learnt scale and shift
	Activation    Activation
	NegativeSlope float64 // LeakyReLU slope; 0 means 0.01
	Up            UpMode
	Skip          SkipMode

	ConvNeXt  ConvNeXtOptions
	TransUNet TransUNetOptions
	HalfUNet  HalfUNetOptions
	Swin      SwinOptions
}

// Paper returns the paper's configuration of arch (the zero Config plus the
// arch, with every default filled in).
func Paper(arch Arch) Config {
	return Config{Arch: arch}.WithDefaults()
}

// Small returns a CPU-sized preset of arch: 4 levels of [8 16 32 64] channels
// at 32^3 (SwinUNETR: feature size 12 at 64^3, the least size whose
// bottleneck has more than one voxel), other settings as the paper's.
func Small(arch Arch) Config {
	c := Config{Arch: arch, Channels: []int{8, 16, 32, 64}, InputSize: [3]int{32, 32, 32}}
	if arch == SwinUNETR {
		c.Swin.FeatureSize = 12
		c.InputSize = [3]int{64, 64, 64}
	}
	return c.WithDefaults()
}

// WithDefaults returns c with every zero field replaced by its default. It
// does not validate.
func (c Config) WithDefaults() Config {
	if c.InChannels == 0 {
		c.InChannels = 1
	}
	if c.Classes == 0 {
		c.Classes = 2
	}
	if c.Channels == nil {
		c.Channels = append([]int(nil), PaperChannels...)
	} else {
		c.Channels = append([]int(nil), c.Channels...)
	}
	if c.InputSize == [3]int{} {
		c.InputSize = [3]int{128, 128, 128}
	}
	if c.Batch == 0 {
		c.Batch = 2
	}
	if c.Norm == "" {
		c.Norm = nn.NormInstance
	}
	if c.Activation == "" {
		c.Activation = ActLeakyReLU
	}
	if c.NegativeSlope == 0 {
		c.NegativeSlope = 0.01
	}
	if c.Up == "" {
		c.Up = UpConvTranspose
	}
	if c.Skip == "" {
		c.Skip = SkipConcat
	}
	cn := &c.ConvNeXt
	if cn.Variant == "" {
		cn.Variant = ConvNeXtAuthors
	}
	if cn.Kernel == 0 {
		cn.Kernel = 3
		if cn.Variant == ConvNeXtOriginal {
			cn.Kernel = 7
		}
	}
	if cn.Expansion == 0 {
		cn.Expansion = 3
		if cn.Variant == ConvNeXtOriginal {
			cn.Expansion = 4
		}
	}
	if cn.LayerScale == 0 {
		cn.LayerScale = 1e-6
	}
	t := &c.TransUNet
	if t.Query == "" {
		t.Query = QuerySkip
	}
	if t.TokensPerSide == 0 {
		t.TokensPerSide = 8
	}
	if t.Embed == 0 {
		t.Embed = 64
	}
	if t.Heads == 0 {
		t.Heads = 8
	}
	h := &c.HalfUNet
	if h.Variant == "" {
		h.Variant = HalfUNetAuthors
	}
	if h.Width == 0 && len(c.Channels) > 0 {
		h.Width = 2 * c.Channels[0]
	}
	s := &c.Swin
	if s.FeatureSize == 0 {
		s.FeatureSize = 48
	}
	if s.Depths == nil {
		s.Depths = []int{2, 2, 2, 2}
	} else {
		s.Depths = append([]int(nil), s.Depths...)
	}
	if s.Heads == nil {
		s.Heads = []int{3, 6, 12, 24}
	} else {
		s.Heads = append([]int(nil), s.Heads...)
	}
	if s.Window == 0 {
		s.Window = 7
	}
	if s.Patch == 0 {
		s.Patch = 2
	}
	if s.Merging == "" {
		s.Merging = MergingLegacy
	}
	if s.MLPRatio == 0 {
		s.MLPRatio = 4
	}
	return c
}

// maxLevels bounds len(Config.Channels): the input side must be divisible
// by 2^(levels-1), which must fit an int (at 65 levels it wrapped to 0 and
// Validate divided by zero); 2^30 voxels a side is far beyond any volume.
const maxLevels = 31

func cfgErr(field string, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s", ErrConfig, field, fmt.Sprintf(format, args...))
}

// Validate fills in the defaults and checks c. The error wraps ErrConfig and
// names the one field at fault, its value and the rule:
// "models: invalid configuration: Classes -1: want > 0".
func (c Config) Validate() error {
	_, err := c.resolve()
	return err
}

// resolve returns c with defaults, checked.
func (c Config) resolve() (Config, error) {
	c = c.WithDefaults()
	known := false
	for _, a := range Archs {
		if c.Arch == a {
			known = true
		}
	}
	if !known {
		names := make([]string, len(Archs))
		for i, a := range Archs {
			names[i] = string(a)
		}
		return c, cfgErr("Arch", "%q is not one of %s", c.Arch, strings.Join(names, ", "))
	}
	if c.InChannels < 0 {
		return c, cfgErr("InChannels", "%d: want > 0", c.InChannels)
	}
	if c.Classes < 0 {
		return c, cfgErr("Classes", "%d: want > 0", c.Classes)
	}
	if c.Batch < 0 {
		return c, cfgErr("Batch", "%d: want > 0", c.Batch)
	}
	for i, s := range c.InputSize {
		if s <= 0 {
			return c, cfgErr("InputSize", "%v: side %d is %d, want > 0", c.InputSize, i, s)
		}
	}
	switch c.Norm {
	case nn.NormInstance, nn.NormBatch, nn.NormNone:
	default:
		return c, cfgErr("Norm", "%q: want %q, %q or %q", c.Norm, nn.NormInstance, nn.NormBatch, nn.NormNone)
	}
	switch c.Activation {
	case ActLeakyReLU, ActReLU, ActGELU:
	default:
		return c, cfgErr("Activation", "%q: want %q, %q or %q", c.Activation, ActLeakyReLU, ActReLU, ActGELU)
	}
	if !(c.NegativeSlope >= 0) || math.IsInf(c.NegativeSlope, 0) {
		return c, cfgErr("NegativeSlope", "%g: want a finite slope >= 0", c.NegativeSlope)
	}
	switch c.Up {
	case UpConvTranspose, UpNearest, UpTrilinear:
	default:
		return c, cfgErr("Up", "%q: want %q, %q or %q", c.Up, UpConvTranspose, UpNearest, UpTrilinear)
	}
	switch c.Skip {
	case SkipConcat, SkipAdd:
	default:
		return c, cfgErr("Skip", "%q: want %q or %q", c.Skip, SkipConcat, SkipAdd)
	}
	if c.Arch == SwinUNETR {
		return c, c.validateSwin()
	}
	if len(c.Channels) < 2 || len(c.Channels) > maxLevels {
		return c, cfgErr("Channels", "%v: %d levels, want 2..%d", c.Channels, len(c.Channels), maxLevels)
	}
	for i, ch := range c.Channels {
		if ch <= 0 {
			return c, cfgErr("Channels", "%v: level %d has %d channels, want > 0", c.Channels, i, ch)
		}
	}
	f := 1 << (len(c.Channels) - 1)
	for i, s := range c.InputSize {
		if s%f != 0 {
			return c, cfgErr("InputSize", "%v: side %d (%d) is not divisible by 2^(levels-1) = %d for %d levels", c.InputSize, i, s, f, len(c.Channels))
		}
	}
	if c.Norm == nn.NormInstance && (c.InputSize[0]/f)*(c.InputSize[1]/f)*(c.InputSize[2]/f) < 2 {
		return c, cfgErr("InputSize", "%v: the bottleneck has one voxel, which InstanceNorm cannot normalise; give a larger input or fewer levels", c.InputSize)
	}
	if c.Skip == SkipAdd && c.Up != UpConvTranspose {
		return c, cfgErr("Up", "%q with Skip %q: interpolation keeps the deeper channel count, which cannot be added to the skip; use %q", c.Up, c.Skip, UpConvTranspose)
	}
	switch c.Arch {
	case ConvNeXt:
		cn := c.ConvNeXt
		if cn.Variant != ConvNeXtAuthors && cn.Variant != ConvNeXtOriginal {
			return c, cfgErr("ConvNeXt.Variant", "%q: want %q or %q", cn.Variant, ConvNeXtAuthors, ConvNeXtOriginal)
		}
		if cn.Kernel < 0 || cn.Kernel%2 == 0 {
			return c, cfgErr("ConvNeXt.Kernel", "%d: want a positive odd size", cn.Kernel)
		}
		if cn.Expansion < 0 {
			return c, cfgErr("ConvNeXt.Expansion", "%d: want > 0", cn.Expansion)
		}
	case TransUNet:
		t := c.TransUNet
		if t.Query != QuerySkip && t.Query != QueryDecoder {
			return c, cfgErr("TransUNet.Query", "%q: want %q or %q", t.Query, QuerySkip, QueryDecoder)
		}
		if t.TokensPerSide < 0 {
			return c, cfgErr("TransUNet.TokensPerSide", "%d: want > 0", t.TokensPerSide)
		}
		if t.Embed < 0 || t.Heads <= 0 || t.Embed%t.Heads != 0 {
			return c, cfgErr("TransUNet.Heads", "embed %d is not divisible by %d heads", t.Embed, t.Heads)
		}
		if t.TokensPerSide%2 != 0 {
			return c, cfgErr("TransUNet.TokensPerSide", "%d: want an even count (the decoder path, half the skip's side, is cut by the skip's patch)", t.TokensPerSide)
		}
		// The deepest skip is at InputSize / 2^(levels-2); its patch is
		// side / TokensPerSide.
		deep := 1 << (len(c.Channels) - 2)
		for i, s := range c.InputSize {
			if side := s / deep; side%t.TokensPerSide != 0 {
				return c, cfgErr("InputSize", "%v: side %d is %d at the deepest skip, want a multiple of TokensPerSide (%d)", c.InputSize, i, side, t.TokensPerSide)
			}
		}
	case HalfUNet:
		h := c.HalfUNet
		if h.Variant != HalfUNetAuthors && h.Variant != HalfUNetLu {
			return c, cfgErr("HalfUNet.Variant", "%q: want %q or %q", h.Variant, HalfUNetAuthors, HalfUNetLu)
		}
		if h.Variant == HalfUNetAuthors && c.Up != UpConvTranspose {
			return c, cfgErr("Up", "%q: the authors' Half-UNet sums skips after ConvTranspose3d and needs %q", c.Up, UpConvTranspose)
		}
		if h.Width <= 0 || h.Width%2 != 0 {
			return c, cfgErr("HalfUNet.Width", "%d: want a positive even count (ghost modules split it in two)", h.Width)
		}
	}
	return c, nil
}

func (c Config) validateSwin() error {
	s := c.Swin
	if s.FeatureSize <= 0 || s.FeatureSize%12 != 0 {
		return cfgErr("Swin.FeatureSize", "%d: want a positive multiple of 12", s.FeatureSize)
	}
	if len(s.Depths) != 4 {
		return cfgErr("Swin.Depths", "%v: want 4 stages", s.Depths)
	}
	if len(s.Heads) != 4 {
		return cfgErr("Swin.Heads", "%v: want 4 stages", s.Heads)
	}
	for i := range 4 {
		if s.Depths[i] <= 0 {
			return cfgErr("Swin.Depths", "%v: stage %d has depth %d, want > 0", s.Depths, i, s.Depths[i])
		}
		dim := s.FeatureSize << i
		if s.Heads[i] <= 0 || dim%s.Heads[i] != 0 {
			return cfgErr("Swin.Heads", "%v: stage %d width %d is not divisible by %d heads", s.Heads, i, dim, s.Heads[i])
		}
	}
	if s.Window <= 0 {
		return cfgErr("Swin.Window", "%d: want > 0", s.Window)
	}
	if s.Patch != 2 {
		return cfgErr("Swin.Patch", "%d: the decoder's five x2 up-samplings need patch 2", s.Patch)
	}
	if s.MLPRatio <= 0 {
		return cfgErr("Swin.MLPRatio", "%d: want > 0", s.MLPRatio)
	}
	if s.Merging != MergingLegacy && s.Merging != MergingV2 {
		return cfgErr("Swin.Merging", "%q: want %q or %q", s.Merging, MergingLegacy, MergingV2)
	}
	for i, v := range c.InputSize {
		if v%32 != 0 {
			return cfgErr("InputSize", "%v: side %d (%d) is not divisible by patch^5 = 32", c.InputSize, i, v)
		}
	}
	if c.InputSize[0]*c.InputSize[1]*c.InputSize[2] < 2*32*32*32 {
		return cfgErr("InputSize", "%v: the bottleneck (input / 32) has one voxel, which InstanceNorm cannot normalise; use 64 or more on a side", c.InputSize)
	}
	return nil
}
