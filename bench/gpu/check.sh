#!/usr/bin/env bash
# bench/gpu/check.sh: the CUDA backend's check on a GPU machine (issue 16).
#
#   make gpu-build                   here: the binaries, gzipped, into build/gpu/
#   bench/gpu/check.sh               there, from the repository root, in one
#                                    run of at most GPU_CHECK_BUDGET seconds
#                                    (default 330); figures into $OUT
#   bench/gpu/check.sh --dry-run     here: the same steps on the emulated
#                                    device at tiny sizes, PyTorch on the CPU
#                                    where it imports; figures into
#                                    build/gpu/out-dry/ (or $OUT)
#
# Steps, most important first (a step starts only while the budget lasts,
# and is killed at its limit; a skipped or killed step is recorded):
#   info      nvidia-smi, PyTorch's view of the GPU
#   grads     each network's training step on the GPU against the CPU
#             engine: loss, every gradient, CPU fallbacks, copies
#   unet      the U-net (paper configuration) at 128^3 batch 2, trained by
#             train.Fit for 3 epochs of 2 steps, beside PyTorch eager on
#             the same shapes
#   tests     the GPU tests: internal/cuda, models/nn's device tests on
#             cuda, train's device tests (Fit, resume across devices, CV,
#             LR objective, Predictor) on cuda
#   grads32   the step check again at the models.Small presets (32^3)
#   bench     every other network's training step, Go beside PyTorch,
#             paper configuration at 128^3 batch 2
#   summary   $OUT/summary.md from the RESULT lines (a Go run killed at
#             its limit reports the epochs it finished: "epoch" lines)
#
# Every Go and Python figure is a line "RESULT {json}"; the whole output is
# appended to $OUT/log.txt as it comes, the RESULT lines to
# $OUT/results.jsonl after each step, GPU memory in use sampled every 0.2 s
# to $OUT/gpumem.csv. Four files in $OUT in all (the device tool returns 8).
# The exit status is 1 when a step failed or was killed at its limit (the
# summary's Steps table says which), 0 otherwise; steps skipped for the
# budget are listed there, not failures.
set -u -o pipefail
cd "$(dirname "$0")/../.."
root=$PWD
dry=0
if [ "${1:-}" = --dry-run ]; then dry=1; fi
bin=$root/build/gpu
if [ -z "${OUT:-}" ]; then
	OUT=$bin/out
	[ $dry = 1 ] && OUT=$bin/out-dry
	rm -rf "$OUT"
fi
mkdir -p "$OUT"
budget=${GPU_CHECK_BUDGET:-330}
[ $dry = 1 ] && budget=${GPU_CHECK_BUDGET:-300}
# GPU_CHECK_SCALE multiplies every step's limit (a dry run on a loaded
# machine: GPU_CHECK_SCALE=4 GPU_CHECK_BUDGET=1200).
scale=${GPU_CHECK_SCALE:-1}
log=$OUT/log.txt
results=$OUT/results.jsonl
: >"$log"
: >"$results"
work=$(mktemp -d)
sampler=
cleanup() {
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
export PYTHONUNBUFFERED=1 GOTRACEBACK=all

say() { echo "check.sh: $*" | tee -a "$log"; }
record() { echo "$1" >>"$results"; echo "RESULT $1" >>"$log"; }

if ! ls "$bin"/*.gz >/dev/null 2>&1; then
	say "no binaries in $bin: run make gpu-build first (and carry build/gpu)"
	exit 2
fi
for f in "$bin"/*.gz; do
	b=$work/$(basename "$f" .gz)
	gzip -dc "$f" >"$b" && chmod +x "$b"
done

device=cuda
py=${PYTHON:-python3}
if [ $dry = 1 ]; then
	device=emulated
	# Debian's python3-torch where pyenv's python3 has none.
	if ! "$py" -c 'import torch' 2>/dev/null && /usr/bin/python3 -c 'import torch' 2>/dev/null; then py=/usr/bin/python3; fi
fi
torchdev=cuda
[ $dry = 1 ] && torchdev=cpu
havetorch=1
"$py" -c 'import torch' 2>/dev/null || havetorch=0

start=$SECONDS
# step NAME LIMIT DIR [ENV=V ...] CMD...: run CMD in DIR for at most LIMIT
# seconds (less when the budget runs out), its output into the log; then
# its RESULT lines and go test's PASS/FAIL/SKIP lines into results.jsonl and
# one record of the step (rc 124: killed at its limit).
step() {
	local name=$1 limit=$(($2 * scale)) dir=$3
	shift 3
	local left=$((budget - (SECONDS - start)))
	if [ $left -lt 15 ]; then
		say "$name: skipped, ${left}s of the budget left"
		record "{\"kind\":\"step\",\"step\":\"$name\",\"skipped\":\"budget\"}"
		return
	fi
	[ $limit -gt $((left - 5)) ] && limit=$((left - 5))
	say "$name: limit ${limit}s: $*"
	local t0=$SECONDS ts
	ts=$(date +%s.%N)
	(cd "$dir" && timeout -k 15 "$limit" env "$@") 2>&1 | tee "$work/cur.out" >>"$log"
	local rc=${PIPESTATUS[0]}
	grep '^RESULT ' "$work/cur.out" | sed 's/^RESULT //' >>"$results"
	grep -E '^\s*--- (PASS|FAIL|SKIP)|^(ok|FAIL|PASS)\b|^panic:' "$work/cur.out" |
		sed -E 's/\\/\\\\/g; s/"/\\"/g; s/^\s*//' |
		while IFS= read -r l; do echo "{\"kind\":\"test\",\"step\":\"$name\",\"line\":\"$l\"}"; done >>"$results"
	local te
	te=$(date +%s.%N)
	record "{\"kind\":\"step\",\"step\":\"$name\",\"rc\":$rc,\"timed_out\":$({ [ $rc = 124 ] || [ $rc = 137 ]; } && echo true || echo false),\"seconds\":$((SECONDS - t0)),\"start\":$ts,\"end\":$te}"
	echo "check.sh: $name: rc $rc in $((SECONDS - t0))s ($((budget - (SECONDS - start)))s left)"
	[ $rc = 0 ] || failed="$failed $name"
}
failed=

