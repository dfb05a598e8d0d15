// Package volume holds 3D medical images as data: NIfTI-1 and NIfTI-2
// reading and writing (.nii and .nii.gz), the Volume type, intensity
// normalisation, trilinear resampling and label resizing as the paper
// "U-net Design Comparison on Medical Image Segmentation Tasks" (Boschet,
// Detry, Gagne; MAIS 2023) prepares its data, and the conversion to the
// (C, D, H, W) layout a network eats.
//
// Header extensions (Header.Extensions: a CIFTI-2 file's XML, comments,
// AFNI or DICOM attributes) are read and written back, so a file read and
// written again keeps them (TestNibabelReadsOurCIFTI: nibabel still reads a
// written CIFTI-2 file as CIFTI).
//
// # Axis order
//
// A Volume keeps its voxels as NIfTI stores them: Data is the row-major
// array of shape (C, Z, Y, X), X varying fastest, so that voxel (x, y, z)
// of channel c is Data[((c*Z+z)*Y+y)*X+x]. Shape is (X, Y, Z), the NIfTI
// dim[1..3]; the channels are NIfTI's fourth dimension (the Decathlon's
// modalities). Reading and writing therefore never transpose.
//
// For a network, CDHW returns the voxels as a (C, D, H, W) tensor: AxesZYX
// (D=Z, H=Y, W=X) is the stored order and costs one copy; AxesZXY (D=Z,
// H=X, W=Y) is what the authors' code does, nibabel's (X, Y, Z, C) array
// transposed to (C, Z, X, Y). FromCDHW is the inverse.
//
// # Orientation
//
// Affine maps voxel indices to world millimetres in NIfTI's RAS+ space;
// Affine.AxisCodes names, as nibabel's aff2axcodes does, the anatomical
// direction in which each voxel axis grows ("LPS" for most Decathlon CT),
// which is what viz reads to draw every view in radiological orientation.
//
// # Sub-packages
//
// volume/decathlon opens the Medical Segmentation Decathlon layout,
// volume/phantom writes synthetic Decathlon-shaped tasks, volume/augment
// holds seeded augmentation, volume/split k-fold splits and volume/batch
// the prefetching batch loader. Their randomness comes from package rng
// (github.com/unetlab/unetlab/rng), the module's one seeded generator.
package volume
