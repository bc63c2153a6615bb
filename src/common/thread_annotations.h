// File: common/thread_annotations.h
//
// Lock discipline the compiler checks: clang's thread-safety annotations behind NPUSHARE_ macros,
// and a small annotated Mutex / MutexLock / CondVar to use them with. The attributes and their
// meaning are clang's (https://clang.llvm.org/docs/ThreadSafetyAnalysis.html); with GCC every
// macro expands to nothing and the types cost what std::mutex / std::condition_variable cost.
// scripts/thread-safety compiles the tree with clang -Wthread-safety -Werror=thread-safety.
//
// Why our own Mutex: libstdc++'s std::mutex and std::lock_guard carry no capability attributes,
// so the analysis cannot see a lock taken through them and would flag every guarded access.
//
// Why CondVar takes the Mutex and not a lock object: a wait releases and re-acquires the mutex
// inside the call, so for the caller the mutex is held before and after; `Wait(&mu_)` declared
// NPUSHARE_REQUIRES(mu) states exactly that. Inside, the held std::mutex is adopted by a
// std::unique_lock for std::condition_variable (cheaper than condition_variable_any) and
// released back without unlocking. A predicate is a lambda, and clang analyses a lambda body as
// a separate function that holds no lock: annotate the lambda with the lock it reads under,
// `[this]() NPUSHARE_REQUIRES(mu_) { return stop_; }`. The predicate is called with the mutex
// held; the CondVar templates themselves are exempt from analysis because clang cannot relate
// the lambda's capture of `mu_` to the `mu` parameter.
//
// Usage:
//   class Queue {
//    public:
//     void Push(int v) NPUSHARE_EXCLUDES(mu_) {
//       MutexLock lock(&mu_);
//       items_.push_back(v);
//       cv_.NotifyOne();
//     }
//     int Pop() NPUSHARE_EXCLUDES(mu_) {
//       MutexLock lock(&mu_);
//       cv_.Wait(&mu_, [this]() NPUSHARE_REQUIRES(mu_) { return !items_.empty(); });
//       return TakeFrontLocked();
//     }
//    private:
//     int TakeFrontLocked() NPUSHARE_REQUIRES(mu_);
//     Mutex mu_;
//     CondVar cv_;
//     std::deque<int> items_ NPUSHARE_GUARDED_BY(mu_);
//   };
//
// Thread safety: Mutex and CondVar are safe for concurrent use (that is their job); a MutexLock
// belongs to the thread that created it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__clang__)
#define NPUSHARE_THREAD_ANNOTATION_(x) __attribute__((x))
#else
#define NPUSHARE_THREAD_ANNOTATION_(x)
#endif

// NPUSHARE_CAPABILITY: the class is a lock; `name` appears in diagnostics ("mutex").
#define NPUSHARE_CAPABILITY(name) NPUSHARE_THREAD_ANNOTATION_(capability(name))
// NPUSHARE_SCOPED_CAPABILITY: the class acquires in its constructor and releases in its
// destructor (RAII guard).
#define NPUSHARE_SCOPED_CAPABILITY NPUSHARE_THREAD_ANNOTATION_(scoped_lockable)
// NPUSHARE_GUARDED_BY: the member may be read or written only with `mu` held.
#define NPUSHARE_GUARDED_BY(mu) NPUSHARE_THREAD_ANNOTATION_(guarded_by(mu))
// NPUSHARE_PT_GUARDED_BY: what the pointer member points to may be used only with `mu` held
// (the pointer itself is not guarded).
#define NPUSHARE_PT_GUARDED_BY(mu) NPUSHARE_THREAD_ANNOTATION_(pt_guarded_by(mu))
// NPUSHARE_ACQUIRED_BEFORE / _AFTER: lock order between two mutexes.
#define NPUSHARE_ACQUIRED_BEFORE(...) NPUSHARE_THREAD_ANNOTATION_(acquired_before(__VA_ARGS__))
#define NPUSHARE_ACQUIRED_AFTER(...) NPUSHARE_THREAD_ANNOTATION_(acquired_after(__VA_ARGS__))
// NPUSHARE_REQUIRES: the caller must hold the lock(s) (exclusively) when calling the function.
#define NPUSHARE_REQUIRES(...) NPUSHARE_THREAD_ANNOTATION_(requires_capability(__VA_ARGS__))
// NPUSHARE_REQUIRES_SHARED: the caller must hold the lock(s) at least shared.
#define NPUSHARE_REQUIRES_SHARED(...) \
  NPUSHARE_THREAD_ANNOTATION_(requires_shared_capability(__VA_ARGS__))
