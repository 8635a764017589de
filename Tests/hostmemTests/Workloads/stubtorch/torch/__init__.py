"""A stand-in for torch, for the progress hook's tests where torch is not installed: only
torch.utils.data.DataLoader, with the iterator class the hook patches."""
