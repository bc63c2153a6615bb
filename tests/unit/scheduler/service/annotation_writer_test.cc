// AnnotationWriter: Wait blocks until the pod's write has landed, reports a failed write once
// (and to the failure callback), a later write supersedes an earlier failure, Stop performs
// what is still queued, Submit after Stop is refused.
#include "scheduler/service/annotation_writer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <vector>

namespace npushare::scheduler {
namespace {

using std::chrono::milliseconds;

// Gate: a write function that blocks until opened, recording what it wrote.
class Gate {
 public:
  Status Write(const PodAnnotationWrite& w) {
    std::unique_lock<std::mutex> lock(mu_);
    started_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return open_; });
    written_.push_back(w.key);
    return fail_.count(w.token) != 0 ? UnavailableError("api server down") : OkStatus();
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitStarted() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [this] { return started_; });
  }
  void FailToken(uint64_t token) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_.insert(token);
  }
  std::vector<std::string> Written() {
    std::lock_guard<std::mutex> lock(mu_);
    return written_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  bool started_ = false;
  std::set<uint64_t> fail_;
  std::vector<std::string> written_;
};

PodAnnotationWrite Write(const std::string& name, uint64_t token) {
  PodAnnotationWrite w;
  w.key = "default/" + name;
  w.ns = "default";
  w.name = name;
  w.patch = {{"metadata", {{"annotations", {{"k", name}}}}}};
  w.token = token;
  return w;
}

TEST(AnnotationWriterTest, WaitReturnsOnlyOnceThePodsWriteHasLanded) {
  Gate gate;
  AnnotationWriter writer([&](const PodAnnotationWrite& w) { return gate.Write(w); }, nullptr);
  writer.Start();
  EXPECT_TRUE(writer.Wait("default/none", milliseconds(0)).ok());  // nothing submitted

  PodAnnotationWrite w = Write("a", 1);
  ASSERT_TRUE(writer.Submit(std::move(w)));
  ASSERT_TRUE(gate.WaitStarted());
  // Still running: a short wait times out with kDeadlineExceeded.
  EXPECT_EQ(writer.Wait("default/a", milliseconds(20)).code(), StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(gate.Written().empty());
  gate.Open();
  EXPECT_TRUE(writer.Wait("default/a", std::chrono::seconds(20)).ok());
  EXPECT_EQ(gate.Written(), std::vector<std::string>{"default/a"});
}

TEST(AnnotationWriterTest, AFailedWriteIsReportedOnceAndToTheCallback) {
  Gate gate;
  gate.Open();
  gate.FailToken(7);
  std::atomic<uint64_t> failed_token{0};
  AnnotationWriter writer(
      [&](const PodAnnotationWrite& w) { return gate.Write(w); },
      [&](const PodAnnotationWrite& w, const Status&) { failed_token.store(w.token); });
  writer.Start();
  PodAnnotationWrite w = Write("b", 7);
  ASSERT_TRUE(writer.Submit(std::move(w)));
  EXPECT_EQ(writer.Wait("default/b", std::chrono::seconds(20)).code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed_token.load(), 7u);
  EXPECT_EQ(writer.Failures(), 1u);
  // Reported once: the next Bind of the pod (after a new Filter) is not blocked by it.
  EXPECT_TRUE(writer.Wait("default/b", milliseconds(0)).ok());
}

TEST(AnnotationWriterTest, ALaterWriteOfThePodSupersedesAnEarlierFailure) {
  Gate gate;
  gate.FailToken(1);
  AnnotationWriter writer([&](const PodAnnotationWrite& w) { return gate.Write(w); }, nullptr);
  writer.Start();
  PodAnnotationWrite first = Write("c", 1);
  PodAnnotationWrite second = Write("c", 2);
  ASSERT_TRUE(writer.Submit(std::move(first)));
  ASSERT_TRUE(writer.Submit(std::move(second)));
  gate.Open();
  EXPECT_TRUE(writer.Wait("default/c", std::chrono::seconds(20)).ok());
  EXPECT_EQ(gate.Written().size(), 2u);
  EXPECT_EQ(writer.Failures(), 1u);
}

TEST(AnnotationWriterTest, StopPerformsQueuedWritesAndThenRefusesNewOnes) {
  Gate gate;
  AnnotationWriter writer([&](const PodAnnotationWrite& w) { return gate.Write(w); }, nullptr);
  PodAnnotationWrite early = Write("early", 1);
  EXPECT_FALSE(writer.Submit(std::move(early)));  // not started: the caller writes itself
  EXPECT_EQ(early.key, "default/early");          // untouched when refused
  writer.Start();
  for (int i = 0; i < 5; ++i) {
    PodAnnotationWrite w = Write("p" + std::to_string(i), static_cast<uint64_t>(i + 1));
    ASSERT_TRUE(writer.Submit(std::move(w)));
  }
  gate.Open();
  writer.Stop();
  EXPECT_EQ(gate.Written().size(), 5u);
  EXPECT_EQ(writer.Pending(), 0u);
  PodAnnotationWrite late = Write("late", 9);
  EXPECT_FALSE(writer.Submit(std::move(late)));
}

}  // namespace
}  // namespace npushare::scheduler
