/*
 * energy_pairs.c - blocked, multithreaded pairwise distance sums (energy_pairs.h).
 *
 * Pairwise sums run over tiles of TILE x TILE points: the column tile is
 * transposed into a d x TILE scratch, so the inner loop runs over TILE
 * contiguous doubles per coordinate and vectorises; squared distances build
 * up in a TILE-long accumulator and are square-rooted once. Self sums visit
 * only tiles on or above the diagonal and double the result (d symmetric,
 * diagonal 0). Tile totals are added with compensation, so 10^8 and more terms
 * keep full precision.
 */
#include "score/energy_pairs.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/mem.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* 128 points x 21 coordinates of the transposed tile is ~21 KiB: it and the
 * row being processed stay in L1. A multiple of 4 (one AVX vector). */
#define TILE 128

/* Register blocking of the full (off-diagonal) tiles: ROWS points of A
 * against CHUNK points of B at a time, ROWS x CHUNK/4 vector accumulators
 * (8 AVX registers), so each loaded coordinate serves several pairs instead
 * of costing a load and a store per pair. */
#define ROWS 4
#define CHUNK 8

/* Below this many point pairs a job is not worth starting threads for. */
#define MIN_PAIRS_FOR_THREADS (1u << 20)

typedef struct ksum { /* Neumaier compensated sum */
    double s, c;
} ksum;

static void ksum_add(ksum *k, double v)
{
    const double t = k->s + v;
    if (fabs(k->s) >= fabs(v))
        k->c += (k->s - t) + v;
    else
        k->c += (v - t) + k->s;
    k->s = t;
}

/* Four doubles: one AVX register, or two SSE2 registers on the default path.
 * Written out because the default build (-O2) uses GCC's cheapest
 * vectoriser cost model, which leaves much of this loop scalar. */
typedef double v4d __attribute__((vector_size(32)));

/* bt[k * TILE + j] = coordinate k of point j of the m points at b; the
 * columns up to the next multiple of 8 (one register-blocked chunk) are zero
 * so every vector lane holds finite numbers. */
static void transpose_tile(const double *b, size_t m, size_t d, double *bt)
{
    for (size_t j = 0; j < m; j++)
        for (size_t k = 0; k < d; k++)
            bt[k * TILE + j] = b[j * d + k];
    for (size_t j = m; j % CHUNK; j++)
        for (size_t k = 0; k < d; k++)
            bt[k * TILE + j] = 0.0;
}

/* sum_{j0 <= j < m} sqrt(acc[j]). The SSE2 square root skips the errno check
 * that a libm sqrt call keeps under default flags. Fixed grouping, so the
 * result depends on nothing but the inputs. */
static double sum_sqrt(const double *acc, size_t j0, size_t m)
{
    size_t j = j0;
    double s = 0.0;
#if defined(__SSE2__)
    __m128d s0 = _mm_setzero_pd(), s1 = _mm_setzero_pd();
    for (; j + 4 <= m; j += 4) {
        s0 = _mm_add_pd(s0, _mm_sqrt_pd(_mm_loadu_pd(acc + j)));
        s1 = _mm_add_pd(s1, _mm_sqrt_pd(_mm_loadu_pd(acc + j + 2)));
    }
    s0 = _mm_add_pd(s0, s1);
    double lanes[2];
    _mm_storeu_pd(lanes, s0);
    s = lanes[0] + lanes[1];
#endif
    for (; j < m; j++)
        s += sqrt(acc[j]);
    return s;
}

/* sum_{j0 <= j < m} wb[j] sqrt(acc[j]), for the weighted (psw) score. */
static double weighted_sum_sqrt(const double *acc, const double *wb, size_t j0, size_t m)
{
    double s = 0.0;
    for (size_t j = j0; j < m; j++)
        s += wb[j] * sqrt(acc[j]);
    return s;
}

/* Sum of wa_i wb_j d(a_i, b_j) over the ma x mb tile (weights 1 when wa/wb are
 * NULL; both NULL or both set); with upper != 0 the two tiles are the same and
 * only pairs j > i count. acc: TILE doubles, bt: d x TILE, both 32-byte
 * aligned. Always inlined so each caller below gets its own instruction set. */
