/* A fixed pool of worker threads for ComputeContext.parallelFor: chunk 0 runs on the caller and
 * chunk w (1 <= w < chunks) on worker w, so every chunk always gets its own core (a shared task
 * queue lets the caller take every chunk when a worker wakes late). Workers spin briefly on the
 * job counter, then sleep on a condition variable. No arithmetic: which thread runs a chunk never
 * changes its result. A nested or concurrent sne_pool_run runs its chunks inline, in order. */
#include "sne_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sched.h>

#define SNE_POOL_SPIN 20000

struct sne_pool {
    int32_t nworkers;
    pthread_t *tid;
    pthread_mutex_t mu, busy;
    pthread_cond_t cv;
    atomic_long generation;      /* bumped once per job; workers run the job of each new value */
    atomic_int pending;          /* workers still running the current job */
    int32_t chunks, stop;
    sne_chunk_fn fn;
    void *ctx;
};

typedef struct { sne_pool *p; int32_t index; } sne_worker_arg;

static _Thread_local int sne_in_pool = 0;

static inline void sne_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
}

/* Waits for a generation other than seen: spins, then sleeps. Returns the new generation. */
static long sne_pool_wait(sne_pool *p, long seen) {
    for (int i = 0; i < SNE_POOL_SPIN; i++) {
        long g = atomic_load_explicit(&p->generation, memory_order_acquire);
        if (g != seen) return g;
        sne_cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    long g;
    while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen) pthread_cond_wait(&p->cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
    return g;
}

static void *sne_pool_worker(void *arg) {
    sne_worker_arg a = *(sne_worker_arg *)arg;
    free(arg);
    sne_pool *p = a.p;
    sne_in_pool = 1;
    long seen = 0;
    for (;;) {
        seen = sne_pool_wait(p, seen);
        if (p->stop) return NULL;
        if (a.index < p->chunks) p->fn(p->ctx, a.index);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel);
    }
}

sne_pool *sne_pool_create(int32_t threads) {
    sne_pool *p = calloc(1, sizeof(sne_pool));
    if (!p) return NULL;
    p->nworkers = threads > 1 ? threads - 1 : 0;
    p->tid = calloc((size_t)(p->nworkers > 0 ? p->nworkers : 1), sizeof(pthread_t));
    pthread_mutex_init(&p->mu, NULL);
    pthread_mutex_init(&p->busy, NULL);
    pthread_cond_init(&p->cv, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    for (int32_t i = 0; i < p->nworkers; i++) {
        sne_worker_arg *a = malloc(sizeof(sne_worker_arg));
        a->p = p; a->index = i + 1;
        if (pthread_create(&p->tid[i], NULL, sne_pool_worker, a) != 0) { free(a); p->nworkers = i; break; }
    }
    return p;
}

/* Runs fn(ctx, c) for c in 0 ..< chunks and returns when all are done. */
void sne_pool_run(sne_pool *p, int32_t chunks, sne_chunk_fn fn, void *ctx) {
    if (chunks <= 0) return;
    if (!p || chunks == 1 || sne_in_pool || chunks > p->nworkers + 1 || pthread_mutex_trylock(&p->busy) != 0) {
        for (int32_t c = 0; c < chunks; c++) fn(ctx, c);
        return;
    }
    p->fn = fn; p->ctx = ctx; p->chunks = chunks;
    atomic_store_explicit(&p->pending, p->nworkers, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    sne_in_pool = 1;
    fn(ctx, 0);
    sne_in_pool = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) > 0) sne_cpu_relax();
    pthread_mutex_unlock(&p->busy);
}

void sne_pool_destroy(sne_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->busy);
    p->stop = 1;
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int32_t i = 0; i < p->nworkers; i++) pthread_join(p->tid[i], NULL);
    pthread_mutex_unlock(&p->busy);
    pthread_mutex_destroy(&p->mu); pthread_mutex_destroy(&p->busy); pthread_cond_destroy(&p->cv);
    free(p->tid); free(p);
}
