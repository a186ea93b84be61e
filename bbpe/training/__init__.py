"""Training: corpus reading (``corpus``), pre-token counting (``counting``), merge loops (``bbpe.bpe``
reference, ``merge_numba`` compiled), extension of a base vocabulary (``extend``) and the entry
points ``train`` and ``train_from_counts`` (``api``)."""

from bbpe.training.api import train, train_from_counts

__all__ = ["train", "train_from_counts"]
