// The native models' fast paths against the reference formulas they replace: the few-row
// decode kernels (every instruction set this CPU has) against a float64 product of the same
// inputs, and the inference paths of segment attention, the vision rotary, QuickGELU and
// SwiGLU against the autograd paths, which are the reference's eager formulas as written.
#include "vlm/activation_kernels.h"
#include "vlm/few_row_kernels.h"
#include "vlm/onednn_matmul.h"
#include "vlm/tensor_ops.h"
#include "test_support.h"
#include "vlm/qwen2vl/qwen2vl_model.h"
#include "vlm/safetensors.h"

#include <QDir>

#include <limits>

#include <QTest>

using namespace mpa::vlm;

namespace {

double maxAbs(const torch::Tensor &t) { return t.abs().max().item<double>(); }

// Half a unit in the last place of bfloat16 (8 significant bits) around `ref`, plus the
// float32 accumulation's share.
torch::Tensor bf16Tolerance(const torch::Tensor &ref, std::int64_t in) { return ref.abs() * (1.0 / 256) + 1e-6 * static_cast<double>(in); }

} // namespace

class TestTensorOps : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void fewRowKernelsMatchAFloat64Product_data();
    void fewRowKernelsMatchAFloat64Product();
    void denseTakesTheKernelOnlyOutsideAutograd();
    void manyRowDenseMatchesAFloat64Product();
    void softmaxRowsMatchAFloat64Softmax();
    void groupedAttentionMatchesTheReference();
    void rotaryVisionAttentionMatchesTheReference();
    void segmentAttentionInferenceMatchesTheReference_data();
    void segmentAttentionInferenceMatchesTheReference();
    void visionRotaryGeluAndSwiGluMatchTheReference();
    void decoderRotaryAndRmsNormMatchTheReference();
    void inferenceWeightsAreTheFilesMapping();
};

void TestTensorOps::fewRowKernelsMatchAFloat64Product_data()
{
    QTest::addColumn<QString>("isa");
    QTest::addColumn<QString>("prefetch");
    const QByteArray original = kernels::fewRowKernelIsa();
    for (const char *isa : {"avx512-bf16", "avx512", "avx2", "portable"}) {
        if (!kernels::useFewRowKernelIsa(isa))
            continue;
        // Every prefetch setting: each is a separate instantiation of the kernels.
        for (const char *prefetch : {"l1-1k", "l2-2k", "none"})
            QTest::addRow("%s, prefetch %s", isa, prefetch) << QString::fromLatin1(isa) << QString::fromLatin1(prefetch);
    }
    kernels::useFewRowKernelIsa(original.constData());
}

