"""Hooks: code that takes part in fcnlab.Trainer's loop (Trainer.add_hook)."""


class TrainerHook:
    """A base class for Trainer.add_hook(): override what you need.

    The trainer calls its own hooks first (validation, which fills the
    epoch's val_* values, then the logs, the progress line and snapshots),
    then the added ones in the order they were added. Infos are dicts with
    the keys of Trainer.on_iteration's and Trainer.on_epoch's. In a
    data-parallel job every rank calls its hooks; trainer.rank tells them
    apart.
    """

    def before_train(self, trainer):
        """When train() starts (after a resume, at the restored state)."""

    def after_step(self, trainer, info):
        """After each update; return False to stop (a snapshot is written)."""

    def after_epoch(self, trainer, info):
        """After each epoch (info is also trainer.history[-1]); False stops."""

    def after_train(self, trainer, stopped):
        """When train() returns; stopped: before its last epoch."""
