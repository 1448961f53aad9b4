#!/usr/bin/env python3
"""A stand-in for bench_transformers.py where transformers cannot be installed (PyPI is not
reachable from the build machines): Qwen2-VL written directly on torch, op for op as Hugging Face
transformers 4.47.1's eager Qwen2-VL runs it on CPU, on the shapes bench_vlm measures, printing
the same "[key seconds]" tags so that compare_with_transformers.sh can take the ratio in one run.

What makes it a faithful stand-in is the sequence of torch calls, which is where the time goes:
the same nn.Linear/LayerNorm/Conv3d modules, RMSNorm upcast to float32 and back, rotary built
from cos/sin tables with rotate_half concatenations (the vision one recomputed in float32 in every
block), repeat_kv copies of the key/value heads, a dense additive mask (the vision tower's
block-diagonal [1, S, S] float mask, the decoder's causal [1, 1, S, S]), softmax upcast to float32
and cast back, the key/value cache grown with torch.cat each decode step. What it leaves out is
Python-side bookkeeping (config objects, output dataclasses, hooks), which costs microseconds per
layer. Against real transformers it is therefore, if anything, slightly faster: a ratio measured
against it is a lower bound on the ratio against transformers.

Usage: bench_torch_eager.py [--layers N] [--vision-depth N] [--text N] [--decode N] [--reps N]
                            [--dtype f32|bf16|both]
"""
import math
import statistics
import sys
import time

from reference_bench_common import median_seconds, run

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from eager_ops import cached_repeated_kv, rotate_half
except Exception as e:
    print(f"bench_torch_eager: skipped, torch is not importable here ({e})")
    sys.exit(77)

# Qwen2-VL-2B's shapes (config.json of Qwen/Qwen2-VL-2B-Instruct).
HIDDEN, INTER, HEADS, KV_HEADS, VOCAB, EPS, THETA = 1536, 8960, 12, 2, 151936, 1e-6, 1000000.0
MROPE = [16, 24, 24]
V_DIM, V_HEADS, V_MLP, PATCH_IN, MERGE = 1280, 16, 5120, 3 * 2 * 14 * 14, 2




class RMSNorm(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))

    def forward(self, x):
        dtype = x.dtype
        x = x.to(torch.float32)
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS)
        return self.weight * x.to(dtype)


class VisionBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(V_DIM, eps=1e-6), nn.LayerNorm(V_DIM, eps=1e-6)
        self.qkv, self.proj = nn.Linear(V_DIM, 3 * V_DIM), nn.Linear(V_DIM, V_DIM)
        self.fc1, self.fc2 = nn.Linear(V_DIM, V_MLP), nn.Linear(V_MLP, V_DIM)

    @staticmethod
    def rotary(t, freqs):  # transformers' apply_rotary_pos_emb_vision: float32, cos/sin per call
        dtype = t.dtype
        t = t.float()
        cos = freqs.cos().unsqueeze(1).repeat(1, 1, 2).unsqueeze(0).float()
        sin = freqs.sin().unsqueeze(1).repeat(1, 1, 2).unsqueeze(0).float()
        return (t * cos + rotate_half(t) * sin).to(dtype)

    def attention(self, x, cu_seqlens, freqs):
        s = x.shape[0]
        q, k, v = self.qkv(x).reshape(s, 3, V_HEADS, -1).permute(1, 0, 2, 3).unbind(0)
        q = self.rotary(q.unsqueeze(0), freqs).squeeze(0)
        k = self.rotary(k.unsqueeze(0), freqs).squeeze(0)
        mask = torch.full([1, s, s], torch.finfo(q.dtype).min, dtype=q.dtype)
        for i in range(1, len(cu_seqlens)):
            mask[..., cu_seqlens[i - 1]:cu_seqlens[i], cu_seqlens[i - 1]:cu_seqlens[i]] = 0
        q, k, v = q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1)
        w = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(V_DIM // V_HEADS)
        w = F.softmax(w + mask, dim=-1, dtype=torch.float32).to(q.dtype)
        return self.proj(torch.matmul(w, v).transpose(0, 1).reshape(s, -1))

    def forward(self, x, cu_seqlens, freqs):
        x = x + self.attention(self.norm1(x), cu_seqlens, freqs)
        h = self.fc1(self.norm2(x))
        return x + self.fc2(h * torch.sigmoid(1.702 * h))  # QuickGELU


class Vision(nn.Module):
    def __init__(self, depth):
        super().__init__()
        self.patch = nn.Conv3d(3, V_DIM, kernel_size=(2, 14, 14), stride=(2, 14, 14), bias=False)
        self.blocks = nn.ModuleList(VisionBlock() for _ in range(depth))
        self.ln_q = nn.LayerNorm(V_DIM, eps=1e-6)
        self.merge = nn.Sequential(nn.Linear(4 * V_DIM, 4 * V_DIM), nn.GELU(), nn.Linear(4 * V_DIM, HIDDEN))
        head = V_DIM // V_HEADS // 2
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, head, 2, dtype=torch.float) / head)))

    def rot_pos_emb(self, t, h, w):  # the 2x2-merge-ordered (row, column) rotary angles
        hpos = torch.arange(h).unsqueeze(1).expand(-1, w).reshape(h // MERGE, MERGE, w // MERGE, MERGE)
        wpos = torch.arange(w).unsqueeze(0).expand(h, -1).reshape(h // MERGE, MERGE, w // MERGE, MERGE)
        ids = torch.stack([hpos.permute(0, 2, 1, 3).flatten(), wpos.permute(0, 2, 1, 3).flatten()], -1).repeat(t, 1)
        full = torch.outer(torch.arange(max(h, w), dtype=torch.float), self.inv_freq)
        return full[ids].flatten(1)

    def forward(self, pixels, t, h, w):
        x = self.patch(pixels.view(-1, 3, 2, 14, 14).to(self.patch.weight.dtype)).view(-1, V_DIM)
        freqs = self.rot_pos_emb(t, h, w)
        cu = F.pad(torch.tensor([h * w] * t).cumsum(0, dtype=torch.int32), (1, 0), value=0)
        for b in self.blocks:
            x = b(x, cu, freqs)
        return self.merge(self.ln_q(x).view(-1, 4 * V_DIM))


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        d = HIDDEN // HEADS
        self.q, self.k, self.v = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, KV_HEADS * d), nn.Linear(HIDDEN, KV_HEADS * d)
        self.o = nn.Linear(HIDDEN, HIDDEN, bias=False)
        self.gate, self.up = nn.Linear(HIDDEN, INTER, bias=False), nn.Linear(HIDDEN, INTER, bias=False)
        self.down = nn.Linear(INTER, HIDDEN, bias=False)
        self.norm1, self.norm2 = RMSNorm(HIDDEN), RMSNorm(HIDDEN)

    def forward(self, x, cos, sin, mask, cache, i):
        b, n, _ = x.shape
        d = HIDDEN // HEADS
        h = self.norm1(x)
        q = self.q(h).view(b, n, HEADS, d).transpose(1, 2)
        k = self.k(h).view(b, n, KV_HEADS, d).transpose(1, 2)
        v = self.v(h).view(b, n, KV_HEADS, d).transpose(1, 2)
        # apply_multimodal_rotary_pos_emb: the (t, h, w) sections picked out of the 3 tables
        sec = MROPE * 2
        c = torch.cat([m[j % 3] for j, m in enumerate(cos.split(sec, dim=-1))], dim=-1).unsqueeze(1)
        s = torch.cat([m[j % 3] for j, m in enumerate(sin.split(sec, dim=-1))], dim=-1).unsqueeze(1)
        q, k = q * c + rotate_half(q) * s, k * c + rotate_half(k) * s
        k, v = cached_repeated_kv(cache, i, k, v, HEADS)
        w = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(d)
        if mask is not None:
            w = w + mask[:, :, :, :k.shape[-2]]
        w = F.softmax(w, dim=-1, dtype=torch.float32).to(q.dtype)
        a = torch.matmul(w, v).transpose(1, 2).contiguous().reshape(b, n, -1)
        x = x + self.o(a)
        h = self.norm2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Qwen2VL(nn.Module):
    def __init__(self, layers, depth):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, HIDDEN)
        self.layers = nn.ModuleList(DecoderLayer() for _ in range(layers))
        self.norm = RMSNorm(HIDDEN)
        self.visual = Vision(depth)
        d = HIDDEN // HEADS
        self.register_buffer("inv_freq", 1.0 / (THETA ** (torch.arange(0, d, 2, dtype=torch.int64).float() / d)))

    def head(self, x):  # tied to the embedding, as in Qwen2-VL-2B
        return F.linear(x, self.embed.weight).float()

    def decoder(self, x, positions, cache):
        n = x.shape[1]
        past = cache[0][0].shape[-2] if cache else 0
        freqs = (self.inv_freq[None, None, :, None].float().expand(3, 1, -1, 1)
                 @ positions[:, :, None, :].float()).transpose(2, 3)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        mask = None
        if n > 1:  # _prepare_4d_causal_attention_mask_with_cache_position, eager path
            mask = torch.full((n, past + n), torch.finfo(x.dtype).min, dtype=x.dtype)
            mask = torch.triu(mask, diagonal=1 + past)[None, None]
        for i, layer in enumerate(self.layers):
            x = layer(x, cos, sin, mask, cache, i)
        return self.norm(x)


