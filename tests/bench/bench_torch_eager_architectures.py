#!/usr/bin/env python3
"""bench_architectures' reference: SmolVLM-256M and Qwen2.5-VL-3B's shapes written directly on
torch, op for op as Hugging Face transformers' eager paths run them on CPU (SmolVLM / Idefics3 and
SigLIP as in transformers 4.47.1; Qwen2.5-VL, which 4.47 does not have, as in 4.49.0, the first
release with it), printing the same "[key seconds]" tags as bench_architectures so that
compare_with_transformers.sh --architectures takes the ratio in one run. Like
bench_torch_eager.py it leaves out only Python bookkeeping, so a ratio against it is a lower bound
on the ratio against transformers.

What is kept because it is where the time goes:
- SigLIP (Idefics3VisionTransformer): Conv2d patch embedding, learned positions, nn.LayerNorm,
  q/k/v/out nn.Linear with bias, scores scaled after the product, softmax upcast to float32 and cast
  back, tanh GELU, post-LayerNorm; the connector's pixel shuffle (view/permute/reshape) and Linear.
- Llama (SmolVLM's text model) and Qwen2 decoders: RMSNorm upcast to float32, rotate_half rotary,
  repeat_kv copies, the dense causal mask, float32 softmax, torch.cat cache growth, the head on the
  last row (as bench_architectures).
- Qwen2.5-VL's vision tower: get_window_index (8x8-patch windows, the merge units permuted into
  window order and back), Qwen2RMSNorm, the float32 rotary, one dense [1, S, S] additive mask per
  block built from cu_window_seqlens (or cu_seqlens for the full-attention blocks), SiLU-gated MLP
  with biases, the RMSNorm + MLP merger.

Usage: bench_torch_eager_architectures.py [--smol-layers N] [--tiles N] [--qwen-layers N]
                                           [--vision-depth N] [--dtype f32|bf16] [--reps N]
                                           [--skip-smolvlm]
"""
import argparse
import math
import statistics
import sys
import time

from reference_bench_common import describe_environment, median_seconds

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from eager_ops import cached_repeated_kv, rotate_half
except Exception as e:
    print(f"bench_torch_eager_architectures: skipped, torch is not importable here ({e})")
    sys.exit(77)


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight, self.eps = nn.Parameter(torch.ones(n)), eps

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x.to(dtype)


def eager_attention(q, k, v, mask, scale):
    """[b, h, n, d] each; transformers' eager_attention_forward for these models."""
    w = torch.matmul(q, k.transpose(-1, -2)) * scale
    if mask is not None:
        w = w + mask
    w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
    return torch.matmul(w, v)


# ---- decoders (LlamaDecoderLayer / Qwen2DecoderLayer, eager) ----

