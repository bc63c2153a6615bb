// kubectl against kube-local with a mutating webhook registered: `kubectl apply` of a pod goes
// through the webhook as in a real cluster (mutation stored, denial printed by kubectl with
// the webhook's message). Skips (with the reason) when kubectl is not on PATH.
#include <gtest/gtest.h>

#include <fstream>

#include "integration/kube/fake_webhook.h"
#include "integration/kube/subprocess.h"
#include "integration/kube/test_pki.h"
#include "integration/kube/test_server.h"
#include "kube/api_error.h"
#include "kube/resource.h"
#include "support/temp_dir.h"

namespace npushare::kube {
namespace {

using nlohmann::json;
using testing::FakeWebhook;
using testing::Subprocess;

constexpr auto kCommandTimeout = std::chrono::seconds(60);
constexpr ResourceType kMwc{"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
                            "MutatingWebhookConfiguration", false};

class KubectlWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kubectl_ = testing::FindOnPath("kubectl");
    if (kubectl_.empty()) {
      GTEST_SKIP() << "kubectl not found on PATH";
    }
    auto pki = testing::MakeTestPki(dir_.path(), "hook");
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    env_ = std::make_unique<testing::ServerAndClient>();
    std::ofstream(dir_.path() + "/config")
        << "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: "
        << env_->server()->url() << "\ncontexts:\n- name: local\n  context: {cluster: local, "
        << "user: me, namespace: default}\nusers:\n- name: me\n  user: {}\n"
        << "current-context: local\n";
    std::ofstream(dir_.path() + "/pod.yaml")
        << "apiVersion: v1\nkind: Pod\nmetadata:\n  name: npu-pod\nspec:\n  containers:\n"
        << "  - name: main\n    image: busybox\n    resources:\n      limits:\n"
        << "        huawei.com/Ascend910B3: 1\n";
  }
  void TearDown() override { env_.reset(); }

  void Register(const FakeWebhook& hook) {
    json mwc = {
        {"apiVersion", "admissionregistration.k8s.io/v1"},
        {"kind", "MutatingWebhookConfiguration"},
        {"metadata", {{"name", "test"}}},
        {"webhooks",
         {{{"name", "vnpu.test.io"},
           {"clientConfig",
            {{"url", hook.url("/webhook")},
             {"caBundle", testing::Base64EncodeForTest(testing::ReadFileForTest(pki_.ca_cert))}}},
           {"rules",
            {{{"operations", {"CREATE"}},
              {"apiGroups", {""}},
              {"apiVersions", {"v1"}},
              {"resources", {"pods"}}}}},
           {"sideEffects", "None"},
           {"admissionReviewVersions", {"v1beta1"}}}}}};
    ASSERT_TRUE(env_->client().Create(kMwc, "", mwc).ok());
  }
  std::pair<int, std::string> Run(std::vector<std::string> args) {
    args.insert(args.begin(), kubectl_);
    Subprocess p;
    if (!p.Spawn(args, {"KUBECONFIG=" + dir_.path() + "/config", "HOME=" + dir_.path()})) {
      return {-1, "spawn failed"};
    }
    std::string out = p.ReadAll(kCommandTimeout);
    p.Kill(SIGKILL);
    int status = p.Wait();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }

  npushare::testing::ScopedTempDir dir_{"kubectl_webhook"};
  std::string kubectl_;
  testing::TestPki pki_;
  std::unique_ptr<testing::ServerAndClient> env_;
};

TEST_F(KubectlWebhookTest, ApplyGoesThroughTheWebhook) {
  FakeWebhook hook(pki_, [](const json& review) {
    return testing::AllowWithPatch(
        review,
        json::array(
            {{{"op", "replace"}, {"path", "/spec/schedulerName"}, {"value", "hami-scheduler"}},
             {{"op", "add"},
              {"path", "/metadata/annotations/hami.io~1webhook"},
              {"value", "seen"}}}));
  });
  Register(hook);
  auto [code, out] = Run({"apply", "--validate=false", "-f", dir_.path() + "/pod.yaml"});
  ASSERT_EQ(code, 0) << out;
  auto pod = env_->client().Get(kPods, "default", "npu-pod");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ((*pod)["spec"]["schedulerName"], "hami-scheduler");
  EXPECT_EQ((*pod)["metadata"]["annotations"]["hami.io/webhook"], "seen");
  // kubectl's last-applied annotation was there for the webhook to keep.
  EXPECT_TRUE((*pod)["metadata"]["annotations"].contains(
      "kubectl.kubernetes.io/last-applied-configuration"));
  ASSERT_EQ(hook.calls().size(), 1u);
  EXPECT_EQ(hook.calls()[0].review["apiVersion"], "admission.k8s.io/v1beta1");
}

TEST_F(KubectlWebhookTest, DenialIsPrintedByKubectl) {
  FakeWebhook hook(pki_, [](const json& review) {
    return testing::Deny(review, 403, "huawei.com/Ascend910B3-core must be an integer 0-100");
  });
  Register(hook);
  auto [code, out] = Run({"apply", "--validate=false", "-f", dir_.path() + "/pod.yaml"});
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("admission webhook \"vnpu.test.io\" denied the request: "
                     "huawei.com/Ascend910B3-core must be an integer 0-100"),
            std::string::npos)
      << out;
  EXPECT_TRUE(IsNotFound(env_->client().Get(kPods, "default", "npu-pod").status()));
}

}  // namespace
}  // namespace npushare::kube