void TestTensorOps::fewRowKernelsMatchAFloat64Product()
{
    QFETCH(QString, isa);
    QFETCH(QString, prefetch);
    const QByteArray original = kernels::fewRowKernelIsa(), originalPrefetch = kernels::fewRowPrefetch();
    const QByteArray name = isa.toLatin1(), prefetchName = prefetch.toLatin1();
    QVERIFY(kernels::useFewRowKernelIsa(name.constData()));
    QCOMPARE(QString::fromLatin1(kernels::fewRowKernelIsa()), isa);
    QVERIFY(kernels::useFewRowPrefetch(prefetchName.constData()));
    QCOMPARE(QString::fromLatin1(kernels::fewRowPrefetch()), prefetch);
    QVERIFY(!kernels::useFewRowPrefetch("l3-64k"));
    torch::manual_seed(7);
    torch::NoGradGuard noGrad;
    // Lengths around every vector width and unroll (8, 16, 32, 128) and rows around the
    // blocks of weight rows (1, 2, 4).
    for (std::int64_t rows : {1, 2, 3, 4}) {
        for (std::int64_t in : {1, 7, 31, 33, 128, 129, 1537}) {
            // 700 outputs of 1,537: over the 2 MB below which a product keeps to the calling
            // thread (f32 4.3 MB, bf16 2.2 MB), so the threaded split is checked too.
            for (std::int64_t out : {std::int64_t(1), std::int64_t(3), std::int64_t(5), std::int64_t(67), in == 1537 ? std::int64_t(700) : std::int64_t(0)}) {
                if (out == 0)
                    continue;
                for (bool withBias : {false, true}) {
                    const auto x = torch::randn({rows, in}), w = torch::randn({out, in}), b = torch::randn({out});
                    // float32
                    {
                        auto y = torch::empty({rows, out});
                        kernels::f32FewRowLinear(x.data_ptr<float>(), w.data_ptr<float>(), withBias ? b.data_ptr<float>() : nullptr, y.data_ptr<float>(), rows, in, out);
                        auto ref = torch::linear(x.to(torch::kFloat64), w.to(torch::kFloat64), withBias ? b.to(torch::kFloat64) : torch::Tensor());
                        const double err = maxAbs(y.to(torch::kFloat64) - ref);
                        QVERIFY2(err <= 1e-5 * std::sqrt(static_cast<double>(in)) * 4,
                                 qPrintable(QStringLiteral("f32 rows %1 in %2 out %3 bias %4: max error %5").arg(rows).arg(in).arg(out).arg(withBias).arg(err)));
                    }
                    // bfloat16: the same product of the rounded inputs, rounded once.
                    {
                        const auto xb = x.to(torch::kBFloat16), wb = w.to(torch::kBFloat16), bb = b.to(torch::kBFloat16);
                        auto y = torch::empty({rows, out}, torch::kBFloat16);
                        kernels::bf16FewRowLinear(reinterpret_cast<const std::uint16_t *>(xb.data_ptr()), reinterpret_cast<const std::uint16_t *>(wb.data_ptr()),
                                                  withBias ? reinterpret_cast<const std::uint16_t *>(bb.data_ptr()) : nullptr,
                                                  reinterpret_cast<std::uint16_t *>(y.data_ptr()), rows, in, out);
                        auto ref = torch::linear(xb.to(torch::kFloat64), wb.to(torch::kFloat64), withBias ? bb.to(torch::kFloat64) : torch::Tensor());
                        const auto excess = ((y.to(torch::kFloat64) - ref).abs() - bf16Tolerance(ref, in)).max().item<double>();
                        QVERIFY2(excess <= 0, qPrintable(QStringLiteral("bf16 rows %1 in %2 out %3 bias %4: off by %5 beyond half an ulp").arg(rows).arg(in).arg(out).arg(withBias).arg(excess)));
                    }
                }
            }
        }
    }
    // Rounding: an exact tie rounds to even, as torch's conversion. 1 + 2^-8 lies halfway
    // between the bfloat16 values 1 and 1 + 2^-7: it must give 1.
    const auto one = torch::ones({1, 1}, torch::kBFloat16);
    const auto tie = torch::full({1, 1}, 1.0f / 256, torch::kFloat32).to(torch::kBFloat16); // exact in bf16
    auto y = torch::empty({1, 1}, torch::kBFloat16);
    const auto bias = torch::ones({1}, torch::kBFloat16);
    kernels::bf16FewRowLinear(reinterpret_cast<const std::uint16_t *>(one.data_ptr()), reinterpret_cast<const std::uint16_t *>(tie.data_ptr()),
                              reinterpret_cast<const std::uint16_t *>(bias.data_ptr()), reinterpret_cast<std::uint16_t *>(y.data_ptr()), 1, 1, 1);
    QCOMPARE(y.to(torch::kFloat32).item<float>(), 1.0f);
    QVERIFY(kernels::useFewRowKernelIsa(original.constData()));
    QVERIFY(kernels::useFewRowPrefetch(originalPrefetch.constData()));
}

void TestTensorOps::denseTakesTheKernelOnlyOutsideAutograd()
{
    torch::manual_seed(3);
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        const auto x = torch::randn({1, 1, 96}).to(dtype), w = torch::randn({40, 96}).to(dtype), b = torch::randn({40}).to(dtype);
        torch::Tensor fast;
        {
            torch::NoGradGuard noGrad;
            fast = ops::dense(x, w, b);
        }
        QCOMPARE(fast.sizes().vec(), (std::vector<std::int64_t>{1, 1, 40}));
        QCOMPARE(fast.scalar_type(), dtype);
        // With a weight that needs a gradient, the product must stay differentiable.
        const auto wg = w.clone().set_requires_grad(true);
        const auto y = ops::dense(x, wg, b);
        QVERIFY(y.requires_grad());
        y.to(torch::kFloat32).sum().backward();
        QVERIFY(wg.grad().defined());
        const auto tol = dtype == torch::kFloat32 ? 1e-4 : 0.1;
        QVERIFY2(maxAbs(fast.to(torch::kFloat32) - y.detach().to(torch::kFloat32)) <= tol, "kernel and torch::linear disagree");
    }
}

