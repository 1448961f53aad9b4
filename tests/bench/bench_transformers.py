#!/usr/bin/env python3
"""The reference stack on the shapes bench_vlm measures: Hugging Face transformers' Qwen2-VL
(eager attention, random weights, Qwen2-VL-2B's layer shapes with a few layers and blocks) on
the same CPU threads, printing the same "[key seconds]" tags so that
tests/bench/compare_with_transformers.sh can take the ratio in one run.

Reference stack measured for the project's tables: Debian 12's python3-torch 1.13.1 with
transformers 4.47.1's source tree on PYTHONPATH (set TRANSFORMERS_SRC for the compare script).
Without an importable transformers it says so and exits with status 77 (skipped).

Usage: bench_transformers.py [--layers N] [--vision-depth N] [--text N] [--decode N] [--reps N]
                             [--dtype f32|bf16|both]
"""
import inspect
import statistics
import sys
import time

from reference_bench_common import median_seconds, run

try:
    import torch
    import transformers
    from transformers import Qwen2VLConfig, Qwen2VLForConditionalGeneration
except Exception as e:  # ImportError, or a broken install
    print(f"bench_transformers: skipped, transformers is not importable here ({e})")
    sys.exit(77)

VISION_START, IMAGE_PAD, VISION_END = 151652, 151655, 151653




def config(layers, depth):
    return Qwen2VLConfig(
        vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=layers,
        num_attention_heads=12, num_key_value_heads=2, tie_word_embeddings=True,
        rope_scaling={"type": "mrope", "mrope_section": [16, 24, 24]},
        vision_config={"depth": depth, "embed_dim": 1280, "hidden_size": 1536, "num_heads": 16, "mlp_ratio": 4,
                       "patch_size": 14, "spatial_merge_size": 2, "temporal_patch_size": 2, "in_channels": 3},
        image_token_id=IMAGE_PAD, video_token_id=151656, vision_start_token_id=VISION_START,
        vision_end_token_id=VISION_END, attn_implementation="eager")


def bench(dtype, name, a):
    torch.manual_seed(1)
    model = Qwen2VLForConditionalGeneration(config(a.layers, a.vision_depth)).eval().to(dtype)
    image_tokens = 1024 // 4
    length = image_tokens + 2 + a.text
    ids = torch.randint(0, 151000, (1, length))
    ids[0, 0] = VISION_START
    ids[0, 1:1 + image_tokens] = IMAGE_PAD
    ids[0, image_tokens + 1] = VISION_END
    mask = torch.ones(1, length, dtype=torch.long)
    pixels = torch.randn(1024, 1176).to(dtype)
    grid = torch.tensor([[1, 32, 32]])
    # transformers 4.47.1 computes the head on every row unless the model takes
    # num_logits_to_keep (later versions): give it where it exists, so the work is the same.
    keep = {"num_logits_to_keep": 1} if "num_logits_to_keep" in inspect.signature(model.forward).parameters else {}
    with torch.no_grad():
        s = median_seconds(lambda: model(input_ids=ids, attention_mask=mask, pixel_values=pixels, image_grid_thw=grid,
                                         use_cache=True, **keep), a.reps)
        print(f"first token {name} (448x448 image + {a.text} text tokens = {length} tokens): {s:.3f} s"
              f"{'' if keep else ' (head on all rows)'} [first_token_{name} {s:.6f}]")

        text = torch.randint(0, 151000, (1, length))
        def prefill():
            out = model.model(input_ids=text, use_cache=True)
            model.lm_head(out.last_hidden_state[:, -1:])
            return out
        s = median_seconds(prefill, a.reps)
        print(f"LLM prefill {name} ({length} tokens, head on the last row): {s:.3f} s = {length / s:.0f} tokens/s [prefill_{name} {s:.6f}]")

        steps = []
        tok = torch.randint(0, 151000, (1, 1))
        for _ in range(a.reps):
            cache = prefill().past_key_values
            t = time.perf_counter()
            for d in range(a.decode):
                pos = torch.full((3, 1, 1), length + d, dtype=torch.long)
                out = model.model(input_ids=tok, past_key_values=cache, position_ids=pos, use_cache=True)
                model.lm_head(out.last_hidden_state)
                cache = out.past_key_values
            steps.append((time.perf_counter() - t) / a.decode)
        s = statistics.median(steps)
        print(f"decode {name}: {s * 1e3:.1f} ms/token [decode_{name} {s:.6f}]")

        for h, w in ((448, 448), (616, 644)):
            gh, gw = h // 14, w // 14
            px = torch.randn(gh * gw, 1176).to(dtype)
            g = torch.tensor([[1, gh, gw]])
            s = median_seconds(lambda: model.visual(px, grid_thw=g), a.reps)
            print(f"vision {name}, {a.vision_depth} blocks, {h}x{w} ({gh * gw} patches): {s:.3f} s [vision_{gh * gw}_{name} {s:.6f}]")


def main():
    run(f"transformers {transformers.__version__}", torch, bench)


if __name__ == "__main__":
    main()
