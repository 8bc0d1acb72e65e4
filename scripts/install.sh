#!/usr/bin/env bash
# Create .venv beside this repository and install booknlp-jobs into it.
#
#   bash scripts/install.sh             the service, its engine and the spaCy model
#   bash scripts/install.sh --booknlp   the same plus the booknlp package, for the
#                                       "booknlp" engine (its models come apart)
#   bash scripts/install.sh --test      all of the above plus the test tools
#
# booknlp 1.0.8 declares a TensorFlow requirement that its code never imports,
# so it is installed with --no-deps, and setup.cfg's "booknlp" extra adds what
# it does import.
#
# torch is installed first so that the project's own "torch" requirement is
# already met: a bare resolve of "torch" from PyPI pulls a CUDA build of several
# GB. TORCH_SPEC picks the version (default torch==2.13.0, which the build
# machines hold as a CPU wheel); TORCH_INDEX_URL picks the wheel index, for
# example https://download.pytorch.org/whl/cpu for a CPU-only build elsewhere,
# or https://download.pytorch.org/whl/cu128 for a given CUDA build.
set -euo pipefail

cd "$(dirname "$0")/.."
extras="model"
booknlp=0
for option in "$@"; do
  case "$option" in
    --test) extras="model,booknlp,test"; booknlp=1 ;;
    --booknlp) [[ "$extras" == *test* ]] || extras="model,booknlp"; booknlp=1 ;;
    *) echo "usage: bash scripts/install.sh [--test] [--booknlp]" >&2; exit 2 ;;
  esac
done

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi

torch_spec="${TORCH_SPEC:-torch==2.13.0}"
torch_args=()
if [[ -n "${TORCH_INDEX_URL:-}" ]]; then
  torch_args=(--index-url "$TORCH_INDEX_URL")
fi
.venv/bin/python -m pip install --quiet "${torch_args[@]}" "$torch_spec"
.venv/bin/python -m pip install --quiet -e ".[$extras]"
if [[ "$booknlp" == 1 ]]; then
  .venv/bin/python -m pip install --quiet --no-deps booknlp==1.0.8
fi
.venv/bin/python - <<'PY'
import torch
device = "CUDA " + torch.version.cuda if torch.version.cuda else "CPU"
print(f"booknlp-jobs installed in .venv (torch {torch.__version__}, {device} build)")
PY