static inline __attribute__((always_inline)) double
tile_kernel(const double *a, const double *wa, size_t ma, const double *bt, const double *wb,
            size_t mb, size_t d, int upper, double *acc)
{
    v4d *vacc = (v4d *)acc;
    const size_t nv = (mb + 3) / 4;
    double total = 0.0;
    for (size_t i = 0; i < ma; i++) {
        const double *ai = a + i * d;
        const size_t j0 = upper ? i + 1 : 0;
        if (j0 >= mb)
            break;
        const size_t v0 = j0 / 4; /* whole vectors; lanes below j0 are ignored */
        for (size_t v = v0; v < nv; v++)
            vacc[v] = (v4d){0.0, 0.0, 0.0, 0.0};
        for (size_t k = 0; k < d; k++) {
            const double c = ai[k];
            const v4d aik = {c, c, c, c};
            const v4d *bk = (const v4d *)(bt + k * TILE);
            for (size_t v = v0; v < nv; v++) {
                const v4d diff = aik - bk[v];
                vacc[v] += diff * diff;
            }
        }
        total += wa ? wa[i] * weighted_sum_sqrt(acc, wb, j0, mb) : sum_sqrt(acc, j0, mb);
    }
    return total;
}

/* sum_{l < m} w[l] sqrt(sq[l]) (w NULL: weight 1) of one chunk. */
static double chunk_sum(const double *sq, const double *w, size_t m)
{
    if (w)
        return weighted_sum_sqrt(sq, w, 0, m);
    return sum_sqrt(sq, 0, m);
}

/* A full ma x mb tile (no symmetry), ROWS rows at a time; leftover rows go
 * through tile_kernel. Same contract as tile_kernel with upper = 0. */
static inline __attribute__((always_inline)) double
tile_kernel_blocked(const double *a, const double *wa, size_t ma, const double *bt,
                    const double *wb, size_t mb, size_t d, double *acc)
{
    double total = 0.0;
    size_t i = 0;
    for (; i + ROWS <= ma; i += ROWS) {
        double rs[ROWS] = {0.0};
        for (size_t j0 = 0; j0 < mb; j0 += CHUNK) {
            v4d s[ROWS][2];
            for (int r = 0; r < ROWS; r++)
                s[r][0] = s[r][1] = (v4d){0.0, 0.0, 0.0, 0.0};
            for (size_t k = 0; k < d; k++) {
                const v4d *bk = (const v4d *)(bt + k * TILE + j0);
                const v4d b0 = bk[0], b1 = bk[1];
                for (int r = 0; r < ROWS; r++) {
                    const double c = a[(i + (size_t)r) * d + k];
                    const v4d ar = {c, c, c, c};
                    const v4d d0 = ar - b0, d1 = ar - b1;
                    s[r][0] += d0 * d0;
                    s[r][1] += d1 * d1;
                }
            }
            const size_t m = mb - j0 < CHUNK ? mb - j0 : CHUNK;
            for (int r = 0; r < ROWS; r++) {
                v4d *out = (v4d *)acc;
                out[0] = s[r][0];
                out[1] = s[r][1];
                rs[r] += chunk_sum(acc, wb ? wb + j0 : NULL, m);
            }
        }
        for (int r = 0; r < ROWS; r++)
            total += wa ? wa[i + (size_t)r] * rs[r] : rs[r];
    }
    if (i < ma)
        total += tile_kernel(a + i * d, wa ? wa + i : NULL, ma - i, bt, wb, mb, d, 0, acc);
    return total;
}

static double tile_sum_base(const double *a, const double *wa, size_t ma, const double *bt,
                            const double *wb, size_t mb, size_t d, int upper, double *acc)
{
    if (upper)
        return tile_kernel(a, wa, ma, bt, wb, mb, d, 1, acc);
    return tile_kernel_blocked(a, wa, ma, bt, wb, mb, d, acc);
}

#if defined(__x86_64__) && defined(__GNUC__)
/* AVX2 without FMA: the same operations in the same order as the base path,
 * so both give identical bits; only the vector width differs. */
__attribute__((target("avx2"))) static double
tile_sum_avx2(const double *a, const double *wa, size_t ma, const double *bt, const double *wb,
              size_t mb, size_t d, int upper, double *acc)
{
    if (upper)
        return tile_kernel(a, wa, ma, bt, wb, mb, d, 1, acc);
    return tile_kernel_blocked(a, wa, ma, bt, wb, mb, d, acc);
}
#endif

typedef double (*tile_fn)(const double *, const double *, size_t, const double *, const double *,
                          size_t, size_t, int, double *);

static tile_fn pick_tile_fn(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx2"))
        return tile_sum_avx2;
#endif
    return tile_sum_base;
}

/* One task: column tile `tile` of sum `sum`; its partial sum goes to slot. */
typedef struct task {
    size_t sum, tile;
} task;

typedef struct job {
    tt_pair_sum *sums;
    const task *tasks;
    size_t n_tasks, d;
    double *slot;       /* n_tasks partial sums */
    tile_fn fn;
    size_t next;        /* next task to hand out (atomic) */
} job;

