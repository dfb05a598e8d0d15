package models

import "fmt"

// This file describes each architecture once, against the builder; the
// same code yields the Summary (no engine) and the graph (with one).
// Module names follow the authors' PyTorch code (encoder.conv_blocks.i,
// decoder.upscaling_layers.i.transpose_conv, output_layer, ...) and MONAI
// 1.1's SwinUNETR.

type blockKind int

const (
	blockDouble blockKind = iota
	blockRes1
	blockRes2
	blockConvNeXt
)

func (c Config) blockKind() blockKind {
	switch c.Arch {
	case ResBlock1:
		return blockRes1
	case ResBlock2, ConvSkipResBlock2:
		return blockRes2
	case ConvNeXt:
		return blockConvNeXt
	}
	return blockDouble
}

// build describes the network of b.cfg on input x (N, InChannels, D, H, W)
// and returns the logits (N, Classes, D, H, W).
func (b *builder) build(x val) val {
	switch b.cfg.Arch {
	case SwinUNETR:
		return b.swinUNETR(x)
	case HalfUNet:
		if b.cfg.HalfUNet.Variant == HalfUNetLu {
			return b.halfUNetLu(x)
		}
		return b.halfUNet(x)
	}
	return b.unet(x)
}

// unit is Conv3d k3 p1 with bias -> norm -> activation
// (the authors' Conv3DNormActivation: convolution, normalization, activation).
func (b *builder) unit(p string, x val, out int) val {
	x = b.conv(p+".convolution", x, out, 3, 1, 1, 1, true)
	x = b.norm(p+".normalization", x)
	return b.act(p+".activation", x)
}

// block is the level block of kind k from x's channels to out.
func (b *builder) block(p string, x val, out int, k blockKind) val {
	if !b.ok() {
		return val{}
	}
	switch k {
	case blockRes1: // ResConvBlockUnetr
		s := b.conv(p+".skip_resize", x, out, 1, 1, 0, 1, true)
		y := b.unit(p+".conv_block_1", x, out)
		y = b.unit(p+".conv_block_2", y, out)
		return b.add(p, y, s)
	case blockRes2: // ResConvBlock
		y := b.unit(p+".conv_block_1", x, out)
		z := b.unit(p+".conv_block_2", y, out)
		z = b.unit(p+".conv_block_3", z, out)
		return b.add(p, z, y)
	case blockConvNeXt:
		r := b.conv(p+".resize", x, out, 1, 1, 0, 1, true)
		cn := b.cfg.ConvNeXt
		q := p + ".convnext"
		if cn.Variant == ConvNeXtOriginal {
			y := b.conv(q+".dwconv", r, out, cn.Kernel, 1, cn.Kernel/2, out, true)
			y = b.channelsLast(y)
			y = b.layerNorm(q+".norm", y, true, 1e-6)
			y = b.linear(q+".pwconv1", y, cn.Expansion*out, true)
			y = b.activation(q+".act", y, ActGELU, 0)
			y = b.linear(q+".pwconv2", y, out, true)
			y = b.scale(q+".gamma", y, cn.LayerScale)
			y = b.channelsFirst(y)
			return b.add(q, y, r)
		}
		y := b.conv(q+".depth_conv", r, out, cn.Kernel, 1, cn.Kernel/2, out, true)
		y = b.norm(q+".normalization", y)
		y = b.conv(q+".conv1", y, cn.Expansion*out, 1, 1, 0, 1, true)
		y = b.act(q+".activation", y)
		y = b.conv(q+".conv2", y, out, 1, 1, 0, 1, true)
		return b.add(q, y, r)
	}
	y := b.unit(p+".conv_block_1", x, out) // DoubleConvBlock
	return b.unit(p+".conv_block_2", y, out)
}

