/* One-pass CPU kernels for the recorder's summaries (see native.py, which compiles this
 * file on first use: plain C, no torch headers; OpenMP shares torch's runtime).
 *
 * inspector_summarize: the robust row of TensorSummary (tensor_summary.py) for a contiguous
 * float32 vector, in one read of every element instead of four eager kernels:
 *   row = [shift, scale, sum(y), ||y||, min, max, nonzero(sample), sat(sample)],
 *   y = (x - shift) / scale, shift = mean of 64 systematically spaced elements (float32),
 *   scale = max|x - shift| (at least the smallest normal float32); the sample is copied
 *   from each thread's range right after that range is read.
 * Sums are accumulated in float64 over x - shift: no overflow, no underflow of squares, no
 * cancellation for any finite float32 input. Min/max are exact; a NaN anywhere makes both
 * NaN (the host reads that as "NaN present", as with torch.aminmax).
 *
 * inspector_param_pass: sums of squares in float64 of every weight and gradient (norms exact
 * for every finite tensor, in one call for the whole model), with the update-ratio sample.
 *
 * The other kernels (unit activity, histograms, the update-ratio sample) are described
 * above their definitions.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* below this many elements one thread is faster than waking the team */
#define PARALLEL_MIN 16384

/* [lo, hi): this thread's equal share of n elements, inside a parallel region */
static void thread_share(int64_t n, int64_t *lo, int64_t *hi)
{
    int64_t k = 1, j = 0;
#ifdef _OPENMP
    k = omp_get_num_threads();
    j = omp_get_thread_num();
#endif
    int64_t chunk = (n + k - 1) / k;
    *lo = j * chunk < n ? j * chunk : n;
    *hi = *lo + chunk < n ? *lo + chunk : n;
}

typedef struct {
    double s1, s2;
    float mn, mx;
    int nan; /* a NaN is present (set by moments_all) */
} moments_t;

/* LANES independent accumulators per sum: one chain per lane hides the latency of the
 * float64 adds, and each lane still adds in a fixed order, so no reassociation flag is
 * needed. NaNs are not counted here (a per-lane counter cost 40% of the pass): a NaN makes
 * sum(x - c) NaN, which moments_all reads afterwards. */
#define LANES 32

/* lane j takes element v */
static inline void lane_add(float v, double c, int j, double *restrict s1, double *restrict s2,
                            float *restrict mn, float *restrict mx)
{
    double d = (double)v - c;
    s1[j] += d;
    s2[j] += d * d;
    mn[j] = v < mn[j] ? v : mn[j];
    mx[j] = v > mx[j] ? v : mx[j];
}

static void moments_pass(const float *restrict x, int64_t n, float c, moments_t *out)
{
    double s1[LANES], s2[LANES];
    float mn[LANES], mx[LANES];
    for (int j = 0; j < LANES; j++) {
        s1[j] = s2[j] = 0.0;
        mn[j] = INFINITY;
        mx[j] = -INFINITY;
    }
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++)
            lane_add(x[i + j], (double)c, j, s1, s2, mn, mx);
    for (int j = 0; i + j < n; j++) /* the tail, one element per lane */
        lane_add(x[i + j], (double)c, j, s1, s2, mn, mx);
    double t1 = 0.0, t2 = 0.0;
    float lo = INFINITY, hi = -INFINITY;
    for (int j = 0; j < LANES; j++) {
        t1 += s1[j];
        t2 += s2[j];
        lo = mn[j] < lo ? mn[j] : lo;
        hi = mx[j] > hi ? mx[j] : hi;
    }
    out->s1 = t1;
    out->s2 = t2;
    out->mn = lo;
    out->mx = hi;
    out->nan = 0;
}

/* Whether x holds a NaN: with c finite, sum(x - c) is NaN exactly when x holds a NaN or
 * both infinities (float64 sums of float32 differences cannot overflow); only the second
 * case needs a look at the elements. */
static int has_nan(const float *x, int64_t n, const moments_t *t)
{
    if (!isnan(t->s1))
        return 0;
    if (!(t->mn == -INFINITY && t->mx == INFINITY))
        return 1;
    for (int64_t i = 0; i < n; i++)
        if (x[i] != x[i])
            return 1;
    return 0;
}

