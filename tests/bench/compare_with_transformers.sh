#!/bin/sh
# Runs bench_vlm and the reference on the same shapes back to back and prints, for each
# measurement, the project's seconds, the reference's and the ratio (the reference's time over
# the project's: above 1 means the project is faster). The reference is Hugging Face
# transformers (bench_transformers.py) where a Python with it is found; otherwise, where only
# torch is, bench_torch_eager.py: transformers 4.47.1's eager op sequence written on torch,
# a lower bound on the ratio against transformers (it skips transformers' Python bookkeeping).
# The reference runs under each environment in MPA_REFERENCE_ENVS (default: plain, and the
# huge-page malloc the project uses) and its best is kept, as the issue that asked for this did.
# With --architectures first, the pair is bench_architectures (SmolVLM-256M, Qwen2.5-VL-3B's
# shapes) and bench_torch_eager_architectures.py, its eager op-sequence reference (no
# transformers script: 4.47.1 has no Qwen2.5-VL); run it once per --dtype.
# Extra arguments go to both benchmarks.
#   TRANSFORMERS_SRC=/path/to/transformers/src sh tests/bench/compare_with_transformers.sh --layers 4
#   sh tests/bench/compare_with_transformers.sh --architectures --dtype bf16
# Exits 77 (skipped) when no Python with torch is found.
set -eu
cd "$(dirname "$0")/../.."
BENCH="${BENCH_VLM:-build/tests/bench/bench_vlm}"
TRANSFORMERS_REF=tests/bench/bench_transformers.py EAGER_REF=tests/bench/bench_torch_eager.py
if [ "${1:-}" = "--architectures" ]; then
  shift
  BENCH="${BENCH_ARCHITECTURES:-build/tests/bench/bench_architectures}"
  TRANSFORMERS_REF="" EAGER_REF=tests/bench/bench_torch_eager_architectures.py
fi
[ -n "${TRANSFORMERS_SRC:-}" ] && export PYTHONPATH="$TRANSFORMERS_SRC${PYTHONPATH:+:$PYTHONPATH}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# The first Python that imports transformers, else the first that imports torch (Debian's
# python3-torch lives in /usr/bin/python3, which a pyenv python3 on PATH hides).
PY="" REF=""
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
  if [ -z "$REF" ] && [ -n "$TRANSFORMERS_REF" ] && "$candidate" -c "import transformers" >/dev/null 2>&1; then PY="$candidate" REF="$TRANSFORMERS_REF"; fi
done
if [ -z "$REF" ]; then
  for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
    if [ -z "$REF" ] && "$candidate" -c "import torch" >/dev/null 2>&1; then PY="$candidate" REF="$EAGER_REF"; fi
  done
fi
if [ -z "$REF" ]; then
  echo "compare_with_transformers: skipped, no Python here imports transformers or torch (set TRANSFORMERS_SRC or PYTHON)"
  exit 77
fi
echo "compare_with_transformers: reference $REF on $PY"
"$BENCH" "$@" | tee "$out/project.txt"
# The same kernel choice the project's launch environment makes, for a like-for-like GEMM.
# (None when the project leaves OpenBLAS's detection alone: its line then says "as detected".)
core="$(grep -o 'OpenBLAS core [A-Za-z]*' "$out/project.txt" | head -n1 | awk '{print $3}')"
[ "$core" = as ] && core=""
i=0
for envs in ${MPA_REFERENCE_ENVS:-"GLIBC_TUNABLES=" "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}; do
  i=$((i + 1))
  env ${core:+OPENBLAS_CORETYPE=$core} OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" $envs \
    "$PY" "$REF" "$@" | tee "$out/reference$i.txt"
done
# [key seconds] tags: the project's, then the best (lowest) of the reference runs.
sed -n 's/.*\[\([a-z0-9_]*\) \([0-9.]*\)\]$/\1 \2/p' "$out/project.txt" > "$out/p"
cat "$out"/reference*.txt | sed -n 's/.*\[\([a-z0-9_]*\) \([0-9.]*\)\]$/\1 \2/p' \
  | sort -k1,1 -k2,2g | awk '!seen[$1]++' > "$out/r"
echo
printf '%-18s %12s %14s %8s\n' measurement "project s" "reference s" ratio
awk 'NR == FNR { ref[$1] = $2; next } ($1 in ref) && $2 > 0 { printf "%-18s %12.4f %14.4f %8.2f\n", $1, $2, ref[$1], ref[$1] / $2 }' "$out/r" "$out/p"