// NPUSHARE_EXCLUDES: the caller must NOT hold the lock(s); the function takes them itself.
#define NPUSHARE_EXCLUDES(...) NPUSHARE_THREAD_ANNOTATION_(locks_excluded(__VA_ARGS__))
// NPUSHARE_ACQUIRE / NPUSHARE_RELEASE: the function takes / releases the lock(s) (no argument:
// `this`, for the lock's own methods).
#define NPUSHARE_ACQUIRE(...) NPUSHARE_THREAD_ANNOTATION_(acquire_capability(__VA_ARGS__))
#define NPUSHARE_RELEASE(...) NPUSHARE_THREAD_ANNOTATION_(release_capability(__VA_ARGS__))
// NPUSHARE_TRY_ACQUIRE: the function takes the lock when it returns `result` (e.g. true).
#define NPUSHARE_TRY_ACQUIRE(...) NPUSHARE_THREAD_ANNOTATION_(try_acquire_capability(__VA_ARGS__))
// NPUSHARE_ASSERT_CAPABILITY: after the call the analysis assumes the lock is held.
#define NPUSHARE_ASSERT_CAPABILITY(x) NPUSHARE_THREAD_ANNOTATION_(assert_capability(x))
// NPUSHARE_RETURN_CAPABILITY: the function returns a reference to the lock `x` (accessors).
#define NPUSHARE_RETURN_CAPABILITY(x) NPUSHARE_THREAD_ANNOTATION_(lock_returned(x))
// NPUSHARE_NO_THREAD_SAFETY_ANALYSIS: turns the analysis off for one function. Last resort;
// say why next to it.
#define NPUSHARE_NO_THREAD_SAFETY_ANALYSIS NPUSHARE_THREAD_ANNOTATION_(no_thread_safety_analysis)

namespace npushare {

class CondVar;

// Mutex: a std::mutex the analysis can see. Not recursive; not copyable or movable.
class NPUSHARE_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  // Lock: blocks until the calling thread holds the mutex. REQUIRES: not already held by it.
  void Lock() NPUSHARE_ACQUIRE() { mu_.lock(); }
  // Unlock: releases the mutex. REQUIRES: held by the calling thread.
  void Unlock() NPUSHARE_RELEASE() { mu_.unlock(); }
  // TryLock: takes the mutex if it is free and returns true; returns false at once otherwise.
  bool TryLock() NPUSHARE_TRY_ACQUIRE(true) { return mu_.try_lock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// MutexLock: holds `*mu` from construction to destruction. Unlock()/Lock() drop and retake it in
// between (e.g. around a slow call), like std::unique_lock; the destructor releases only if
// held. The analysis tracks both.
class NPUSHARE_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex* mu) NPUSHARE_ACQUIRE(mu) : mu_(mu) { mu_->Lock(); }
  ~MutexLock() NPUSHARE_RELEASE() {
    if (held_) {
      mu_->Unlock();
    }
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Unlock: releases the mutex early. REQUIRES: held through this guard.
  void Unlock() NPUSHARE_RELEASE() {
    held_ = false;
    mu_->Unlock();
  }
  // Lock: retakes the mutex after Unlock(). REQUIRES: not held through this guard.
  void Lock() NPUSHARE_ACQUIRE() {
    mu_->Lock();
    held_ = true;
  }

 private:
  Mutex* const mu_;
  bool held_ = true;
};

// CondVar: std::condition_variable for a Mutex. Every wait REQUIRES the mutex: it is released
// while waiting and held again when the call returns (also on timeout). Waits without a
// predicate may wake spuriously; the predicate forms loop until it holds (or time is up).
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Wait: blocks until notified (or a spurious wake-up).
  void Wait(Mutex* mu) NPUSHARE_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();  // the caller still owns the mutex
  }

  // Wait: blocks until `pred()` is true. `pred` runs with `*mu` held.
  template <typename Predicate>
  void Wait(Mutex* mu, Predicate pred) NPUSHARE_REQUIRES(mu) NPUSHARE_NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock, pred);
    lock.release();
  }

  // WaitFor: blocks until notified or `timeout` has passed. Returns std::cv_status::timeout if
  // the time ran out.
  template <typename Rep, typename Period>
  std::cv_status WaitFor(Mutex* mu, std::chrono::duration<Rep, Period> timeout)
      NPUSHARE_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const std::cv_status status = cv_.wait_for(lock, timeout);
    lock.release();
    return status;
  }

  // WaitFor: blocks until `pred()` is true or `timeout` has passed. Returns pred()'s last value.
  template <typename Rep, typename Period, typename Predicate>
  bool WaitFor(Mutex* mu, std::chrono::duration<Rep, Period> timeout, Predicate pred)
      NPUSHARE_REQUIRES(mu) NPUSHARE_NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool satisfied = cv_.wait_for(lock, timeout, pred);
    lock.release();
    return satisfied;
  }

  // WaitUntil: blocks until notified or `deadline`. Returns std::cv_status::timeout if passed.
  template <typename Clock, typename Duration>
  std::cv_status WaitUntil(Mutex* mu, std::chrono::time_point<Clock, Duration> deadline)
      NPUSHARE_REQUIRES(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const std::cv_status status = cv_.wait_until(lock, deadline);
    lock.release();
    return status;
  }

  // WaitUntil: blocks until `pred()` is true or `deadline`. Returns pred()'s last value.
  template <typename Clock, typename Duration, typename Predicate>
  bool WaitUntil(Mutex* mu, std::chrono::time_point<Clock, Duration> deadline, Predicate pred)
      NPUSHARE_REQUIRES(mu) NPUSHARE_NO_THREAD_SAFETY_ANALYSIS {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    const bool satisfied = cv_.wait_until(lock, deadline, pred);
    lock.release();
    return satisfied;
  }

  // NotifyOne / NotifyAll: wake one / every waiter. The mutex need not be held.
  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace npushare
