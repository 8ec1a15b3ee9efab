"""PyTorch Lightning: ``InspectorCallback`` records a ``Trainer.fit`` like ``inspector.watch``.

    from inspector.integrations.lightning import InspectorCallback
    trainer = lightning.pytorch.Trainer(callbacks=[InspectorCallback()])

Recording starts at ``on_fit_start`` on the LightningModule (under DDP, rank 0 records),
validation and the sanity check are not recorded, ``on_train_batch_end`` ends one step per
optimizer step (with the step's ``loss``; micro-batches of ``accumulate_grad_batches`` are
merged), and the run ends with ``on_fit_end`` (finished) or ``on_exception`` (failed or
interrupted). Cadence follows ``Trainer(log_every_n_steps=N)`` when set (Lightning's default
50 counts as unset: Inspector's default schedule, dense early) unless ``every`` is given;
the run is named after the logger's version. Mixed precision with a GradScaler
(``precision="16-mixed"``) is unscaled automatically.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl

from inspector.integrations.callback_session import WatchSession, first_loss

# Trainer(log_every_n_steps=None) becomes 50: that value counts as "not given"
LIGHTNING_DEFAULT_LOG_EVERY = 50


class InspectorCallback(pl.Callback):
    """Record the LightningModule's layers while ``Trainer.fit`` runs.

    ``run`` / ``root`` / ``every`` and any other keyword (``exact``, ``types``, ``include``,
    ``ranks``...) are passed to ``inspector.watch``.
    """

    def __init__(
        self,
        run: str | None = None,
        root: Any = None,
        *,
        every: Any = None,
        **watch_kwargs: Any,
    ) -> None:
        super().__init__()
        self.session = WatchSession(run, root, every, watch_kwargs)

    @property
    def recorder(self) -> Any:
        return self.session.recorder

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        logger = trainer.logger
        run, meta = None, {"framework": {"name": "lightning", "version": pl.__version__}}
        if logger is not None:
            version = logger.version
            version = f"version_{version}" if isinstance(version, int) else str(version)
            run = f"{type(pl_module).__name__}-{version}"
            meta["framework"]["logger"] = {"name": logger.name, "version": version}
        scaler = getattr(trainer.precision_plugin, "scaler", None)
        every = trainer.log_every_n_steps
        if every == LIGHTNING_DEFAULT_LOG_EVERY:  # not given: Inspector's default schedule
            every = None
        self.session.start(pl_module, run, every, meta, scaler, trainer.global_step)

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.session.pause()

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.session.resume()

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        loss = first_loss(outputs)
        self.session.step(trainer.global_step, loss=loss)

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.session.end()

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        self.session.end(exception)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self.session.end()  # only if neither on_fit_end nor on_exception closed it