# GPU memory in use, every 0.2 s (the GPU machine only).
if [ $dry = 0 ] && command -v nvidia-smi >/dev/null; then
	(while :; do
		m=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits 2>/dev/null | head -1)
		echo "$(date +%s.%N),$m"
		sleep 0.2
	done) >"$OUT/gpumem.csv" &
	sampler=$!
fi

# info
if [ $dry = 0 ]; then
	step info 30 "$root" sh -c 'nvidia-smi; nvidia-smi -L'
fi
if [ $havetorch = 1 ]; then
	step torch-info 30 "$root" "$py" bench/gpu/torch_step.py info
else
	say "no PyTorch for $py: the PyTorch side is skipped"
	record '{"kind":"step","step":"torch","skipped":"no torch"}'
fi

g=$work/gpucheck
others="ResBlock1 ResBlock2 ConvNeXt ConvSkip ConvSkipResBlock2 TransUNet HalfUNet SwinUNETR"
if [ $dry = 1 ]; then
	step grads 200 "$root" "$g" grads -device emulated -size 8 \
		-archs UNet,ResBlock1,ResBlock2,ConvNeXt,ConvSkip,ConvSkipResBlock2,TransUNet,HalfUNet
	step unet-go 60 "$root" "$g" fit -device emulated -arch UNet -size 16 -channels 4,8 -batch 2 -epochs 2 -steps 1
	[ $havetorch = 1 ] && step unet-torch 60 "$root" "$py" bench/gpu/torch_step.py step --device cpu --arch UNet --size 16 --channels 4,8 --batch 2 --epochs 2 --steps 1
	step test-cuda 60 "$root/internal/cuda" "$work/cuda.test" -test.v -test.run 'TestElementwise$'
	step test-nn 60 "$root/models/nn" UNETLAB_TEST_DEVICES=emulated "$work/nn.test" -test.v -test.run 'TestDeviceActivations$'
	step test-train 120 "$root/train" UNETLAB_TEST_DEVICE=emulated "$work/train.test" -test.v -test.run 'TestFitDeviceCopies$|TestPredictDevice$'
	others="HalfUNet"
	for a in $others; do
		step "bench-go-$a" 60 "$root" "$g" fit -device emulated -arch "$a" -size 16 -channels 4,8 -batch 2 -epochs 2 -steps 1
		[ $havetorch = 1 ] && step "bench-torch-$a" 60 "$root" "$py" bench/gpu/torch_step.py step --device cpu --arch "$a" --size 16 --channels 4,8 --batch 2 --epochs 2 --steps 1
	done
else
	step grads 60 "$root" "$g" grads -device cuda -size 8
	step unet-go 100 "$root" "$g" fit -device cuda -arch UNet -paper -size 128 -batch 2 -epochs 3 -steps 2
	[ $havetorch = 1 ] && step unet-torch 45 "$root" "$py" bench/gpu/torch_step.py step --device cuda --arch UNet --paper --size 128 --batch 2 --epochs 3 --steps 2
	step test-cuda 20 "$root/internal/cuda" "$work/cuda.test" -test.v -test.run 'Driver|Fatbin'
	step test-nn 40 "$root/models/nn" UNETLAB_TEST_DEVICES=cuda "$work/nn.test" -test.v -test.run 'Device'
	step test-train 60 "$root/train" UNETLAB_TEST_DEVICE=cuda "$work/train.test" -test.v -test.run 'Device'
	step grads32 45 "$root" "$g" grads -device cuda -size 32
	for a in $others; do
		step "bench-go-$a" 25 "$root" "$g" fit -device cuda -arch "$a" -paper -size 128 -batch 2 -epochs 2 -steps 2
		[ $havetorch = 1 ] && step "bench-torch-$a" 15 "$root" "$py" bench/gpu/torch_step.py step --device cuda --arch "$a" --paper --size 128 --batch 2 --epochs 2 --steps 2
	done
fi

if [ -n "$sampler" ]; then
	kill "$sampler" 2>/dev/null
	sampler=
fi
# The summary needs only the standard library: any python3 will do.
"$py" bench/gpu/summary.py "$OUT" 2>&1 | tee -a "$log"
say "done in $((SECONDS - start))s; figures in $OUT"
if [ -n "$failed" ]; then
	say "FAILED (rc != 0 or killed at the limit):$failed"
	exit 1
fi
say "every step that ran passed"