// encoder is the authors' ConvEncoder: a block per level, MaxPool 2 between
// levels. It returns the bottleneck and the skips, shallow first.
func (b *builder) encoder(x val, k blockKind) (val, []val) {
	ch := b.cfg.Channels
	var skips []val
	for i, c := range ch {
		x = b.block(fmt.Sprintf("encoder.conv_blocks.%d", i), x, c, k)
		if i < len(ch)-1 {
			skips = append(skips, x)
			x = b.maxPool(fmt.Sprintf("encoder.downscaling_layers.%d", i), x)
		}
	}
	return x, skips
}

// up is the decoder's up-sampling to out channels (ConvTranspose3d) or by
// interpolation (channels kept).
func (b *builder) up(p string, x val, out int) val {
	if b.cfg.Up == UpConvTranspose {
		return b.convT(p+".transpose_conv", x, out, 2, true)
	}
	return b.upsample(p, x, 2, b.cfg.Up)
}

func (b *builder) join(p string, skip, x val) val {
	if b.cfg.Skip == SkipAdd {
		return b.add(p, x, skip)
	}
	return b.concat(p, skip, x)
}

// unet is the authors' UNet, UNetConvSkip and TransUNet: encoder, optional
// skip blocks or skip cross-attention, decoder, 1x1 head.
func (b *builder) unet(x val) val {
	k := b.cfg.blockKind()
	ch := b.cfg.Channels
	x, skips := b.encoder(x, k)
	switch b.cfg.Arch {
	case ConvSkip, ConvSkipResBlock2:
		for i, s := range skips {
			p := fmt.Sprintf("modify_skips.modif_skip.%d", i)
			y := b.block(p, s, ch[i], k)
			if b.cfg.Arch == ConvSkip { // skip_leak
				y = b.add(p, y, s)
			}
			skips[i] = y
		}
	}
	for j := 0; j < len(ch)-1; j++ {
		level := len(ch) - 2 - j
		skip := skips[level]
		if b.cfg.Arch == TransUNet {
			skip = b.skipAttention(fmt.Sprintf("decoder.attention_blocks.%d", j), skip, x)
		}
		x = b.up(fmt.Sprintf("decoder.upscaling_layers.%d", j), x, ch[level])
		x = b.join(fmt.Sprintf("decoder.conv_blocks.%d", j), skip, x)
		x = b.block(fmt.Sprintf("decoder.conv_blocks.%d", j), x, ch[level], k)
	}
	return b.conv("output_layer", x, b.cfg.Classes, 1, 1, 0, 1, true)
}

// skipAttention is the authors' PatchifyVisionMultiheadAttention: both paths
// patch-embedded (Conv3d kernel = stride = skip side / TokensPerSide, then
// BatchNorm3d), sinusoidal positions added, multi-head cross-attention, back
// to the skip's size by ConvTranspose3d, added to the skip, BatchNorm3d.
func (b *builder) skipAttention(p string, skip, dec val) val {
	if !b.ok() {
		return val{}
	}
	t := b.cfg.TransUNet
	side := min(skip.shape[2], skip.shape[3], skip.shape[4])
	patch := side / t.TokensPerSide
	if patch < 1 {
		return b.fail("models: %s: skip %v is smaller than %d tokens per side", p, shapeString(skip.shape), t.TokensPerSide)
	}
	s := b.conv(p+".patch_embed_skip.convolution", skip, t.Embed, patch, patch, 0, 1, true)
	s = b.batchNorm(p+".patch_embed_skip.normalization", s)
	d := b.conv(p+".patch_embed_decoder.convolution", dec, t.Embed, patch, patch, 0, 1, true)
	d = b.batchNorm(p+".patch_embed_decoder.normalization", d)
	va := p + ".vision_attention"
	s = b.posEnc(va+".query_pos_encoder", s)
	d = b.posEnc(va+".key_val_pos_encoder", d)
	var o val
	k := patch
	if t.Query == QueryDecoder {
		o = b.crossAttention(va+".multihead_attention_block", d, s, t.Heads)
		k = 2 * patch
	} else {
		o = b.crossAttention(va+".multihead_attention_block", s, d, t.Heads)
	}
	o = b.convT(p+".upscale_attention.transpose_conv", o, skip.shape[1], k, true)
	o = b.add(p, o, skip)
	return b.batchNorm(p+".normalization", o)
}