// Prefill and vision products (more rows than the few-row kernels take): oneDNN called
// directly where it is built in, libtorch otherwise; both must give the product of the inputs.
void TestTensorOps::manyRowDenseMatchesAFloat64Product()
{
    torch::manual_seed(5);
    torch::NoGradGuard noGrad;
    const bool onednn = kernels::onednnMatmulEnabled();
    qInfo("oneDNN path: %s", kernels::onednnMatmulImplementation(kernels::GemmDtype::BFloat16));
    for (bool useOnednn : {true, false}) {
        kernels::useOnednnMatmul(useOnednn && onednn);
        for (std::int64_t rows : {5, 37, 299}) {
            for (bool withBias : {false, true}) {
                for (bool strided : {false, true}) {
                    const std::int64_t in = 96, out = 67;
                    // A strided input: the middle columns of a wider tensor.
                    const auto wide = torch::randn({rows, in + 8});
                    const auto x = strided ? wide.narrow(1, 4, in) : wide.narrow(1, 4, in).contiguous();
                    const auto w = torch::randn({out, in}), b = torch::randn({out});
                    const auto y = ops::dense(x, w, withBias ? b : torch::Tensor());
                    const auto ref = torch::linear(x.to(torch::kFloat64), w.to(torch::kFloat64), withBias ? b.to(torch::kFloat64) : torch::Tensor());
                    const QString what = QStringLiteral("%1 rows %2 bias %3 strided %4").arg(useOnednn ? "oneDNN" : "libtorch").arg(rows).arg(withBias).arg(strided);
                    QVERIFY2(maxAbs(y.to(torch::kFloat64) - ref) <= 1e-4, qPrintable(QStringLiteral("f32 ") + what));
                    const auto xb = x.to(torch::kBFloat16), wb = w.to(torch::kBFloat16), bb = b.to(torch::kBFloat16);
                    const auto yb = ops::dense(xb, wb, withBias ? bb : torch::Tensor());
                    QCOMPARE(yb.scalar_type(), torch::kBFloat16);
                    const auto refb = torch::linear(xb.to(torch::kFloat64), wb.to(torch::kFloat64), withBias ? bb.to(torch::kFloat64) : torch::Tensor());
                    const auto excess = ((yb.to(torch::kFloat64) - refb).abs() - bf16Tolerance(refb, in)).max().item<double>();
                    QVERIFY2(excess <= 0, qPrintable(QStringLiteral("bf16 %1: off by %2 beyond half an ulp").arg(what).arg(excess)));
                }
            }
        }
    }
    kernels::useOnednnMatmul(onednn);
    if (onednn) { // when built in, the path is taken rather than silently refused
        const auto x = torch::randn({8, 32}), w = torch::randn({16, 32});
        auto y = torch::empty({8, 16});
        QVERIFY(kernels::onednnLinear(kernels::GemmDtype::Float32, x.data_ptr(), 32, w.data_ptr(), nullptr, y.data_ptr(), 8, 32, 16));
        QVERIFY(maxAbs(y - torch::linear(x, w)) <= 1e-4);
    }
}

// The attention's softmax kernels (whichever instruction set this run uses: the _portable
// entry runs the fallback) against float64, with masked (-inf) scores and rows shorter and
// longer than a vector.
void TestTensorOps::softmaxRowsMatchAFloat64Softmax()
{
    torch::manual_seed(9);
    for (std::int64_t cols : {1, 15, 16, 17, 100, 2024}) {
        auto x = torch::randn({7, cols}) * 8;
        if (cols > 2)
            x.select(1, 1).fill_(-std::numeric_limits<float>::infinity());
        const auto ref = torch::softmax(x.to(torch::kFloat64), -1);
        auto f = x.clone();
        kernels::f32SoftmaxRows(f.data_ptr<float>(), 7, cols);
        // float32: each value carries the relative error of the float32 sum, at worst cols ulps.
        const auto f32Excess = ((f.to(torch::kFloat64) - ref).abs() - ref * (static_cast<double>(cols) * 6e-8) - 1e-7).max().item<double>();
        QVERIFY2(f32Excess <= 0, qPrintable(QStringLiteral("f32 cols %1: off by %2 beyond the sum's rounding").arg(cols).arg(f32Excess)));
        // bfloat16: the softmax of the rounded scores, computed in float32 and rounded once.
        auto b = x.to(torch::kBFloat16);
        const auto refb = torch::softmax(b.to(torch::kFloat64), -1);
        kernels::bf16SoftmaxRows(reinterpret_cast<std::uint16_t *>(b.data_ptr()), 7, cols);
        const auto excess = ((b.to(torch::kFloat64) - refb).abs() - refb.abs() * (1.0 / 256) - 1e-7).max().item<double>();
        QVERIFY2(excess <= 0, qPrintable(QStringLiteral("bf16 cols %1: off by %2 beyond half an ulp").arg(cols).arg(excess)));
        if (cols > 2) { // a masked score gets exactly no weight
            QCOMPARE(f.select(1, 1).abs().max().item<float>(), 0.0f);
            QCOMPARE(b.select(1, 1).to(torch::kFloat32).abs().max().item<float>(), 0.0f);
        }
    }
}