class DecoderLayer(nn.Module):
    def __init__(self, hidden, inter, heads, kv_heads, head_dim, qkv_bias, eps):
        super().__init__()
        self.heads, self.kv_heads, self.d = heads, kv_heads, head_dim
        self.q = nn.Linear(hidden, heads * head_dim, bias=qkv_bias)
        self.k = nn.Linear(hidden, kv_heads * head_dim, bias=qkv_bias)
        self.v = nn.Linear(hidden, kv_heads * head_dim, bias=qkv_bias)
        self.o = nn.Linear(heads * head_dim, hidden, bias=False)
        self.gate, self.up = nn.Linear(hidden, inter, bias=False), nn.Linear(hidden, inter, bias=False)
        self.down = nn.Linear(inter, hidden, bias=False)
        self.norm1, self.norm2 = RMSNorm(hidden, eps), RMSNorm(hidden, eps)

    def forward(self, x, cos, sin, mask, cache, i):
        b, n, _ = x.shape
        h = self.norm1(x)
        q = self.q(h).view(b, n, self.heads, self.d).transpose(1, 2)
        k = self.k(h).view(b, n, self.kv_heads, self.d).transpose(1, 2)
        v = self.v(h).view(b, n, self.kv_heads, self.d).transpose(1, 2)
        c, s = cos.unsqueeze(1), sin.unsqueeze(1)
        q, k = q * c + rotate_half(q) * s, k * c + rotate_half(k) * s
        k, v = cached_repeated_kv(cache, i, k, v, self.heads)
        a = eager_attention(q, k, v, None if mask is None else mask[:, :, :, :k.shape[-2]], 1 / math.sqrt(self.d))
        x = x + self.o(a.transpose(1, 2).contiguous().reshape(b, n, -1))
        h = self.norm2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Decoder(nn.Module):
    """Embedding, layers, final norm and head. For Qwen2.5-VL's text-only positions the three
    M-RoPE sections carry the same ids, so the rotary tables are the plain 1-D ones (built here
    the way Qwen2-VL's rotary builds them: the section cat costs microseconds)."""

    def __init__(self, vocab, hidden, inter, layers, heads, kv_heads, head_dim, qkv_bias, eps, theta, tied):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(DecoderLayer(hidden, inter, heads, kv_heads, head_dim, qkv_bias, eps) for _ in range(layers))
        self.norm = RMSNorm(hidden, eps)
        self.lm_head = None if tied else nn.Linear(hidden, vocab, bias=False)
        self.register_buffer("inv_freq", 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim)))

    def head(self, x):
        return (F.linear(x, self.embed.weight) if self.lm_head is None else self.lm_head(x)).float()

    def forward(self, ids, cache):
        x = self.embed(ids)
        n = x.shape[1]
        past = cache[0][0].shape[-2] if cache else 0
        positions = torch.arange(past, past + n)[None]
        freqs = (self.inv_freq[None, :, None].float() @ positions[:, None, :].float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        mask = None
        if n > 1:  # the eager path's 4-D causal mask
            mask = torch.triu(torch.full((n, past + n), torch.finfo(x.dtype).min, dtype=x.dtype), diagonal=1 + past)[None, None]
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, cache, i)
        return self.head(self.norm(x)[:, -1:])


def bench_decoder(model, prompt, decode_steps, reps, label, tag):
    ids = torch.randint(0, 49000, (1, prompt))

    def prefill():
        cache = []
        model(ids, cache)
        return cache

    s = median_seconds(prefill, reps)
    print(f"{label} text prefill, {prompt} tokens: {s:.3f} s [{tag}_prefill {s:.6f}]")
    cache = prefill()
    tok = torch.randint(0, 49000, (1, 1))
    t = time.perf_counter()
    for _ in range(decode_steps):
        model(tok, cache)
    s = (time.perf_counter() - t) / decode_steps
    print(f"{label} decode: {s * 1e3:.1f} ms/token [{tag}_decode {s:.6f}]")


# ---- SmolVLM-256M: SigLIP-base-patch16-512 + connector ----

