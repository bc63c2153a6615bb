// Tests for common/thread_annotations.h: Mutex, MutexLock and CondVar behave like the std types
// they wrap. (That the annotations are checked is shown by thread_annotations_negative.cc.)
#include "common/thread_annotations.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace npushare {
namespace {

// A long deadline: waits below return as soon as their condition holds; this only bounds a hang.
constexpr std::chrono::seconds kDeadline{60};

// IsFree: whether the calling thread can take `mu` right now (released again at once). The
// TryLock result is branched on directly so that the analysis can follow it.
bool IsFree(Mutex& mu) {
  if (!mu.TryLock()) {
    return false;
  }
  mu.Unlock();
  return true;
}

TEST(MutexTest, TryLockFailsWhileHeldAndSucceedsAfterUnlock) {
  Mutex mu;
  mu.Lock();
  bool free_elsewhere = true;
  std::thread other([&] { free_elsewhere = IsFree(mu); });
  other.join();
  EXPECT_FALSE(free_elsewhere);
  mu.Unlock();
  EXPECT_TRUE(IsFree(mu));
}

TEST(MutexTest, MutexLockHoldsForItsScopeAndUnlockLockInBetween) {
  Mutex mu;
  {
    MutexLock lock(&mu);
    bool free_elsewhere = true;
    std::thread probe([&] { free_elsewhere = IsFree(mu); });
    probe.join();
    EXPECT_FALSE(free_elsewhere);
    lock.Unlock();
    std::thread probe_free([&] { free_elsewhere = IsFree(mu); });
    probe_free.join();
    EXPECT_TRUE(free_elsewhere);
    lock.Lock();
  }
  // The guard released the mutex on destruction (it was re-locked before).
  EXPECT_TRUE(IsFree(mu));
}

TEST(MutexTest, ExcludesConcurrentIncrements) {
  Mutex mu;
  int64_t counter = 0;  // plain int: a lost update would show as a smaller total
  constexpr int kThreads = 4;
  constexpr int kIterations = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIterations; ++i) {
        MutexLock lock(&mu);
        ++counter;
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(counter, int64_t{kThreads} * kIterations);
}

// Queue: the pattern the header documents, with annotations the clang check verifies.
class Queue {
 public:
  void Push(int v) NPUSHARE_EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    items_.push_back(v);
    cv_.NotifyAll();
  }
  int PopBlocking() NPUSHARE_EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    cv_.Wait(&mu_, [this]() NPUSHARE_REQUIRES(mu_) { return !items_.empty(); });
    return TakeFrontLocked();
  }
  // PopFor: false if nothing arrived within `timeout`.
  bool PopFor(std::chrono::milliseconds timeout, int* out) NPUSHARE_EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    if (!cv_.WaitFor(&mu_, timeout, [this]() NPUSHARE_REQUIRES(mu_) { return !items_.empty(); })) {
      return false;
    }
    *out = TakeFrontLocked();
    return true;
  }
  bool PopUntil(std::chrono::steady_clock::time_point deadline, int* out) NPUSHARE_EXCLUDES(mu_) {
    MutexLock lock(&mu_);
    if (!cv_.WaitUntil(&mu_, deadline,
                       [this]() NPUSHARE_REQUIRES(mu_) { return !items_.empty(); })) {
      return false;
    }
    *out = TakeFrontLocked();
    return true;
  }

 private:
  int TakeFrontLocked() NPUSHARE_REQUIRES(mu_) {
    const int v = items_.front();
    items_.erase(items_.begin());
    return v;
  }

  Mutex mu_;
  CondVar cv_;
  std::vector<int> items_ NPUSHARE_GUARDED_BY(mu_);
};

TEST(CondVarTest, WaitWithPredicateReturnsOncePushed) {
  Queue q;
  std::atomic<int> popped{-1};
  std::thread consumer([&] { popped = q.PopBlocking(); });
  q.Push(7);
  consumer.join();
  EXPECT_EQ(popped.load(), 7);
}

TEST(CondVarTest, WaitForTimesOutWithFalseWhenNothingArrives) {
  Queue q;
  int v = 0;
  EXPECT_FALSE(q.PopFor(std::chrono::milliseconds(1), &v));
  q.Push(3);
  ASSERT_TRUE(q.PopFor(std::chrono::milliseconds(1), &v));  // predicate already true
  EXPECT_EQ(v, 3);
}

TEST(CondVarTest, WaitForWakesOnNotifyBeforeTheDeadline) {
  Queue q;
  std::atomic<bool> got{false};
  std::atomic<int> value{0};
  std::thread consumer([&] {
    int v = 0;
    got = q.PopFor(std::chrono::duration_cast<std::chrono::milliseconds>(kDeadline), &v);
    value = v;
  });
  q.Push(11);
  consumer.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(value.load(), 11);
}

TEST(CondVarTest, WaitUntilPastDeadlineReturnsFalseAndKeepsTheLockUsable) {
  Queue q;
  int v = 0;
  EXPECT_FALSE(q.PopUntil(std::chrono::steady_clock::now(), &v));
  q.Push(5);  // would deadlock if the failed wait had left the mutex held
  ASSERT_TRUE(q.PopUntil(std::chrono::steady_clock::now() + kDeadline, &v));
  EXPECT_EQ(v, 5);
}

TEST(CondVarTest, PlainWaitAndWaitForReturnWithTheMutexHeld) {
  Mutex mu;
  CondVar cv;
  bool ready = false;  // written and read only with mu held
  std::thread notifier([&] {
    MutexLock lock(&mu);
    ready = true;
    cv.NotifyOne();
  });
  {
    MutexLock lock(&mu);
    while (!ready) {  // no predicate: the caller loops over spurious wake-ups itself
      cv.Wait(&mu);
    }
    cv.WaitFor(&mu, std::chrono::milliseconds(1));  // times out (or wakes spuriously)
    bool free_elsewhere = true;
    std::thread probe([&] { free_elsewhere = IsFree(mu); });
    probe.join();
    EXPECT_FALSE(free_elsewhere);  // both waits handed the mutex back to this thread
    EXPECT_TRUE(ready);
  }
  notifier.join();
  EXPECT_TRUE(IsFree(mu));
}

}  // namespace
}  // namespace npushare
