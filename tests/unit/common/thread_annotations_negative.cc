// thread_annotations_negative.cc: code that breaks lock discipline on purpose, to prove the
// clang check can fail. Never built. The ctest common_thread_annotations_negative compiles it
// with the flags of scripts/thread-safety plus `-Xclang -verify`, which passes only if clang
// reports exactly the errors marked below (and nothing else): a change that blinds the analysis
// (a macro expanding to nothing under clang, an unannotated Mutex) fails it.
// Not clang-formatted: each marker must stay on the line it describes.
// clang-format off
#include "common/thread_annotations.h"

namespace npushare {
namespace {

class Account {
 public:
  int ReadWithoutLock() {
    return balance_;  // expected-error {{reading variable 'balance_' requires holding mutex 'mu_'}}
  }

  void WriteWithoutLock() {
    balance_ = 1;  // expected-error {{writing variable 'balance_' requires holding mutex 'mu_' exclusively}}
  }

  void CallLockedHelperWithoutLock() {
    AddLocked(1);  // expected-error {{calling function 'AddLocked' requires holding mutex 'mu_' exclusively}}
  }

  void CallExcludingFunctionWithLockHeld() {
    MutexLock lock(&mu_);
    Deposit(1);  // expected-error {{cannot call function 'Deposit' while mutex 'mu_' is held}}
  }

  void WriteAfterEarlyUnlock() {
    MutexLock lock(&mu_);
    lock.Unlock();
    balance_ = 2;  // expected-error {{writing variable 'balance_' requires holding mutex 'mu_' exclusively}}
  }

  void ForgetToUnlock() {
    mu_.Lock();  // expected-note {{mutex acquired here}}
  }  // expected-error {{mutex 'mu_' is still held at the end of function}}

  void WaitWithUnannotatedPredicate() {
    MutexLock lock(&mu_);
    cv_.Wait(&mu_, [this] {
      return balance_ > 0;  // expected-error {{reading variable 'balance_' requires holding mutex 'mu_'}}
    });
  }

  void WaitWithoutTheLock() {
    cv_.Wait(&mu_);  // expected-error {{calling function 'Wait' requires holding mutex 'mu_' exclusively}}
  }

  void Deposit(int amount) NPUSHARE_EXCLUDES(mu_);

 private:
  void AddLocked(int amount) NPUSHARE_REQUIRES(mu_) { balance_ += amount; }

  Mutex mu_;
  CondVar cv_;
  int balance_ NPUSHARE_GUARDED_BY(mu_) = 0;
};

}  // namespace
}  // namespace npushare