// The decoders' attention outside autograd (grouped heads without repeat_kv, mask added in
// place) against the reference's formula in float64: prefill with a padded row, a chunk after
// a cached past, and one decode row.
void TestTensorOps::groupedAttentionMatchesTheReference()
{
    torch::manual_seed(13);
    const std::int64_t B = 2, Hq = 12, Hkv = 2, hd = 128;
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        for (auto [L, past] : {std::pair<std::int64_t, std::int64_t>{37, 0}, {9, 20}, {1, 45}}) {
            const std::int64_t Lk = past + L;
            const auto q = (torch::randn({B, L, Hq, hd}) * 2).to(dtype).transpose(1, 2); // strided, as the decoders pass it
            const auto k = (torch::randn({B, Hkv, Lk, hd}) * 2).to(dtype), v = torch::randn({B, Hkv, Lk, hd}).to(dtype);
            // Causal, and the second sequence's first three positions padded.
            auto mask = torch::zeros({B, 1, L, Lk}, torch::kFloat64);
            // The dtype's lowest finite value, as causalPaddingMask (finfo.min in the reference).
            const double lowest = dtype == torch::kFloat32 ? std::numeric_limits<float>::lowest() : -3.3895313892515355e38;
            for (std::int64_t i = 0; i < L; ++i)
                mask[0][0][i].narrow(0, past + i + 1, Lk - past - i - 1).fill_(lowest), mask[1][0][i].narrow(0, past + i + 1, Lk - past - i - 1).fill_(lowest);
            mask.select(0, 1).narrow(-1, 0, 3).fill_(lowest);
            torch::Tensor fast;
            {
                torch::NoGradGuard noGrad;
                fast = ops::groupedAttentionInference(q, k, v, mask.to(dtype));
            }
            const auto kr = k.to(torch::kFloat64).repeat_interleave(Hq / Hkv, 1), vr = v.to(torch::kFloat64).repeat_interleave(Hq / Hkv, 1);
            const auto exact = torch::matmul(torch::softmax(torch::matmul(q.to(torch::kFloat64), kr.transpose(2, 3)) / std::sqrt(double(hd)) + mask.to(torch::kFloat64), -1), vr)
                                   .transpose(1, 2)
                                   .reshape({B, L, Hq * hd});
            QCOMPARE(fast.sizes().vec(), exact.sizes().vec());
            QCOMPARE(fast.scalar_type(), dtype);
            const double err = maxAbs(fast.to(torch::kFloat64) - exact);
            const double tol = dtype == torch::kFloat32 ? 1e-4 : 0.06; // bf16: rounded q, scores and probabilities
            QVERIFY2(err <= tol, qPrintable(QStringLiteral("%1 L %2 past %3: max error %4").arg(dtype == torch::kFloat32 ? "f32" : "bf16").arg(L).arg(past).arg(err)));
        }
    }
}

