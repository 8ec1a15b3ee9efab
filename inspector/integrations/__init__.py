"""Recording where people train: DDP/torchrun, AMP, torch.compile, Lightning, Hugging Face.

Everything here is a thin adapter over ``inspector.watch`` / ``Recorder``. The framework
callbacks live in ``inspector.integrations.lightning`` and ``inspector.integrations.transformers``
and import their framework only when imported themselves: ``import inspector`` (and this
package) never pulls in Lightning or transformers.
"""