static void run_task(const job *jb, const task *tk, double *work, double *slot)
{
    const tt_pair_sum *s = &jb->sums[tk->sum];
    const size_t d = jb->d, j0 = tk->tile * TILE;
    double *bt = work, *acc = work + d * TILE;
    const double *b = s->self ? s->a : s->b, *wb = s->self ? s->wa : s->wb;
    const size_t nb = s->self ? s->na : s->nb;
    const size_t mb = nb - j0 < TILE ? nb - j0 : TILE;
    transpose_tile(b + j0 * d, mb, d, bt);
    /* A self sum pairs column tile j with row tiles 0..j only (symmetry). */
    const size_t rows = s->self ? j0 + 1 : s->na;
    ksum total = {0.0, 0.0};
    for (size_t i0 = 0; i0 < rows; i0 += TILE) {
        const size_t ma = s->na - i0 < TILE ? s->na - i0 : TILE;
        ksum_add(&total, jb->fn(s->a + i0 * d, s->wa ? s->wa + i0 : NULL, ma, bt,
                                wb ? wb + j0 : NULL, mb, d, s->self && i0 == j0, acc));
    }
    *slot = total.s + total.c;
}

/* Scratch for one thread: a d x TILE transposed tile and TILE accumulators. */
static double *alloc_work(size_t d)
{
    if (d > (SIZE_MAX / sizeof(double) - TILE) / TILE - 1)
        return NULL;
    return aligned_alloc(64, ((d + 1) * TILE * sizeof(double) + 63) / 64 * 64);
}

/* Tasks are handed out last first: the last column tiles of a self sum carry
 * the most row tiles, so starting with them balances the threads. Which
 * thread runs a task never changes what it computes. */
static void *worker(void *arg)
{
    job *jb = arg;
    double *work = alloc_work(jb->d);
    if (!work)
        return (void *)1;
    for (;;) {
        const size_t k = __atomic_fetch_add(&jb->next, 1, __ATOMIC_RELAXED);
        if (k >= jb->n_tasks)
            break;
        const size_t idx = jb->n_tasks - 1 - k;
        run_task(jb, &jb->tasks[idx], work, &jb->slot[idx]);
    }
    free(work);
    return NULL;
}

tt_status tt_pair_sums(tt_pair_sum *sums, size_t n_sums, size_t d, int n_threads)
{
    size_t n_tasks = 0;
    double pairs = 0.0;
    for (size_t s = 0; s < n_sums; s++) {
        const size_t cols = sums[s].self ? sums[s].na : sums[s].nb;
        n_tasks += (cols + TILE - 1) / TILE;
        pairs += (double)sums[s].na * (double)cols;
        sums[s].result = 0.0;
    }
    if (n_tasks == 0)
        return TT_OK;
    task *tasks = tt_malloc_array(n_tasks, sizeof *tasks);
    double *slot = tt_malloc_array(n_tasks, sizeof *slot);
    if (!tasks || !slot) {
        free(tasks);
        free(slot);
        return TT_ERR_NOMEM;
    }
    size_t at = 0;
    for (size_t s = 0; s < n_sums; s++) {
        const size_t cols = sums[s].self ? sums[s].na : sums[s].nb;
        for (size_t j = 0; j * TILE < cols; j++)
            tasks[at++] = (task){s, j};
    }
    job jb = {sums, tasks, n_tasks, d, slot, pick_tile_fn(), 0};

    if (n_threads <= 0)
        n_threads = TT_ENERGY_DEFAULT_THREADS;
    if (pairs < (double)MIN_PAIRS_FOR_THREADS)
        n_threads = 1;
    if ((size_t)n_threads > n_tasks)
        n_threads = (int)n_tasks;
    pthread_t tid[64];
    if (n_threads > 64)
        n_threads = 64;
    int started = 0;
    for (int i = 1; i < n_threads; i++) {
        if (pthread_create(&tid[started], NULL, worker, &jb) != 0)
            break; /* the remaining threads pick up the work */
        started++;
    }
    worker(&jb);
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    /* A thread that cannot get scratch returns before taking a task, and any
     * thread that runs keeps taking tasks until none is left; so work is
     * missing only if every thread failed. */
    if (__atomic_load_n(&jb.next, __ATOMIC_RELAXED) < n_tasks) {
        free(tasks);
        free(slot);
        return TT_ERR_NOMEM;
    }
    /* Fixed-order reduction: slots in task order, per sum. */
    at = 0;
    for (size_t s = 0; s < n_sums; s++) {
        const size_t cols = sums[s].self ? sums[s].na : sums[s].nb;
        ksum total = {0.0, 0.0};
        for (size_t j = 0; j * TILE < cols; j++)
            ksum_add(&total, slot[at++]);
        sums[s].result = (sums[s].self ? 2.0 : 1.0) * (total.s + total.c);
    }
    free(tasks);
    free(slot);
    return TT_OK;
}
