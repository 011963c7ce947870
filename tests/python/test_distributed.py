import os
import socket
import subprocess
import threading

import pytest
import torch

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_job_given_as_a_keyword_trains_its_ranks_in_step(tmp_path):
    fcnlab.synth_voc(str(tmp_path / "voc.tar"), images=4, seed=2, max_side=32)
    fcnlab.prepare_voc(str(tmp_path / "voc.tar"), str(tmp_path / "voc"))
    dataset = fcnlab.VOCSegmentation.prepared(str(tmp_path / "voc"), "train")
    port, results, errors = free_port(), {}, []

    # Two ranks as two threads of this interpreter: the constructor and
    # train() let go of the GIL while they wait for each other.
    def rank(r):
        try:
            torch.manual_seed(r)  # different starting weights: rank 0's win
            model = fcnlab.FcnAlexNet()
            trainer = fcnlab.Trainer(
                model, dataset, epochs=1, lr=1e-3, threads=1, workers=1,
                output_dir=str(tmp_path / f"out{r}"), distributed_timeout_seconds=60,
                job={"rank": r, "world_size": 2, "master_address": "127.0.0.1",
                     "master_port": port})
            trainer.train()
            results[r] = (trainer.rank, trainer.world_size, model.state_dict())
        except Exception as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=rank, args=(r,)) for r in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    assert results[0][:2] == (0, 2) and results[1][:2] == (1, 2)
    for name, tensor in results[0][2].items():
        assert torch.equal(tensor, results[1][2][name]), name
    # Rank 0 alone writes.
    assert (tmp_path / "out0" / "model.pt").exists()
    assert not (tmp_path / "out1" / "model.pt").exists()


def test_a_job_keyword_is_checked(tmp_path):
    fcnlab.synth_voc(str(tmp_path / "voc.tar"), images=2, seed=2, max_side=32)
    fcnlab.prepare_voc(str(tmp_path / "voc.tar"), str(tmp_path / "voc"))
    dataset = fcnlab.VOCSegmentation.prepared(str(tmp_path / "voc"), "train")
    for job, message in (({"rank": 2, "world_size": 2}, r"rank 2 is not in \[0, world_size 2\)"),
                         ({"rank": 0, "world_size": 2, "port": 1}, "unknown key 'port'"),
                         ({"rank": 0, "world_size": 2, "master_port": 0},
                          "master_port 0 is not a port number")):
        with pytest.raises(ValueError, match=message):
            fcnlab.Trainer(fcnlab.FcnAlexNet(), dataset, output_dir=str(tmp_path / "out"),
                           job=job)