// halfUNet is the authors' Half-UNet (PROTOCOL.md): encoder, then
// ConvTranspose from the bottleneck and repeated "+ skip -> ConvTranspose",
// then at full resolution a 1x1 conv C0 -> 2C0, DoubleConv(2C0 -> 2C0),
// DoubleConv(2C0 -> C0) and the head.
func (b *builder) halfUNet(x val) val {
	ch := b.cfg.Channels
	x, skips := b.encoder(x, blockDouble)
	for j := 0; j < len(ch)-1; j++ {
		level := len(ch) - 2 - j
		x = b.convT(fmt.Sprintf("decoder.upscaling_layers.%d.transpose_conv", j), x, ch[level], 2, true)
		x = b.add(fmt.Sprintf("decoder.skip_add.%d", j), x, skips[level])
	}
	x = b.conv("decoder.resize", x, 2*ch[0], 1, 1, 0, 1, true)
	x = b.block("decoder.conv_blocks.0", x, 2*ch[0], blockDouble)
	x = b.block("decoder.conv_blocks.1", x, ch[0], blockDouble)
	return b.conv("output_layer", x, b.cfg.Classes, 1, 1, 0, 1, true)
}

// ghost is a ghost module (Han et al. 2020) as Half-UNet uses it: a 3x3x3
// conv to half the width, a cheap depthwise 3x3x3 conv on that, both with
// norm and activation, concatenated.
func (b *builder) ghost(p string, x val, width int) val {
	a := b.unit(p+".primary", x, width/2)
	c := b.conv(p+".cheap.convolution", a, width/2, 3, 1, 1, width/2, true)
	c = b.norm(p+".cheap.normalization", c)
	c = b.act(p+".cheap.activation", c)
	return b.concat(p, a, c)
}

// halfUNetLu is Lu et al. 2022's Half-UNet in 3D: uniform width, two ghost
// modules per level, full-scale fusion by up-sampling every level to full
// resolution and summing, two ghost modules, the head.
func (b *builder) halfUNetLu(x val) val {
	w := b.cfg.HalfUNet.Width
	mode := b.cfg.Up
	if mode == UpConvTranspose {
		mode = UpTrilinear
	}
	var fused val
	for i := range b.cfg.Channels {
		p := fmt.Sprintf("encoder.conv_blocks.%d", i)
		if i > 0 {
			x = b.maxPool(fmt.Sprintf("encoder.downscaling_layers.%d", i-1), x)
		}
		x = b.ghost(p+".ghost_1", x, w)
		x = b.ghost(p+".ghost_2", x, w)
		if i == 0 {
			fused = x
			continue
		}
		u := b.upsample(fmt.Sprintf("decoder.upsample.%d", i), x, 1<<i, mode)
		fused = b.add(fmt.Sprintf("decoder.fuse.%d", i), fused, u)
	}
	fused = b.ghost("decoder.ghost_1", fused, w)
	fused = b.ghost("decoder.ghost_2", fused, w)
	return b.conv("output_layer", fused, b.cfg.Classes, 1, 1, 0, 1, true)
}

// resBlock is MONAI's UnetResBlock (kernel 3, stride 1, instance norm without
// affine, LeakyReLU 0.01, convs without bias) inside UnetrBasicBlock.
func (b *builder) resBlock(p string, x val, out int) val {
	in := x.shape[1]
	y := b.conv(p+".conv1.conv", x, out, 3, 1, 1, 1, false)
	y = b.instanceNorm(p+".norm1", y, false)
	y = b.activation(p+".lrelu", y, ActLeakyReLU, 0.01)
	y = b.conv(p+".conv2.conv", y, out, 3, 1, 1, 1, false)
	y = b.instanceNorm(p+".norm2", y, false)
	r := x
	if in != out {
		r = b.conv(p+".conv3.conv", x, out, 1, 1, 0, 1, false)
		r = b.instanceNorm(p+".norm3", r, false)
	}
	y = b.add(p, y, r)
	return b.activation(p+".lrelu", y, ActLeakyReLU, 0.01)
}