// The fused rotary + head-major path of the vision towers against the reference's composition
// (visionRotary then segmentAttention under autograd) and float64, for a whole image and for
// windows followed by an image.
void TestTensorOps::rotaryVisionAttentionMatchesTheReference()
{
    torch::manual_seed(17);
    const std::int64_t heads = 16, hd = 80;
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        for (const std::vector<std::int64_t> &seg : {std::vector<std::int64_t>{1100}, std::vector<std::int64_t>{64, 64, 48, 300}}) {
            std::int64_t n = 0;
            for (auto len : seg)
                n += len;
            const auto qkv = (torch::randn({n, 3, heads, hd}) * 2).to(dtype);
            const auto angles = torch::rand({n, 1, hd / 2}) * 30;
            const auto cos = torch::cat({angles, angles}, -1).cos(), sin = torch::cat({angles, angles}, -1).sin();
            torch::Tensor fast;
            {
                torch::NoGradGuard noGrad;
                fast = ops::rotaryVisionAttention(qkv, cos, sin, seg);
            }
            // requires_grad selects the reference formulas of both steps.
            const auto ref = ops::rotaryVisionAttention(qkv.clone().set_requires_grad(true), cos, sin, seg).detach();
            const auto q64 = qkv.to(torch::kFloat64).set_requires_grad(true);
            const auto exact = ops::rotaryVisionAttention(q64, cos.to(torch::kFloat64), sin.to(torch::kFloat64), seg).detach();
            QCOMPARE(fast.sizes().vec(), (std::vector<std::int64_t>{n, heads * hd}));
            QCOMPARE(fast.scalar_type(), dtype);
            const double errFast = maxAbs(fast.to(torch::kFloat64) - exact), errRef = maxAbs(ref.to(torch::kFloat64) - exact);
            const QString what = QStringLiteral("%1, %2 segments").arg(dtype == torch::kFloat32 ? "f32" : "bf16").arg(seg.size());
            if (dtype == torch::kFloat32)
                QVERIFY2(errFast <= 5e-5, qPrintable(QStringLiteral("%1: max error %2").arg(what).arg(errFast)));
            else
                QVERIFY2(errFast <= 1.25 * errRef + 1e-3, qPrintable(QStringLiteral("%1: max error %2 against the reference formula's %3").arg(what).arg(errFast).arg(errRef)));
        }
    }
}

void TestTensorOps::segmentAttentionInferenceMatchesTheReference_data()
{
    QTest::addColumn<int>("dtype");
    QTest::addColumn<QList<qint64>>("segments");
    // A segment longer than one step's score budget (blocks of query rows), runs of small
    // windows of unequal lengths, and one large segment after windows.
    for (int d : {static_cast<int>(torch::kFloat32), static_cast<int>(torch::kBFloat16)}) {
        const char *name = d == static_cast<int>(torch::kFloat32) ? "f32" : "bf16";
        QTest::newRow(qPrintable(QStringLiteral("%1 one image, 1100 patches").arg(QLatin1String(name)))) << d << QList<qint64>{1100};
        QTest::newRow(qPrintable(QStringLiteral("%1 windows and an image").arg(QLatin1String(name)))) << d << QList<qint64>{64, 64, 64, 48, 64, 16, 1090};
        QTest::newRow(qPrintable(QStringLiteral("%1 two images").arg(QLatin1String(name)))) << d << QList<qint64>{4, 1030, 1030};
    }
}

void TestTensorOps::segmentAttentionInferenceMatchesTheReference()
{
    QFETCH(int, dtype);
    QFETCH(QList<qint64>, segments);
    const auto type = static_cast<torch::ScalarType>(dtype);
    std::vector<std::int64_t> seg(segments.begin(), segments.end());
    std::int64_t n = 0;
    for (auto s : seg)
        n += s;
    const std::int64_t heads = 16, hd = 80;
    torch::manual_seed(11);
    // Strided views of one [n, 3, heads, hd] projection, as the towers pass them.
    const auto qkv = (torch::randn({n, 3, heads, hd}) * 2).to(type);
    const auto q = qkv.select(1, 0), k = qkv.select(1, 1), v = qkv.select(1, 2);
    torch::Tensor fast;
    {
        torch::NoGradGuard noGrad;
        fast = ops::segmentAttention(q, k, v, seg);
    }
    // requires_grad selects the reference formula (whole scores, float32 softmax).
    const auto qg = q.clone().set_requires_grad(true);
    const auto ref = ops::segmentAttention(qg, k, v, seg).detach();
    QCOMPARE(fast.sizes().vec(), ref.sizes().vec());
    QCOMPARE(fast.scalar_type(), type);
    // Against the exact attention of the same (rounded) inputs in float64: float32 differs
    // from it by summation order only; bfloat16 rounds the scores (the reference after the
    // product and again after the scaling, the fast path after the product of the pre-scaled
    // q), so there the fast path must be no less accurate than the reference's own formula.
    const auto exact = ops::segmentAttention(q.to(torch::kFloat64).set_requires_grad(true), k.to(torch::kFloat64), v.to(torch::kFloat64), seg).detach();
    const double errFast = maxAbs(fast.to(torch::kFloat64) - exact), errRef = maxAbs(ref.to(torch::kFloat64) - exact);
    qInfo("max error against float64: fast path %.3g, reference formula %.3g", errFast, errRef);
    if (type == torch::kFloat32)
        QVERIFY2(errFast <= 5e-5, qPrintable(QStringLiteral("float32 max error %1").arg(errFast)));
    else
        QVERIFY2(errFast <= 1.25 * errRef + 1e-3, qPrintable(QStringLiteral("bf16 max error %1 against the reference formula's %2").arg(errFast).arg(errRef)));
    // No attention across segments: changing the last segment's keys leaves the others alone.
    auto k2 = k.clone();
    k2.narrow(0, n - seg.back(), seg.back()).mul_(-1);
    torch::NoGradGuard noGrad;
    const auto other = ops::segmentAttention(q, k2, v, seg);
    const std::int64_t before = n - seg.back();
    if (before > 0)
        QCOMPARE(maxAbs(other.narrow(0, 0, before).to(torch::kFloat32) - fast.narrow(0, 0, before).to(torch::kFloat32)), 0.0);
}