/* The systematic sample x[i * stride], i < ceil(n / stride), taken in [lo, hi) right after
 * that range was read (still in cache), with its non-zero and saturated counts. */
typedef struct {
    int64_t stride;
    float *out;
    int has_bounds;
    float mid, near;
} sample_t;

static void sample_part(const float *x, int64_t lo, int64_t hi, const sample_t *s,
                        int64_t *nonzero, int64_t *sat)
{
    int64_t nz = 0, st = 0;
    for (int64_t i = (lo + s->stride - 1) / s->stride; i * s->stride < hi; i++) {
        float v = x[i * s->stride];
        s->out[i] = v;
        nz += (v != 0.0f);
        if (s->has_bounds)
            st += (fabsf(v - s->mid) >= s->near);
    }
    *nonzero = nz;
    *sat = st;
}

/* The shift: the mean of at most 64 systematically spaced elements. With float64 sums it
 * only has to be within many standard deviations of the mean (it keeps mean >> std from
 * cancelling in the float32 row); a larger pre-sample cost a cache miss per element. */
static float shift_of(const float *x, int64_t n)
{
    int64_t k = n < 64 ? n : 64;
    if (k == 0)
        return 0.0f;
    int64_t step = n / k;
    double s = 0.0;
    for (int64_t i = 0; i < k; i++)
        s += (double)x[i * step];
    float c = (float)(s / (double)k);
    return isfinite(c) ? c : 0.0f; /* Inf/NaN there: the row is reported as NaN anyway */
}

static void moments_all(const float *x, int64_t n, float c, moments_t *t, const sample_t *smp,
                        int64_t *nonzero, int64_t *sat)
{
    t->s1 = 0.0;
    t->s2 = 0.0;
    t->mn = INFINITY;
    t->mx = -INFINITY;
    *nonzero = *sat = 0;
    if (n < PARALLEL_MIN) {
        moments_pass(x, n, c, t);
        sample_part(x, 0, n, smp, nonzero, sat);
        t->nan = has_nan(x, n, t);
        return;
    }
#pragma omp parallel
    {
        int64_t lo, hi, nz = 0, st = 0;
        thread_share(n, &lo, &hi);
        moments_t a = {0.0, 0.0, INFINITY, -INFINITY, 0};
        if (lo < hi) {
            moments_pass(x + lo, hi - lo, c, &a);
            sample_part(x, lo, hi, smp, &nz, &st);
        }
#pragma omp critical
        {
            t->s1 += a.s1;
            t->s2 += a.s2;
            if (a.mn < t->mn)
                t->mn = a.mn;
            if (a.mx > t->mx)
                t->mx = a.mx;
            *nonzero += nz;
            *sat += st;
        }
    }
    t->nan = has_nan(x, n, t);
}

/* sample receives ceil(n / stride) elements */
void inspector_summarize(const float *x, int64_t n, int64_t stride, float *sample,
                         int has_bounds, float mid, float near, float *row)
{
    sample_t smp = {stride, sample, has_bounds, mid, near};
    float c = shift_of(x, n);
    moments_t t;
    int64_t nonzero, sat;
    moments_all(x, n, c, &t, &smp, &nonzero, &sat);
    float mn = t.nan ? NAN : t.mn, mx = t.nan ? NAN : t.mx;
    double r = fmax((double)mx - (double)c, (double)c - (double)mn);
    if (r < 0x1p-126)
        r = 0x1p-126;
    row[0] = c;
    row[1] = (float)r;
    row[2] = (float)(t.s1 / r);
    row[3] = (float)(sqrt(t.s2) / r);
    row[4] = mn;
    row[5] = mx;
    row[6] = (float)nonzero;
    row[7] = (float)sat;
}

static double squares_pass(const float *restrict x, int64_t n)
{
    double s[LANES];
    for (int j = 0; j < LANES; j++)
        s[j] = 0.0;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++)
            s[j] += (double)x[i + j] * (double)x[i + j];
    for (int j = 0; i + j < n; j++)
        s[j] += (double)x[i + j] * (double)x[i + j];
    double t = 0.0;
    for (int j = 0; j < LANES; j++)
        t += s[j];
    return t;
}

