#include "vlm/onednn_matmul.h"

#ifdef MPA_HAVE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#endif

namespace mpa::vlm::kernels {

#ifdef MPA_HAVE_ONEDNN

namespace {

std::atomic<int> &enabledFlag()
{
    // -1: not decided yet; read MPA_GEMM once.
    static std::atomic<int> flag{-1};
    return flag;
}

struct Cached {
    dnnl::matmul::primitive_desc pd;
    dnnl::matmul primitive;
};

dnnl::engine &cpuEngine()
{
    static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
    return engine;
}

// Streams are not thread-safe; one per calling thread.
dnnl::stream &threadStream()
{
    thread_local dnnl::stream stream(cpuEngine());
    return stream;
}

// The primitives' scratch space (where brgemm copies blocks of the operands), per thread and
// grown as needed: a fresh allocation per call costs page faults (design.md).
struct Scratch {
    void *data = nullptr;
    std::size_t size = 0;
    ~Scratch() { std::free(data); }
    void *reserve(std::size_t n)
    {
        if (n > size) {
            std::free(data);
            size = (n + 4095) & ~std::size_t(4095);
            data = std::aligned_alloc(64, size);
            if (!data)
                size = 0;
        }
        return data;
    }
};

dnnl::memory::data_type toDnnl(GemmDtype d) { return d == GemmDtype::BFloat16 ? dnnl::memory::data_type::bf16 : dnnl::memory::data_type::f32; }

// Every prompt length and image size is a shape; beyond this many the cache starts over
// (creating a primitive costs 0.3-5 ms; oneDNN's own cache keeps the generated kernels).
constexpr std::size_t kMaxCachedShapes = 512;

// The cache key: dtype, bias, then each operand's rank, dims and strides.
std::vector<std::int64_t> keyOf(GemmDtype dtype, bool bias, const StridedOperand &a, const StridedOperand &b, const StridedOperand &c)
{
    std::vector<std::int64_t> key{static_cast<std::int64_t>(dtype), bias ? 1 : 0};
    for (const StridedOperand *o : {&a, &b, &c}) {
        key.push_back(static_cast<std::int64_t>(o->dims.size()));
        key.insert(key.end(), o->dims.begin(), o->dims.end());
        key.insert(key.end(), o->strides.begin(), o->strides.end());
    }
    return key;
}

std::shared_ptr<Cached> primitiveFor(GemmDtype dtype, bool bias, const StridedOperand &a, const StridedOperand &b, const StridedOperand &c)
{
    static std::mutex mutex;
    static std::map<std::vector<std::int64_t>, std::shared_ptr<Cached>> cache;
    auto key = keyOf(dtype, bias, a, b, c);
    {
        std::lock_guard lock(mutex);
        if (const auto it = cache.find(key); it != cache.end())
            return it->second;
    }
    const auto dt = toDnnl(dtype);
    auto desc = [dt](const StridedOperand &o) { return dnnl::memory::desc(o.dims, dt, o.strides); };
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    dnnl::matmul::primitive_desc pd = [&] {
        if (!bias)
            return dnnl::matmul::primitive_desc(dnnl::matmul::desc(desc(a), desc(b), desc(c)), attr, cpuEngine());
        // [1, ..., 1, N]: one value per output column, broadcast over rows and batches.
        dnnl::memory::dims dims(c.dims.size(), 1), strides(c.dims.size(), c.dims.back());
        dims.back() = c.dims.back();
        strides.back() = 1;
        const dnnl::memory::desc biasDesc(dims, dt, strides);
        return dnnl::matmul::primitive_desc(dnnl::matmul::desc(desc(a), desc(b), biasDesc, desc(c)), attr, cpuEngine());
    }();
    auto made = std::make_shared<Cached>(Cached{pd, dnnl::matmul(pd)});
    std::lock_guard lock(mutex);
    if (cache.size() >= kMaxCachedShapes)
        cache.clear();
    cache.emplace(std::move(key), made);
    return made;
}

} // namespace

bool onednnMatmulEnabled()
{
    int v = enabledFlag().load(std::memory_order_relaxed);
    if (v < 0) {
        const char *env = std::getenv("MPA_GEMM");
        v = (env && std::strcmp(env, "torch") == 0) ? 0 : 1;
        enabledFlag().store(v, std::memory_order_relaxed);
    }
    return v == 1;
}

void useOnednnMatmul(bool on) { enabledFlag().store(on ? 1 : 0, std::memory_order_relaxed); }

bool onednnMatmul(GemmDtype dtype, const StridedOperand &a, const StridedOperand &b, const StridedOperand &c, const void *bias)
{
    if (!onednnMatmulEnabled())
        return false;
    try {
        const auto p = primitiveFor(dtype, bias != nullptr, a, b, c);
        auto &engine = cpuEngine();
        auto handle = [](const void *ptr) { return const_cast<void *>(ptr); };
        std::unordered_map<int, dnnl::memory> args{
            {DNNL_ARG_SRC, dnnl::memory(p->pd.src_desc(), engine, handle(a.data))},
            {DNNL_ARG_WEIGHTS, dnnl::memory(p->pd.weights_desc(), engine, handle(b.data))},
            {DNNL_ARG_DST, dnnl::memory(p->pd.dst_desc(), engine, handle(c.data))},
        };
        if (bias)
            args.emplace(DNNL_ARG_BIAS, dnnl::memory(p->pd.bias_desc(), engine, handle(bias)));
        const auto scratchDesc = p->pd.scratchpad_desc();
        if (const std::size_t n = scratchDesc.get_size()) {
            thread_local Scratch scratch;
            void *s = scratch.reserve(n);
            if (!s)
                return false;
            args.emplace(DNNL_ARG_SCRATCHPAD, dnnl::memory(scratchDesc, engine, s));
        }
        auto &stream = threadStream();
        p->primitive.execute(stream, args);
        stream.wait();
        return true;
    } catch (const dnnl::error &) {
        return false; // a shape or layout this oneDNN does not implement: libtorch takes it
    }
}

bool onednnLinear(GemmDtype dtype, const void *x, std::int64_t ldx, const void *w, const void *bias, void *y, std::int64_t rows,
                  std::int64_t in, std::int64_t out)
{
    if (rows <= 0 || in <= 0 || out <= 0)
        return false;
    // W [out][in] row-major read as the [in][out] matrix W^T: strides {1, in}.
    return onednnMatmul(dtype, {x, {rows, in}, {ldx, 1}}, {w, {in, out}, {1, in}}, {y, {rows, out}, {out, 1}}, bias);
}

const char *onednnMatmulImplementation(GemmDtype dtype)
{
    if (!onednnMatmulEnabled())
        return "off";
    auto name = [](GemmDtype d) {
        try {
            const std::int64_t n = 1536, rows = 299;
            return std::string(primitiveFor(d, false, {nullptr, {rows, n}, {n, 1}}, {nullptr, {n, n}, {1, n}}, {nullptr, {rows, n}, {n, 1}})->pd.impl_info_str());
        } catch (const dnnl::error &) {
            return std::string("unavailable");
        }
    };
    static const std::string names[2] = {name(GemmDtype::Float32), name(GemmDtype::BFloat16)};
    return names[dtype == GemmDtype::BFloat16 ? 1 : 0].c_str();
}

#else // built without oneDNN's headers: libtorch takes every product

bool onednnMatmulEnabled() { return false; }
void useOnednnMatmul(bool) {}
bool onednnMatmul(GemmDtype, const StridedOperand &, const StridedOperand &, const StridedOperand &, const void *) { return false; }
bool onednnLinear(GemmDtype, const void *, std::int64_t, const void *, const void *, void *, std::int64_t, std::int64_t, std::int64_t) { return false; }
const char *onednnMatmulImplementation(GemmDtype) { return "off (built without oneDNN)"; }

#endif

} // namespace mpa::vlm::kernels
