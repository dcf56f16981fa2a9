"""Runs a PyTorch training script with another seed: every call it makes to torch.manual_seed
and random.seed uses SEED instead of its own value. For reference trainers that fix their
seed (scripts/vs-torch-multi30k.sh --seed).
Usage: torch_seed.py SEED SCRIPT [ARGS...]"""
import random
import runpy
import sys

import torch

if len(sys.argv) < 3:
    sys.exit(__doc__)
seed, script = int(sys.argv[1]), sys.argv[2]
sys.argv = sys.argv[2:]
torch_seed, random_seed = torch.manual_seed, random.seed
torch.manual_seed = lambda _seed: torch_seed(seed)
random.seed = lambda *_args, **_kwargs: random_seed(seed)
runpy.run_path(script, run_name="__main__")