class SiglipLayer(nn.Module):
    def __init__(self, e=768, inter=3072, heads=12):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(e, eps=1e-6), nn.LayerNorm(e, eps=1e-6)
        self.q, self.k, self.v, self.o = (nn.Linear(e, e) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(e, inter), nn.Linear(inter, e)

    def forward(self, x):
        b, n, e = x.shape
        d = e // self.heads
        h = self.ln1(x)
        q, k, v = (p(h).view(b, n, self.heads, d).transpose(1, 2) for p in (self.q, self.k, self.v))
        a = eager_attention(q, k, v, None, d ** -0.5)  # full tiles: no patch mask
        x = x + self.o(a.transpose(1, 2).reshape(b, n, e))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class SmolVision(nn.Module):
    def __init__(self, text_hidden=576, e=768, scale=4):
        super().__init__()
        self.patch = nn.Conv2d(3, e, kernel_size=16, stride=16)
        self.pos = nn.Embedding(1024, e)
        self.layers = nn.ModuleList(SiglipLayer() for _ in range(12))
        self.post = nn.LayerNorm(e, eps=1e-6)
        self.scale = scale
        self.proj = nn.Linear(e * scale * scale, text_hidden, bias=False)

    def forward(self, px):
        x = self.patch(px.to(self.patch.weight.dtype)).flatten(2).transpose(1, 2)
        x = x + self.pos(torch.arange(x.shape[1]).expand(x.shape[0], -1))
        for layer in self.layers:
            x = layer(x)
        x = self.post(x)
        n, seq, e = x.shape  # Idefics3Connector.pixel_shuffle
        side, s = int(seq ** 0.5), self.scale
        x = x.view(n, side, side, e).view(n, side, side // s, e * s).permute(0, 2, 1, 3)
        x = x.reshape(n, side // s, side // s, e * s * s).permute(0, 2, 1, 3).reshape(n, seq // (s * s), e * s * s)
        return self.proj(x)


def bench_smolvlm(dtype, name, a):
    torch.manual_seed(1)
    vision = SmolVision().eval().to(dtype)
    px = torch.randn(a.tiles, 3, 512, 512).to(dtype)
    s = median_seconds(lambda: vision(px), a.reps)
    print(f"SmolVLM-256M vision encoder, {a.tiles} tiles of 512x512: {s:.3f} s [smolvlm_vision_{name} {s:.6f}]")
    del vision
    text = Decoder(49280, 576, 1536, a.smol_layers, 9, 3, 64, False, 1e-5, 100000.0, tied=False).eval().to(dtype)
    bench_decoder(text, 17 * 64 + 24, 16, a.reps, "SmolVLM-256M", f"smolvlm_{name}")


# ---- Qwen2.5-VL-3B: decoder and windowed vision tower ----

V_DIM, V_HEADS, V_INTER, V_OUT, MERGE, WINDOW, PATCH = 1280, 16, 3420, 2048, 2, 112, 14


class Qwen25VisionBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.norm2 = RMSNorm(V_DIM, 1e-6), RMSNorm(V_DIM, 1e-6)
        self.qkv, self.proj = nn.Linear(V_DIM, 3 * V_DIM), nn.Linear(V_DIM, V_DIM)
        self.gate, self.up, self.down = nn.Linear(V_DIM, V_INTER), nn.Linear(V_DIM, V_INTER), nn.Linear(V_INTER, V_DIM)

    @staticmethod
    def rotary(q, k, cos, sin):  # apply_rotary_pos_emb_vision (4.49): float32, cast back
        dtype = q.dtype
        q, k = q.float(), k.float()
        cos, sin = cos.unsqueeze(-2), sin.unsqueeze(-2)
        return (q * cos + rotate_half(q) * sin).to(dtype), (k * cos + rotate_half(k) * sin).to(dtype)

    def forward(self, x, cu, cos, sin):
        s = x.shape[0]
        h = self.norm1(x)
        q, k, v = self.qkv(h).reshape(s, 3, V_HEADS, -1).permute(1, 0, 2, 3).unbind(0)
        q, k = self.rotary(q, k, cos, sin)
        mask = torch.full([1, s, s], torch.finfo(q.dtype).min, dtype=q.dtype)
        for i in range(1, len(cu)):
            mask[..., cu[i - 1]:cu[i], cu[i - 1]:cu[i]] = 0
        a = eager_attention(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1), mask, 1 / math.sqrt(V_DIM // V_HEADS))
        x = x + self.proj(a.transpose(0, 1).reshape(s, -1))
        h = self.norm2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Qwen25Vision(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.patch = nn.Conv3d(3, V_DIM, kernel_size=(2, PATCH, PATCH), stride=(2, PATCH, PATCH), bias=False)
        self.blocks = nn.ModuleList(Qwen25VisionBlock() for _ in range(depth))
        self.full_attention = {depth - 1}  # as bench_architectures: the last block (the real tower: every 8th)
        self.ln_q = RMSNorm(V_DIM, 1e-6)
        self.merge = nn.Sequential(nn.Linear(4 * V_DIM, 4 * V_DIM), nn.GELU(), nn.Linear(4 * V_DIM, V_OUT))
        head = V_DIM // V_HEADS // 2
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, head, 2, dtype=torch.float) / head)))

    def rot_pos_emb(self, t, h, w):
        hpos = torch.arange(h).unsqueeze(1).expand(-1, w).reshape(h // MERGE, MERGE, w // MERGE, MERGE)
        wpos = torch.arange(w).unsqueeze(0).expand(h, -1).reshape(h // MERGE, MERGE, w // MERGE, MERGE)
        ids = torch.stack([hpos.permute(0, 2, 1, 3).flatten(), wpos.permute(0, 2, 1, 3).flatten()], -1).repeat(t, 1)
        full = torch.outer(torch.arange(max(h, w), dtype=torch.float), self.inv_freq)
        return full[ids].flatten(1)

    @staticmethod
    def window_index(t, h, w):  # get_window_index for one image
        ws = WINDOW // MERGE // PATCH
        lh, lw = h // MERGE, w // MERGE
        index = torch.arange(t * lh * lw).reshape(t, lh, lw)
        pad_h, pad_w = ws - lh % ws, ws - lw % ws
        nh, nw = (lh + pad_h) // ws, (lw + pad_w) // ws
        padded = F.pad(index, (0, pad_w, 0, pad_h), "constant", -100)
        padded = padded.reshape(t, nh, ws, nw, ws).permute(0, 1, 3, 2, 4).reshape(t, nh * nw, ws, ws)
        seqlens = (padded != -100).sum([2, 3]).reshape(-1)
        padded = padded.reshape(-1)
        cu = (seqlens.cumsum(0) * MERGE * MERGE).tolist()
        return padded[padded != -100], torch.unique_consecutive(torch.tensor([0] + cu, dtype=torch.int32))

    def forward(self, pixels, t, h, w):
        x = self.patch(pixels.view(-1, 3, 2, PATCH, PATCH).to(self.patch.weight.dtype)).view(-1, V_DIM)
        rot = self.rot_pos_emb(t, h, w)
        index, cu_window = self.window_index(t, h, w)
        s, unit = x.shape[0], MERGE * MERGE
        x = x.reshape(s // unit, unit, -1)[index].reshape(s, -1)
        rot = rot.reshape(s // unit, unit, -1)[index].reshape(s, -1)
        emb = torch.cat((rot, rot), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        cu_full = F.pad(torch.tensor([h * w] * t).cumsum(0, dtype=torch.int32), (1, 0), value=0)
        for i, b in enumerate(self.blocks):
            x = b(x, cu_full if i in self.full_attention else cu_window, cos, sin)
        x = self.merge(self.ln_q(x).view(-1, 4 * V_DIM))
        return x[torch.argsort(index)]


def bench_qwen25(dtype, name, a):
    torch.manual_seed(1)
    text = Decoder(151936, 2048, 11008, a.qwen_layers, 16, 2, 128, True, 1e-6, 1000000.0, tied=True).eval().to(dtype)
    bench_decoder(text, 512, 16, a.reps, f"Qwen2.5-VL-3B shapes, {a.qwen_layers} layers,", f"qwen25_{name}")
    del text
    vision = Qwen25Vision(a.vision_depth).eval().to(dtype)
    for h, w in ((448, 448), (616, 644)):
        gh, gw = h // PATCH, w // PATCH
        px = torch.randn(gh * gw, 3 * 2 * PATCH * PATCH).to(dtype)
        s = median_seconds(lambda: vision(px, 1, gh, gw), a.reps)
        print(f"Qwen2.5-VL windowed vision tower, {a.vision_depth} blocks, {h}x{w} ({gh * gw} patches): {s:.3f} s"
              f" [qwen25_vision_{gh * gw}_{name} {s:.6f}]")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--smol-layers", type=int, default=30)
    p.add_argument("--tiles", type=int, default=4)
    p.add_argument("--qwen-layers", type=int, default=2)
    p.add_argument("--vision-depth", type=int, default=4)
    p.add_argument("--dtype", default="f32")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--skip-smolvlm", action="store_true")
    a, _ = p.parse_known_args()
    describe_environment("torch eager (transformers' SmolVLM 4.47.1 / Qwen2.5-VL 4.49.0 op sequences)", torch)
    dtype, name = (torch.bfloat16, "bf16") if a.dtype == "bf16" else (torch.float32, "f32")
    with torch.no_grad():
        if not a.skip_smolvlm:
            bench_smolvlm(dtype, name, a)
        bench_qwen25(dtype, name, a)


if __name__ == "__main__":
    main()