void TestTensorOps::visionRotaryGeluAndSwiGluMatchTheReference()
{
    torch::manual_seed(5);
    const std::int64_t n = 300, heads = 4, hd = 16;
    auto angles = torch::randn({n, hd / 2}) * 3;
    angles = torch::cat({angles, angles}, 1);
    const auto cos = angles.cos().unsqueeze(1), sin = angles.sin().unsqueeze(1);
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        const auto qkv = torch::randn({n, 3, heads, hd}).to(dtype);
        torch::Tensor fast, gelu, glu;
        const auto f = torch::randn({n, 64}).to(dtype), g = torch::randn({n, 64}).to(dtype);
        {
            torch::NoGradGuard noGrad;
            fast = ops::visionRotary(qkv, cos, sin);
            gelu = ops::quickGelu(f.clone());
            glu = ops::swiGlu(g.clone(), f);
        }
        const auto qkvg = qkv.clone().set_requires_grad(true);
        const auto ref = ops::visionRotary(qkvg, cos, sin).detach();
        // The reference's arithmetic in float32 both ways, rounded once: at most one bf16 ulp
        // apart where the two summation orders round differently.
        const double rotTol = dtype == torch::kFloat32 ? 1e-6 : 1.0 / 64;
        QVERIFY(maxAbs(fast.to(torch::kFloat32) - ref.to(torch::kFloat32)) <= rotTol);
        const auto fg = f.clone().set_requires_grad(true);
        if (dtype == torch::kFloat32) {
            QCOMPARE(maxAbs(gelu - ops::quickGelu(fg).detach()), 0.0);
            QCOMPARE(maxAbs(glu - ops::swiGlu(g.clone().set_requires_grad(true), f).detach()), 0.0);
        } else {
            // The fused bf16 kernels compute in float32 and round once: within one bf16 ulp of
            // the exact value of the same inputs (the reference, rounding after every op, is not).
            const auto f64 = f.to(torch::kFloat64), g64 = g.to(torch::kFloat64);
            const auto exactGelu = f64 * torch::sigmoid(1.702 * f64), exactGlu = torch::silu(g64) * f64;
            QVERIFY(((gelu.to(torch::kFloat64) - exactGelu).abs() - exactGelu.abs() / 256 - 1e-30).max().item<double>() <= 0);
            QVERIFY(((glu.to(torch::kFloat64) - exactGlu).abs() - exactGlu.abs() / 256 - 1e-30).max().item<double>() <= 0);
        }
        // The rotation keeps each pair's length (a property independent of either path).
        const auto xf = qkv.narrow(1, 0, 2).to(torch::kFloat32), rf = fast.to(torch::kFloat32);
        auto pairNorm = [&](const torch::Tensor &t) { return t.narrow(-1, 0, hd / 2).pow(2) + t.narrow(-1, hd / 2, hd / 2).pow(2); };
        QVERIFY(maxAbs(pairNorm(xf) - pairNorm(rf)) <= (dtype == torch::kFloat32 ? 1e-4 : 0.2));
    }
}