/* sum w^2 and sum g^2 over the same range, in one read of each */
static void squares_pass2(const float *restrict w, const float *restrict g, int64_t n,
                          double *sw, double *sg)
{
    double a[LANES], b[LANES];
    for (int j = 0; j < LANES; j++)
        a[j] = b[j] = 0.0;
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            a[j] += (double)w[i + j] * (double)w[i + j];
            b[j] += (double)g[i + j] * (double)g[i + j];
        }
    for (int j = 0; i + j < n; j++) {
        a[j] += (double)w[i + j] * (double)w[i + j];
        b[j] += (double)g[i + j] * (double)g[i + j];
    }
    double ta = 0.0, tb = 0.0;
    for (int j = 0; j < LANES; j++) {
        ta += a[j];
        tb += b[j];
    }
    *sw = ta;
    *sg = tb;
}

/* inspector_active_units: out[c] = 1 if some element of unit c is > 0, for x viewed as
 * (outer, channels, inner) (a rectifier's output, units on the middle axis). Stops reading
 * a unit at its first positive element, so a healthy layer costs a few reads per unit; a
 * NaN is not > 0. */
void inspector_active_units(const float *x, int64_t outer, int64_t channels, int64_t inner,
                            uint8_t *out)
{
    for (int64_t c = 0; c < channels; c++)
        out[c] = 0;
    if (inner == 1) { /* units last (Linear, attention): rows until every unit has fired */
        int64_t left = channels;
        for (int64_t o = 0; o < outer && left > 0; o++) {
            const float *row = x + o * channels;
            for (int64_t c = 0; c < channels; c++) {
                if (!out[c] && row[c] > 0.0f) {
                    out[c] = 1;
                    left--;
                }
            }
        }
        return;
    }
    for (int64_t c = 0; c < channels; c++) {
        for (int64_t o = 0; o < outer && !out[c]; o++) {
            const float *p = x + (o * channels + c) * inner;
            for (int64_t i = 0; i < inner; i++) {
                if (p[i] > 0.0f) {
                    out[c] = 1;
                    break;
                }
            }
        }
    }
}

/* inspector_histograms: fixed-edge histograms of many float32 samples, grouped.
 * Group g owns samples[starts[g]] .. samples[starts[g + 1] - 1] (each ``lengths[s]``
 * elements ``strides[s]`` apart); its row of ``out``
 * (``width`` doubles: n_bins bins, then the NaN and Inf counts) receives their counts.
 * Bins come from the magnitude |x| through two tables indexed by the top 12 bits of its
 * float32 pattern (exponent and 4 mantissa bits: a cell spans a factor <= 1.0625, less
 * than the ratio between two edges, so at most one edge lies inside): k = number of edge
 * magnitudes <= |x| = base[cell] + (|x| >= inner[cell]), exact for float32 edges.
 * symlog != 0: bin = center +- k by the sign (the symlog scale); else bin = k. */
void inspector_histograms(const float *const *samples, const int64_t *lengths,
                          const int64_t *strides, const int64_t *starts, int64_t groups, const int32_t *base,
                          const float *inner, int symlog, int64_t center, int64_t n_bins,
                          double *out)
{
    int64_t width = n_bins + 2;
#pragma omp parallel for schedule(dynamic, 1) if (groups > 1)
    for (int64_t g = 0; g < groups; g++) {
        int64_t local[4][256];
        memset(local, 0, sizeof(local));
        for (int64_t s = starts[g]; s < starts[g + 1]; s++) {
            const float *x = samples[s];
            int64_t n = lengths[s], step = strides[s];
            for (int64_t i = 0; i < n; i++) {
                uint32_t bits;
                memcpy(&bits, &x[i * step], 4);
                uint32_t a = bits & 0x7fffffffu;
                int64_t bin;
                if (a >= 0x7f800000u) {
                    bin = a == 0x7f800000u ? n_bins + 1 : n_bins;
                } else {
                    float mag;
                    memcpy(&mag, &a, 4);
                    uint32_t cell = a >> 19;
                    int64_t k = base[cell] + (mag >= inner[cell]);
                    bin = symlog ? ((bits >> 31) ? center - k : center + k) : k;
                }
                local[i & 3][bin]++;
            }
        }
        for (int64_t b = 0; b < width; b++)
            out[g * width + b] = (double)(local[0][b] + local[1][b] + local[2][b] + local[3][b]);
    }
}

