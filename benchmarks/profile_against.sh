#!/bin/bash
# Seconds per step of configs/phenomenon/cycles_e2_ep15.yaml: an older commit against this tree (fp32 and
# mixed_precision: bf16), one after the other on one thread, each with the load before and after.
#
#   bash benchmarks/profile_against.sh [COMMIT] [PROFILER_COMMIT] [OUT]
#
# COMMIT (default 87ad998, before issue 15) is unpacked with `git archive`; its own profile script may be broken,
# so PROFILER_COMMIT (default e234ab8, the first fixed benchmarks/profile_train_step.py that runs on it) supplies
# the script. Needs the SFT start runs/phenomenon/sft/model_ep15 (entropy-dynamics sft configs/phenomenon/sft.yaml).
set -eu
COMMIT=${1:-87ad998}
PROFILER=${2:-e234ab8}
OUT=${3:-runs/profile_against}
ROOT=$(git rev-parse --show-toplevel)
PY=${PYTHON:-python}
OUT=$(cd "$ROOT" && mkdir -p "$OUT" && cd "$OUT" && pwd)  # absolute, relative paths from the repository root
OLD=$(mktemp -d)
git -C "$ROOT" archive "$COMMIT" | tar -x -C "$OLD"
git -C "$ROOT" show "$PROFILER:benchmarks/profile_train_step.py" > "$OLD/benchmarks/profile_train_step.py"
ln -s "$ROOT/runs" "$OLD/runs"
profile() {  # name dir extra-args...
  local name=$1 dir=$2; shift 2
  (cd "$dir" && uptime > "$OUT/$name.txt" && PYTHONPATH=$dir OMP_NUM_THREADS=1 $PY \
    benchmarks/profile_train_step.py configs/phenomenon/cycles_e2_ep15.yaml --steps 5 "$@" >> "$OUT/$name.txt" 2>&1
   uptime >> "$OUT/$name.txt")
  grep -E "s/step" "$OUT/$name.txt"
}
profile "$COMMIT" "$OLD"
profile now_fp32 "$ROOT"
profile now_bf16 "$ROOT" --set mixed_precision=bf16
rm -rf "$OLD"