// upBlock is MONAI's UnetrUpBlock: ConvTranspose3d k2 s2 without bias,
// torch.cat((up, skip)), UnetResBlock.
func (b *builder) upBlock(p string, x, skip val, out int) val {
	u := b.convT(p+".transp_conv.conv", x, out, 2, false)
	u = b.concat(p, u, skip)
	return b.resBlock(p+".conv_block", u, out)
}

// projOut is MONAI's proj_out(x, normalize=True): layer norm over channels
// without parameters.
func (b *builder) projOut(p string, x val) val {
	y := b.channelsLast(x)
	y = b.layerNorm(p, y, false, 1e-5)
	return b.channelsFirst(y)
}

// swinUNETR is MONAI 1.1's SwinUNETR(img_size, in_channels, out_channels,
// feature_size) with patch size 2, window 7, depths and heads of Swin.
func (b *builder) swinUNETR(x val) val {
	s := b.cfg.Swin
	fs := s.FeatureSize
	h := b.conv("swinViT.patch_embed.proj", x, fs, s.Patch, s.Patch, 0, 1, true)
	hidden := []val{b.projOut("swinViT.proj_out.0", h)}
	for i := range 4 {
		h = b.swinStage(fmt.Sprintf("swinViT.layers%d.0", i+1), h, s.Depths[i], s.Heads[i])
		hidden = append(hidden, b.projOut(fmt.Sprintf("swinViT.proj_out.%d", i+1), h))
	}
	if !b.ok() {
		return val{}
	}
	enc0 := b.resBlock("encoder1.layer", x, fs)
	enc1 := b.resBlock("encoder2.layer", hidden[0], fs)
	enc2 := b.resBlock("encoder3.layer", hidden[1], 2*fs)
	enc3 := b.resBlock("encoder4.layer", hidden[2], 4*fs)
	dec4 := b.resBlock("encoder10.layer", hidden[4], 16*fs)
	dec3 := b.upBlock("decoder5", dec4, hidden[3], 8*fs)
	dec2 := b.upBlock("decoder4", dec3, enc3, 4*fs)
	dec1 := b.upBlock("decoder3", dec2, enc2, 2*fs)
	dec0 := b.upBlock("decoder2", dec1, enc1, fs)
	out := b.upBlock("decoder1", dec0, enc0, fs)
	return b.conv("out.conv.conv", out, b.cfg.Classes, 1, 1, 0, 1, true)
}

// swinStage is MONAI's BasicLayer: depth Swin blocks (odd ones shifted by
// window/2), then PatchMerging to twice the width at half the side.
func (b *builder) swinStage(p string, x val, depth, heads int) val {
	if !b.ok() {
		return val{}
	}
	s := b.cfg.Swin
	dim := x.shape[1]
	y := b.channelsLast(x)
	for j := range depth {
		shift := 0
		if j%2 == 1 {
			shift = s.Window / 2
		}
		q := fmt.Sprintf("%s.blocks.%d", p, j)
		a := b.layerNorm(q+".norm1", y, true, 1e-5)
		a = b.windowAttention(q+".attn", a, heads, s.Window, shift)
		y = b.add(q, y, a)
		m := b.layerNorm(q+".norm2", y, true, 1e-5)
		m = b.linear(q+".mlp.linear1", m, s.MLPRatio*dim, true)
		m = b.activation(q+".mlp.fn", m, ActGELU, 0)
		m = b.linear(q+".mlp.linear2", m, dim, true)
		y = b.add(q, y, m)
	}
	y = b.patchMerge(p+".downsample", y, s.Merging == MergingLegacy)
	y = b.layerNorm(p+".downsample.norm", y, true, 1e-5)
	y = b.linear(p+".downsample.reduction", y, 2*dim, false)
	return b.channelsFirst(y)
}
