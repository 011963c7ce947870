import os
import subprocess

import pytest

import fcnlab

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def test_slurm_wrapper_maps_the_task_variables():
    env = dict(os.environ, SLURM_PROCID="5", SLURM_NTASKS="8", SLURM_LOCALID="1",
               SLURM_JOB_NODELIST="node[3-4]", MASTER_ADDR="node3")
    env.pop("MASTER_PORT", None)
    out = subprocess.run([os.path.join(ROOT, "scripts", "slurm-train.sh"), "env"], env=env,
                         check=True, capture_output=True, text=True).stdout
    variables = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    assert (variables["RANK"], variables["WORLD_SIZE"], variables["LOCAL_RANK"]) == ("5", "8", "1")
    assert (variables["MASTER_ADDR"], variables["MASTER_PORT"]) == ("node3", "29500")


def test_slurm_wrapper_outside_slurm_says_so():
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    run = subprocess.run([os.path.join(ROOT, "scripts", "slurm-train.sh"), "true"], env=env,
                         capture_output=True, text=True)
    assert run.returncode == 2 and "through srun" in run.stderr


def test_a_single_process_trainer_is_rank_0_of_1(tmp_path):
    fcnlab.synth_voc(str(tmp_path / "voc.tar"), images=4, seed=2, max_side=32)
    fcnlab.prepare_voc(str(tmp_path / "voc.tar"), str(tmp_path / "voc"))
    dataset = fcnlab.VOCSegmentation.prepared(str(tmp_path / "voc"), "train")
    trainer = fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, epochs=1,
                             output_dir=str(tmp_path / "out"), threads=2)
    assert (trainer.rank, trainer.world_size) == (0, 1)
    assert trainer.gradient_backend == ""
    with pytest.raises(ValueError, match="the nccl backend sums CUDA tensors"):
        fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, epochs=1, distributed_backend="nccl",
                       output_dir=str(tmp_path / "out"), threads=2)
