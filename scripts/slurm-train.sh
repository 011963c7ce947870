#!/usr/bin/env bash
# Runs one rank of an fcnlab job under SLURM: maps SLURM's task variables
# to the RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT that
# fcnlab reads, then runs the given command line.
#   srun --nodes 2 --ntasks-per-node 4 scripts/slurm-train.sh build/fcnlab train voc --output-dir out
# MASTER_PORT defaults to 29500; MASTER_ADDR to the first host of the job.
set -euo pipefail
if [ -z "${SLURM_PROCID:-}" ]; then
  echo "slurm-train.sh: run it through srun (SLURM_PROCID is not set)" >&2
  exit 2
fi
export RANK=$SLURM_PROCID
export WORLD_SIZE=$SLURM_NTASKS
export LOCAL_RANK=${SLURM_LOCALID:-0}
if [ -z "${MASTER_ADDR:-}" ]; then
  MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
fi
export MASTER_ADDR
export MASTER_PORT=${MASTER_PORT:-29500}
exec "$@"