def image_prompt_positions(image_tokens, grid, text):  # get_rope_index for one image then text
    gh, gw = grid
    t = torch.zeros(image_tokens, dtype=torch.long)
    hh = torch.arange(gh).repeat_interleave(gw)
    ww = torch.arange(gw).repeat(gh)
    img = torch.stack([t, hh, ww]) + 1
    after = torch.arange(text + 1).expand(3, -1) + img.max() + 1
    return torch.cat([torch.zeros(3, 1, dtype=torch.long), img, after], dim=1)[:, None]


def bench(dtype, name, a):
    torch.manual_seed(1)
    model = Qwen2VL(a.layers, a.vision_depth).eval().to(dtype)
    image_tokens = 1024 // 4
    length = image_tokens + 2 + a.text
    ids = torch.randint(0, 151000, (1, length))
    pixels = torch.randn(1024, PATCH_IN).to(dtype)
    positions = image_prompt_positions(image_tokens, (16, 16), a.text)
    with torch.no_grad():
        def first_token():
            x = model.embed(ids)
            img = model.visual(pixels, 1, 32, 32)
            mask = torch.zeros(1, length, 1, dtype=torch.bool)
            mask[0, 1:1 + image_tokens] = True
            x = x.masked_scatter(mask.expand_as(x), img.to(x.dtype))
            return model.head(model.decoder(x, positions, [])[:, -1:])
        s = median_seconds(first_token, a.reps)
        print(f"first token {name} (448x448 image + {a.text} text tokens = {length} tokens, head on the last row):"
              f" {s:.3f} s [first_token_{name} {s:.6f}]")

        text = torch.randint(0, 151000, (1, length))
        text_positions = torch.arange(length).expand(3, 1, -1)
        def prefill():
            cache = []
            out = model.decoder(model.embed(text), text_positions, cache)
            model.head(out[:, -1:])
            return cache
        s = median_seconds(prefill, a.reps)
        print(f"LLM prefill {name} ({length} tokens, head on the last row): {s:.3f} s = {length / s:.0f} tokens/s [prefill_{name} {s:.6f}]")

        steps = []
        tok = torch.randint(0, 151000, (1, 1))
        for _ in range(a.reps):
            cache = prefill()
            t = time.perf_counter()
            for d in range(a.decode):
                pos = torch.full((3, 1, 1), length + d, dtype=torch.long)
                model.head(model.decoder(model.embed(tok), pos, cache))
            steps.append((time.perf_counter() - t) / a.decode)
        s = statistics.median(steps)
        print(f"decode {name}: {s * 1e3:.1f} ms/token [decode_{name} {s:.6f}]")

        for h, w in ((448, 448), (616, 644)):
            gh, gw = h // 14, w // 14
            px = torch.randn(gh * gw, PATCH_IN).to(dtype)
            s = median_seconds(lambda: model.visual(px, 1, gh, gw), a.reps)
            print(f"vision {name}, {a.vision_depth} blocks, {h}x{w} ({gh * gw} patches): {s:.3f} s [vision_{gh * gw}_{name} {s:.6f}]")


def main():
    run("torch eager (transformers 4.47.1's op sequence)", torch, bench)


if __name__ == "__main__":
    main()
