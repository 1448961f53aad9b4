"""What the reference benchmarks (bench_transformers.py, bench_torch_eager.py) share with each
other and with bench_vlm: the timing rule, the command line, the thread count and the header
line naming the environment a run used."""
import argparse
import os
import statistics
import time


def median_seconds(f, reps):
    f()  # warm-up, as bench_vlm
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def describe_environment(name, torch):
    """Sets the thread count as bench_vlm does (MPA_THREADS, else every core) and prints the
    header line naming the run's environment."""
    torch.set_num_threads(int(os.environ.get("MPA_THREADS", os.cpu_count() or 1)))
    print(f"{name}, torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')} "
          f"GLIBC_TUNABLES={os.environ.get('GLIBC_TUNABLES', '(unset)')}")


def run(name, torch, bench):
    """Parses bench_vlm's shape options (ignoring its others), sets the threads and calls
    bench(dtype, "f32" | "bf16", args) for each dtype asked for."""
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--vision-depth", type=int, default=4)
    p.add_argument("--text", type=int, default=41)
    p.add_argument("--decode", type=int, default=16)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--dtype", default="both")
    a, _ = p.parse_known_args()
    describe_environment(name, torch)
    if a.dtype in ("both", "f32"):
        bench(torch.float32, "f32", a)
    if a.dtype in ("both", "bf16"):
        bench(torch.bfloat16, "bf16", a)
