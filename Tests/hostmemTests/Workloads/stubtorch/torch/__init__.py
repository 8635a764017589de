"""A stand-in for torch, for the progress hook's tests where torch is not installed: only
torch.utils.data.DataLoader, with the iterator class the hook patches."""

_threads = 2


def set_num_threads(count):
    global _threads
    _threads = count


def get_num_threads():
    return _threads
