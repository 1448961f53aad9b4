"""Pieces of transformers' eager decoders that both reference benchmarks (bench_torch_eager.py,
bench_torch_eager_architectures.py) run op for op; imported only once torch is known to import."""
import torch


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def cached_repeated_kv(cache, i, k, v, heads):
    """DynamicCache.update for layer i (torch.cat growth), then repeat_kv: the cached keys and
    values [b, kv_heads, length, d] copied out to every query head [b, heads, length, d]."""
    if len(cache) > i:
        cache[i] = (torch.cat([cache[i][0], k], dim=-2), torch.cat([cache[i][1], v], dim=-2))
    else:
        cache.append((k, v))
    k, v = cache[i]
    b, kv_heads, _, d = k.shape
    rep = heads // kv_heads
    k = k[:, :, None].expand(b, kv_heads, rep, k.shape[-2], d).reshape(b, heads, -1, d)
    v = v[:, :, None].expand(b, kv_heads, rep, v.shape[-2], d).reshape(b, heads, -1, d)
    return k, v
