#!/bin/sh
# Runs bench_vlm and bench_transformers.py on the same shapes back to back and prints, for each
# measurement, the project's seconds, transformers' and the ratio (transformers' time over the
# project's: above 1 means the project is faster). Transformers runs under each environment
# given in MPA_REFERENCE_ENVS (default: plain, and the huge-page malloc the project uses) and
# its best is kept, as the issue that asked for this did. Extra arguments go to both benchmarks.
#   TRANSFORMERS_SRC=/path/to/transformers/src sh tests/bench/compare_with_transformers.sh --layers 4
# Exits 77 (skipped) when transformers cannot be imported.
set -eu
cd "$(dirname "$0")/../.."
BENCH="${BENCH_VLM:-build/tests/bench/bench_vlm}"
PY="${PYTHON:-python3}"
[ -n "${TRANSFORMERS_SRC:-}" ] && export PYTHONPATH="$TRANSFORMERS_SRC${PYTHONPATH:+:$PYTHONPATH}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
if ! "$PY" -c "import transformers" >/dev/null 2>&1; then
  echo "compare_with_transformers: skipped, $PY cannot import transformers (set TRANSFORMERS_SRC or PYTHON)"
  exit 77
fi
"$BENCH" "$@" | tee "$out/project.txt"
# The same kernel choice the project's launch environment makes, for a like-for-like GEMM.
core="$(grep -o 'OpenBLAS core [A-Za-z]*' "$out/project.txt" | head -n1 | awk '{print $3}')"
i=0
for envs in ${MPA_REFERENCE_ENVS:-"GLIBC_TUNABLES=" "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}; do
  i=$((i + 1))
  env OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-$core}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" $envs \
    "$PY" tests/bench/bench_transformers.py "$@" | tee "$out/reference$i.txt"
done
# [key seconds] tags: the project's, then the best (lowest) of the reference runs.
sed -n 's/.*\[\([a-z0-9_]*\) \([0-9.]*\)\]$/\1 \2/p' "$out/project.txt" > "$out/p"
cat "$out"/reference*.txt | sed -n 's/.*\[\([a-z0-9_]*\) \([0-9.]*\)\]$/\1 \2/p' \
  | sort -k1,1 -k2,2g | awk '!seen[$1]++' > "$out/r"
echo
printf '%-18s %12s %14s %8s\n' measurement "project s" "transformers s" ratio
awk 'NR == FNR { ref[$1] = $2; next } ($1 in ref) && $2 > 0 { printf "%-18s %12.4f %14.4f %8.2f\n", $1, $2, ref[$1], ref[$1] / $2 }' "$out/r" "$out/p"
