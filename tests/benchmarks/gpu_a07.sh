#!/usr/bin/env bash
# a07 on a GPU runner, one command: install, calibrate the gpu band, grade the reference and
# two mutants (no causal mask, no optimizer step) with --profile gpu, print times and losses.
#   bash tests/benchmarks/gpu_a07.sh            (from the repository root; needs CUDA and PyPI)
# Record the printed table in grading.toml (assignments.a07_pretraining.tasks.threshold.bars).
set -euo pipefail
cd "$(dirname "$0")/../.."
python -m venv .venv-gpu
. .venv-gpu/bin/activate
pip install -q --upgrade pip
pip install -q torch numpy safetensors nbformat nbgrader pytest pytest-timeout tiktoken regex datasets matplotlib
pip install -q --no-deps -e .
python -c "import torch; assert torch.cuda.is_available(), 'no CUDA here'; print(torch.__version__, torch.cuda.get_device_name())"
echo "== calibration: reference on 5 seeds, plus the no-mask and bigram-only models"
python tests/benchmarks/calibrate_a07.py --profile gpu --seeds 1-5 --mutants
echo "== benchmark: reference, time to the band and grading overhead"
python tests/benchmarks/bench_a07.py --profile gpu --seed 1
echo "== grading the reference and two mutants with --profile gpu"
python - <<'PY'
import json, tempfile, time
from pathlib import Path
from autograder import config
from autograder.grade import run
from tests.conftest import mutants_of
course = config.load(Path("."))
ref = Path("reference/a07_pretraining")
mutants = {m.name: m for m in mutants_of(course, "a07_pretraining")}
cases = [("reference", None), ("no_causal_mask", mutants["no_causal_mask"]), ("no_optimizer_step", mutants["no_optimizer_step"])]
for name, mutant in cases:
    with tempfile.TemporaryDirectory() as tmp:
        sub = ref
        if mutant is not None:
            sub = Path(tmp) / "sub"
            sub.mkdir()
            (sub / "pretrain.py").write_text(mutant.apply((ref / "pretrain.py").read_text()))
        t = time.perf_counter()
        doc = run.grade(course, "a07_pretraining", sub, Path(tmp) / "out", profile="gpu", seed=1, tasks=["threshold"])
        wall = time.perf_counter() - t
    test = next(x for x in doc["tests"] if "hidden" in x["extra_data"]["nodeid"])
    r = test["extra_data"].get("recorded", {})
    print(f"{name:>18}: {test['extra_data']['outcome']:>7}  loss {r.get('trusted_val_loss', float('nan')):.4f}  "
          f"gap {r.get('gap', float('nan')):+.4f}  band {r.get('band')}  train {r.get('train_wall_s')} s  "
          f"grading {wall:.1f} s  device {r.get('device')}")
PY