/* inspector_gather: dst[j][i] = src[j][i * strides[j]] for i < lengths[j] (the parameters'
 * update samples, snapshotted before a recorded step). */
void inspector_gather(const float *const *src, const int64_t *strides, const int64_t *lengths,
                      int64_t k, float *const *dst)
{
    for (int64_t j = 0; j < k; j++) {
        const float *s = src[j];
        float *d = dst[j];
        int64_t step = strides[j];
        for (int64_t i = 0; i < lengths[j]; i++)
            d[i] = s[i * step];
    }
}

/* inspector_update_norms: per tensor j, before[j] = sum b^2 and change[j] = sum (a - b)^2
 * in float64, a = src[j][i * strides[j]] (the weights now), b = snap[j][i] (the snapshot). */
void inspector_update_norms(const float *const *src, const int64_t *strides,
                            const int64_t *lengths, int64_t k, const float *const *snap,
                            double *before, double *change)
{
    for (int64_t j = 0; j < k; j++) {
        const float *s = src[j], *b = snap[j];
        int64_t step = strides[j];
        double sb = 0.0, sd = 0.0;
        for (int64_t i = 0; i < lengths[j]; i++) {
            double bi = (double)b[i], d = (double)s[i * step] - bi;
            sb += bi * bi;
            sd += d * d;
        }
        before[j] = sb;
        change[j] = sd;
    }
}

/* One thread's part [a, b) of parameter j for inspector_param_pass: squares of the weights
 * and gradients there, and the sampled elements i * stride that fall inside it. */
static void param_part(const float *restrict w, const float *restrict g, int64_t a, int64_t b,
                       int64_t stride, float *restrict snap, float *restrict gs, double *acc)
{
    double sw, sg = 0.0;
    if (g)
        squares_pass2(w + a, g + a, b - a, &sw, &sg);
    else
        sw = squares_pass(w + a, b - a);
    double sb = 0.0, sd = 0.0;
    for (int64_t i = (a + stride - 1) / stride; i * stride < b; i++) {
        float now = w[i * stride];
        if (snap) {
            double before = (double)snap[i], d = (double)now - before;
            sb += before * before;
            sd += d * d;
            snap[i] = now;
        }
        if (gs)
            gs[i] = g[i * stride];
    }
    acc[0] = sw;
    acc[1] = sd;
    acc[2] = sg;
    acc[3] = sb;
}

/* inspector_param_pass: the recorder's whole per-step parameter work in one read of every
 * weight and gradient (k contiguous float32 tensors of n[j] elements; g[j] may be NULL).
 * out is 4 x k float64: [sum w^2, sum (w[i*s] - snap[i])^2, sum g^2, sum snap[i]^2] per
 * tensor, s = stride[j]. When snap is given, each snap[j][i] is compared with w[j][i*s] and
 * then replaced by it (the snapshot the next recorded step's update is measured against);
 * when gs is given, gs[j][i] = g[j][i*s] (the gradient's histogram sample). */
void inspector_param_pass(const float *const *w, const float *const *g, const int64_t *n,
                          const int64_t *stride, int64_t k, float *const *snap,
                          float *const *gs, double *out)
{
    int64_t total = 0;
    for (int64_t j = 0; j < 4 * k; j++)
        out[j] = 0.0;
    for (int64_t j = 0; j < k; j++)
        total += n[j];
#pragma omp parallel if (total >= PARALLEL_MIN)
    {
        int64_t lo, hi;
        thread_share(total, &lo, &hi);
        int64_t start = 0;
        for (int64_t j = 0; j < k && start < hi; j++) {
            int64_t end = start + n[j];
            int64_t a = lo > start ? lo : start, b = hi < end ? hi : end;
            if (a < b) {
                double acc[4];
                param_part(w[j], g[j], a - start, b - start, stride[j], snap ? snap[j] : 0,
                           gs && g[j] ? gs[j] : 0, acc);
                for (int q = 0; q < 4; q++) {
#pragma omp atomic
                    out[q * k + j] += acc[q];
                }
            }
            start = end;
        }
    }
}
