"""hostmem.EmbeddingBag as a PyTorch operator (torch.library.custom_op, forward only):
torch.ops.hostmem.embedding_bag(bag_id, dim, indices, offsets, per_sample_weights).
Registered the first time it is asked for, so importing hostmem never imports torch."""
import itertools
import threading
import weakref

_bags = weakref.WeakValueDictionary()
_ids = itertools.count(1)
_lock = threading.Lock()
_registered = False


def bag_id(bag):
    """A number the operator knows `bag` by (operators take tensors and numbers, not objects)."""
    with _lock:
        if getattr(bag, "_op_id", None) is None:
            bag._op_id = next(_ids)
            _bags[bag._op_id] = bag
        return bag._op_id


def register():
    """Defines torch.ops.hostmem.embedding_bag once; returns it."""
    global _registered
    import torch
    from typing import Optional

    with _lock:
        if not _registered:
            @torch.library.custom_op("hostmem::embedding_bag", mutates_args=())
            def embedding_bag(bag: int, dim: int, indices: torch.Tensor, offsets: torch.Tensor,
                              per_sample_weights: Optional[torch.Tensor] = None) -> torch.Tensor:
                owner = _bags.get(bag)
                if owner is None:
                    raise RuntimeError(f"hostmem: no live EmbeddingBag with id {bag}")
                weights = None if per_sample_weights is None else per_sample_weights.detach().cpu().numpy()
                pooled = owner(indices.detach().cpu().numpy(), offsets.detach().cpu().numpy(), per_sample_weights=weights)
                return torch.from_numpy(pooled)

            @embedding_bag.register_fake
            def _(bag, dim, indices, offsets, per_sample_weights=None):
                return indices.new_empty((offsets.shape[0], dim), dtype=torch.float32)

            _registered = True
    return torch.ops.hostmem.embedding_bag