void TestTensorOps::decoderRotaryAndRmsNormMatchTheReference()
{
    torch::manual_seed(9);
    const std::int64_t B = 2, H = 3, L = 37, hd = 16, D = 96;
    for (auto dtype : {torch::kFloat32, torch::kBFloat16}) {
        // q as the decoders pass it: a transposed view of the projection; cos/sin [B, 1, L, hd]
        // in the working dtype with unequal halves (the formula must not assume equal ones).
        const auto q = torch::randn({B, L, H, hd}).to(dtype).transpose(1, 2);
        const auto cos = torch::randn({B, 1, L, hd}).to(dtype), sin = torch::randn({B, 1, L, hd}).to(dtype);
        const auto x = (torch::randn({B, L, D}) * 3).to(dtype), w = torch::randn({D}).to(dtype);
        torch::Tensor rot, norm;
        {
            torch::NoGradGuard noGrad;
            rot = ops::decoderRotary(q, cos, sin);
            norm = ops::rmsNorm(x, w, 1e-6);
        }
        const auto refRot = ops::decoderRotary(q.clone().set_requires_grad(true), cos, sin).detach();
        const auto refNorm = ops::rmsNorm(x.clone().set_requires_grad(true), w, 1e-6).detach();
        QCOMPARE(rot.sizes().vec(), refRot.sizes().vec());
        // float32: the same products, one fused; bfloat16: the fast path rounds the sum once
        // where the reference rounds each product: within one bf16 ulp of values below ~16.
        QVERIFY(maxAbs(rot.to(torch::kFloat32) - refRot.to(torch::kFloat32)) <= (dtype == torch::kFloat32 ? 1e-5 : 0.07));
        // The mean square from a norm instead of a sum of squares: float32 rounding only, then
        // the same rounding to the working dtype and the same weight product.
        QVERIFY(maxAbs(norm.to(torch::kFloat32) - refNorm.to(torch::kFloat32)) <= (dtype == torch::kFloat32 ? 1e-5 : 0.05));
        QCOMPARE(norm.scalar_type(), dtype);
        // LayerNorm: bf16 through float32 must stay within one bf16 ulp (plus float32 rounding)
        // of the exact value, as the float32 kernel is.
        const auto lb = torch::randn({D}).to(dtype);
        torch::Tensor ln;
        {
            torch::NoGradGuard noGrad;
            ln = ops::layerNorm(x, w, lb, 1e-6);
        }
        const auto exact = torch::layer_norm(x.to(torch::kFloat64), {D}, w.to(torch::kFloat64), lb.to(torch::kFloat64), 1e-6);
        QCOMPARE(ln.scalar_type(), dtype);
        QVERIFY(((ln.to(torch::kFloat64) - exact).abs() - exact.abs() / 256 - 1e-5).max().item<double>() <= 0);
    }
}

void TestTensorOps::inferenceWeightsAreTheFilesMapping()
{
    const QString dir = mpa::test::fixture(QStringLiteral("qwen2vl-tiny"));
    if (dir.isEmpty())
        QSKIP("the shared fixtures are absent (MPA_FIXTURES_DIR)");
    const Qwen2VLConfig config = Qwen2VLConfig::load(dir);
    const Checkpoint checkpoint = Checkpoint::openFolder(dir);
    const Qwen2VLModel copied(config, checkpoint, torch::kCPU, torch::kFloat32);
    const Qwen2VLModel mapped(config, checkpoint, torch::kCPU, torch::kFloat32, WeightMemory::MapWhenPossible);
    const Qwen2VLModel converted(config, checkpoint, torch::kCPU, torch::kBFloat16, WeightMemory::MapWhenPossible);
    int inPlace = 0;
    for (const auto &[name, t] : mapped.parameters()) {
        const Checkpoint::Entry *e = checkpoint.find(QString::fromStdString(name));
        QVERIFY(e);
        const bool storedF32 = e->info->dtype == DType::F32;
        // Same values either way; the float32 ones are the file's bytes themselves.
        QVERIFY(torch::equal(t, copied.parameters().at(name)));
        QCOMPARE(t.data_ptr() == static_cast<const void *>(e->file->data(*e->info)), storedF32);
        QVERIFY(copied.parameters().at(name).data_ptr() != static_cast<const void *>(e->file->data(*e->info)));
        // A dtype conversion has to copy.
        QVERIFY(converted.parameters().at(name).data_ptr() != static_cast<const void *>(e->file->data(*e->info)));
        inPlace += storedF32 ? 1 : 0;
    }
    QVERIFY(inPlace > 0);
}

QTEST_GUILESS_MAIN(TestTensorOps)
#include "test_tensor_ops.moc"
