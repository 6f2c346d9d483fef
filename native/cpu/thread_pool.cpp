// Work-sharing thread pool for the CPU ops (portable TU).
//
// Why not a plain `#pragma omp parallel`: an OpenMP region ends only when every thread of the team has reached
// its closing barrier. On a machine shared with other processes (2 cores here), a helper thread that is not
// scheduled for a tick (4 ms) stalls the whole region even if the caller has already done all the work; with 50+
// regions per ResNet inference this multiplied the median latency by 5-20x under load. Here the caller takes
// tasks itself and only waits for tasks that a helper has actually started: a helper that wakes late finds no
// task left and the caller never waits for it. Idle helpers spin briefly (back-to-back layers) and then sleep.
#include "conv_internal.h"
#include <immintrin.h>
#include <sched.h>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace rk_cpu_detail {
namespace {

struct Job {
  void (*fn)(void*, long long, int);
  void* ctx;
  long long ntask;
  int nthreads;
  std::atomic<long long> next{0};
  std::atomic<long long> done{0};
};

class Pool {
 public:
  // Runs the job with helpers 1..nthreads-1; returns when all tasks are done.
  void run(const std::shared_ptr<Job>& job) {
    ensure_workers(job->nthreads - 1);
    {
      std::lock_guard<std::mutex> lk(mu_);
      cur_ = job;
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    work(*job, 0);
    // wait for tasks started by helpers
    int spins = 0;
    while (job->done.load(std::memory_order_acquire) < job->ntask) {
      if (++spins < 2000) _mm_pause();
      else sched_yield();  // a preempted helper may need this core to finish its task
    }
    std::lock_guard<std::mutex> lk(mu_);
    if (cur_ == job) cur_.reset();
  }

  std::mutex& busy() { return busy_; }

 private:
  static void work(Job& job, int tid) {
    for (;;) {
      const long long t = job.next.fetch_add(1, std::memory_order_relaxed);
      if (t >= job.ntask) return;
      job.fn(job.ctx, t, tid);
      job.done.fetch_add(1, std::memory_order_release);
    }
  }

  void ensure_workers(int n) {
    std::lock_guard<std::mutex> lk(spawn_mu_);
    while ((int)nworkers_ < n) {
      const int id = (int)nworkers_ + 1;
      try {
        std::thread([this, id] { loop(id); }).detach();  // the pool lives until process exit
      } catch (...) {
        return;  // no more threads: the caller (and existing helpers) do the work
      }
      nworkers_++;
    }
  }

  void loop(int id) {
    unsigned long long seen = gen_.load(std::memory_order_acquire);
    for (;;) {
      // spin ~100 us for the next job (consecutive layers), then sleep
      const auto t0 = std::chrono::steady_clock::now();
      int it = 0;
      while (gen_.load(std::memory_order_acquire) == seen) {
        _mm_pause();
        if ((++it & 63) == 0 && std::chrono::steady_clock::now() - t0 > std::chrono::microseconds(100)) {
          std::unique_lock<std::mutex> lk(mu_);
          cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
          break;
        }
      }
      std::shared_ptr<Job> job;
      {
        std::lock_guard<std::mutex> lk(mu_);
        seen = gen_.load(std::memory_order_acquire);
        job = cur_;
      }
      if (job && id < job->nthreads) work(*job, id);
    }
  }

  std::mutex mu_, spawn_mu_, busy_;
  std::condition_variable cv_;
  std::shared_ptr<Job> cur_;
  std::atomic<unsigned long long> gen_{0};
  unsigned nworkers_ = 0;
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: helpers are detached and may outlive static destructors
  return *p;
}

}  // namespace

void parallel_for(long long ntask, int nthreads, void (*fn)(void*, long long, int), void* ctx) {
  if (ntask <= 0) return;
  if (nthreads > ntask) nthreads = (int)ntask;
  Pool& p = pool();
  std::unique_lock<std::mutex> busy(p.busy(), std::try_to_lock);
  if (nthreads <= 1 || !busy.owns_lock()) {  // serial, or another thread is using the pool: run here
    for (long long t = 0; t < ntask; t++) fn(ctx, t, 0);
    return;
  }
  std::shared_ptr<Job> job;
  try {
    job = std::make_shared<Job>();
  } catch (...) {
    for (long long t = 0; t < ntask; t++) fn(ctx, t, 0);
    return;
  }
  job->fn = fn;
  job->ctx = ctx;
  job->ntask = ntask;
  job->nthreads = nthreads;
  p.run(job);
}

}  // namespace rk_cpu_detail
