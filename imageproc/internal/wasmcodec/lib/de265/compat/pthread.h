/* pthread.h for a single-threaded wasm32-wasi build of libde265: wasi-libc
 * has no threads. picbed never starts de265's worker threads
 * (de265_start_worker_threads is not called), so creating one fails and the
 * locks are no-ops. */
#ifndef PICBED_WASI_PTHREAD_H
#define PICBED_WASI_PTHREAD_H

#include <sys/types.h> /* wasi-libc declares the pthread types */

static inline int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*f)(void *), void *arg) { (void)t; (void)a; (void)f; (void)arg; return 1; }
static inline int pthread_join(pthread_t t, void **r) { (void)t; (void)r; return 1; }
static inline int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) { (void)m; (void)a; return 0; }
static inline int pthread_mutex_destroy(pthread_mutex_t *m) { (void)m; return 0; }
static inline int pthread_mutex_lock(pthread_mutex_t *m) { (void)m; return 0; }
static inline int pthread_mutex_unlock(pthread_mutex_t *m) { (void)m; return 0; }
static inline int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) { (void)c; (void)a; return 0; }
static inline int pthread_cond_destroy(pthread_cond_t *c) { (void)c; return 0; }
static inline int pthread_cond_broadcast(pthread_cond_t *c) { (void)c; return 0; }
static inline int pthread_cond_signal(pthread_cond_t *c) { (void)c; return 0; }
static inline int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { (void)c; (void)m; return 0; }

#endif
