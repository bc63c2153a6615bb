// Tests of the mutating admission webhook: AdmissionReview v1 and v1beta1 in and out, the
// JSON Patch applied to the request object gives the expected pod, HAMi's decisions
// (hami-vectors.json webhook_decision wh-001..006) and malformed reviews.
#include "scheduler/http/admission_webhook.h"

#include <gtest/gtest.h>

#include "kube/rest_config.h"  // Base64Decode
#include "unit/scheduling/test_chips.h"

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;

std::shared_ptr<const config::DeviceConfig> TestConfig(bool overwrite_env = false) {
  auto cfg = std::make_shared<config::DeviceConfig>();
  cfg->chips.push_back(scheduling::testing::Chip910B3());
  cfg->chips.back().runtime_class_name = "ascend";
  cfg->chips.push_back(scheduling::testing::Chip310P());
  cfg->chips.back().overwrite_env = overwrite_env;
  config::SortTemplates(cfg->chips.back());
  return cfg;
}

json NpuPod() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"generateName": "train-", "namespace": "ml", "labels": {"app": "x"}},
    "spec": {
      "schedulerName": "default-scheduler",
      "containers": [{
        "name": "main", "image": "busybox",
        "env": [{"name": "FROM", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "resources": {"limits": {"huawei.com/Ascend910B3": "1",
                                 "huawei.com/Ascend910B3-memory": "10000", "cpu": "1"}}
      }]
    }
  })");
}

json Review(const json& pod, const std::string& version = "admission.k8s.io/v1",
            const std::string& uid = "705ab4f5-6393-11e8-b7cc-42010a800002") {
  return json{{"apiVersion", version},
              {"kind", "AdmissionReview"},
              {"request",
               {{"uid", uid},
                {"kind", {{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}},
                {"resource", {{"group", ""}, {"version", "v1"}, {"resource", "pods"}}},
                {"namespace", "ml"},
                {"operation", "CREATE"},
                {"userInfo", {{"username", "alice"}}},
                {"object", pod},
                {"oldObject", nullptr},
                {"dryRun", false}}}};
}

class WebhookTest : public ::testing::Test {
 protected:
  AdmissionVerdict Run(const json& review) {
    AdmissionWebhook webhook(options_, [this] { return config_; });
    auto v = webhook.Review(review);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : AdmissionVerdict{};
  }
  // Patched: the request object with the response's patch applied.
  static json Patched(const json& object, const json& response) {
    EXPECT_EQ(response.value("patchType", ""), "JSONPatch");
    auto raw = kube::Base64Decode(response.value("patch", ""));
    EXPECT_TRUE(raw.ok());
    json patch = json::parse(raw.value_or(std::string("[]")));
    EXPECT_TRUE(patch.is_array());
    return object.patch(patch);
  }

  AdmissionWebhookOptions options_;
  std::shared_ptr<const config::DeviceConfig> config_ = TestConfig();
};

TEST_F(WebhookTest, V1NpuPodIsMutatedAndAnsweredInV1WithUid) {
  const json pod = NpuPod();
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(v.decision, AdmissionDecision::kMutated);
  EXPECT_EQ(v.review["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(v.review["kind"], "AdmissionReview");
  const json& r = v.review["response"];
  EXPECT_EQ(r["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002");
  EXPECT_EQ(r["allowed"], true);

  json expected = pod;
  expected["spec"]["schedulerName"] = "hami-scheduler";
  expected["spec"]["runtimeClassName"] = "ascend";
  // 10000 MB rounds up to the 16 GiB template; requests are created with the same amount.
  expected["spec"]["containers"][0]["resources"]["limits"]["huawei.com/Ascend910B3-memory"] =
      "16384";
  expected["spec"]["containers"][0]["resources"]["requests"] = {
      {"huawei.com/Ascend910B3-memory", "16384"}};
  EXPECT_EQ(Patched(pod, r), expected);
}

TEST_F(WebhookTest, V1beta1IsAnsweredInV1beta1) {
  const json pod = NpuPod();
  AdmissionVerdict v = Run(Review(pod, "admission.k8s.io/v1beta1", "u-2"));
  EXPECT_EQ(v.review["apiVersion"], "admission.k8s.io/v1beta1");
  EXPECT_EQ(v.review["response"]["uid"], "u-2");
  EXPECT_EQ(Patched(pod, v.review["response"])["spec"]["schedulerName"], "hami-scheduler");
}

TEST_F(WebhookTest, PatchPathsEscapeSlashesInResourceNames) {
  AdmissionVerdict v = Run(Review(NpuPod()));
  auto raw = kube::Base64Decode(v.review["response"]["patch"].get<std::string>());
  ASSERT_TRUE(raw.ok());
  EXPECT_NE(raw->find("huawei.com~1Ascend910B3-memory"), std::string::npos) << *raw;
}

TEST_F(WebhookTest, ExistingRequestsMapGetsOnlyTheMemoryKey) {
  json pod = NpuPod();
  pod["spec"]["containers"][0]["resources"]["requests"] = {{"cpu", "500m"}};
  AdmissionVerdict v = Run(Review(pod));
  json after = Patched(pod, v.review["response"]);
  EXPECT_EQ(after["spec"]["containers"][0]["resources"]["requests"],
            json({{"cpu", "500m"}, {"huawei.com/Ascend910B3-memory", "16384"}}));
  // Fields the webhook does not model are untouched.
  EXPECT_EQ(after["spec"]["containers"][0]["env"], pod["spec"]["containers"][0]["env"]);
  EXPECT_EQ(after["metadata"], pod["metadata"]);
}

TEST_F(WebhookTest, PodWithoutNpuRequestIsAllowedUnchanged) {
  json pod = NpuPod();
  pod["spec"]["containers"][0]["resources"]["limits"] = {{"cpu", "1"}};
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(v.decision, AdmissionDecision::kAllowed);
  EXPECT_EQ(v.review["response"]["allowed"], true);
  EXPECT_FALSE(v.review["response"].contains("patch"));
  EXPECT_FALSE(v.review["response"].contains("patchType"));
}

TEST_F(WebhookTest, OverwriteEnvAppendsEmptyVisibleDevicesToOtherContainers) {
  config_ = TestConfig(/*overwrite_env=*/true);  // on the 310P chip
  json pod = NpuPod();
  pod["spec"]["containers"].push_back({{"name", "side"}, {"image", "busybox"}});
  AdmissionVerdict v = Run(Review(pod));
  json after = Patched(pod, v.review["response"]);
  // The 910B3 container already had env: one entry appended after the valueFrom one.
  ASSERT_EQ(after["spec"]["containers"][0]["env"].size(), 2u);
  EXPECT_EQ(after["spec"]["containers"][0]["env"][1],
            json({{"name", "ASCEND_VISIBLE_DEVICES"}, {"value", ""}}));
  // The sidecar had no env: the list is created.
  EXPECT_EQ(after["spec"]["containers"][1]["env"],
            json::array({{{"name", "ASCEND_VISIBLE_DEVICES"}, {"value", ""}}}));
}

TEST_F(WebhookTest, NoContainersIsDenied403) {  // wh-001
  json pod = NpuPod();
  pod["spec"]["containers"] = json::array();
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(v.decision, AdmissionDecision::kDenied);
  const json& r = v.review["response"];
  EXPECT_EQ(r["allowed"], false);
  EXPECT_EQ(r["status"]["code"], 403);
  EXPECT_EQ(r["status"]["reason"], "pod has no containers");
  EXPECT_FALSE(r.contains("patch"));
}

TEST_F(WebhookTest, PrivilegedContainerWithNpuIsDenied) {  // wh-003
  json pod = NpuPod();
  pod["spec"]["containers"][0]["name"] = "c1";
  pod["spec"]["containers"][0]["securityContext"] = {{"privileged", true}};
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(v.decision, AdmissionDecision::kDenied);
  EXPECT_EQ(v.review["response"]["status"]["code"], 403);
  EXPECT_EQ(v.review["response"]["status"]["reason"], "container c1 is privileged");
}

TEST_F(WebhookTest, PrivilegedContainerWithoutNpuIsAllowed) {
  json pod = NpuPod();
  pod["spec"]["containers"][0]["resources"]["limits"] = {{"cpu", "1"}};
  pod["spec"]["containers"][0]["securityContext"] = {{"privileged", true}};
  EXPECT_EQ(Run(Review(pod)).review["response"]["allowed"], true);
}

TEST_F(WebhookTest, NodeNameAlreadySetIsDenied) {  // wh-004
  json pod = NpuPod();
  pod["spec"]["nodeName"] = "n1";
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(v.review["response"]["status"]["code"], 403);
  EXPECT_EQ(v.review["response"]["status"]["reason"], "pod has node assigned");
}

TEST_F(WebhookTest, MutationErrorIsErrored500) {  // wh-005
  json pod = NpuPod();
  pod["spec"]["containers"][0]["resources"]["limits"]["huawei.com/Ascend910B3"] = "2";
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(v.decision, AdmissionDecision::kErrored);
  EXPECT_EQ(v.review["response"]["allowed"], false);
  EXPECT_EQ(v.review["response"]["status"]["code"], 500);
  EXPECT_NE(v.review["response"]["status"]["message"].get<std::string>().find(
                "vNPU not supported for multiple devices"),
            std::string::npos);
}

TEST_F(WebhookTest, PodOfAnotherSchedulerIsLeftAlone) {
  json pod = NpuPod();
  pod["spec"]["schedulerName"] = "volcano";
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(v.review["response"]["allowed"], true);
  EXPECT_FALSE(v.review["response"].contains("patch"));
}

TEST_F(WebhookTest, DefaultSchedulerKeptWhenForceOverwriteIsOff) {
  options_.force_overwrite_default_scheduler = false;
  AdmissionVerdict v = Run(Review(NpuPod()));
  EXPECT_EQ(v.review["response"]["allowed"], true);
  EXPECT_FALSE(v.review["response"].contains("patch"));
}

TEST_F(WebhookTest, EmptySchedulerNameIsTakenOver) {
  json pod = NpuPod();
  pod["spec"].erase("schedulerName");
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(Patched(pod, v.review["response"])["spec"]["schedulerName"], "hami-scheduler");
}

TEST_F(WebhookTest, NonCreateOperationsPassUnchanged) {
  json review = Review(NpuPod());
  review["request"]["operation"] = "DELETE";
  review["request"]["object"] = nullptr;
  AdmissionVerdict v = Run(review);
  EXPECT_EQ(v.review["response"]["allowed"], true);
  EXPECT_FALSE(v.review["response"].contains("patch"));
}

TEST_F(WebhookTest, MissingConfigIsErrored) {
  config_ = nullptr;
  AdmissionVerdict v = Run(Review(NpuPod()));
  EXPECT_EQ(v.review["response"]["allowed"], false);
  EXPECT_EQ(v.review["response"]["status"]["code"], 500);
}

TEST_F(WebhookTest, MalformedPodIsErrored400InTheReview) {
  json pod = NpuPod();
  pod["spec"]["containers"][0]["resources"]["limits"] = "lots";
  AdmissionVerdict v = Run(Review(pod));
  EXPECT_EQ(v.review["response"]["allowed"], false);
  EXPECT_EQ(v.review["response"]["status"]["code"], 400);
}

TEST(WebhookMalformedTest, NotAnAdmissionReviewIsInvalidArgument) {
  AdmissionWebhook webhook({}, [] { return TestConfig(); });
  const json good = Review(NpuPod());
  std::vector<json> bad = {json::array(), json("x"), json::object()};
  json v2 = good;
  v2["apiVersion"] = "admission.k8s.io/v2";
  bad.push_back(v2);
  json wrong_kind = good;
  wrong_kind["kind"] = "Pod";
  bad.push_back(wrong_kind);
  json unknown = good;
  unknown["extra"] = 1;
  bad.push_back(unknown);
  json no_request = good;
  no_request.erase("request");
  bad.push_back(no_request);
  json no_uid = good;
  no_uid["request"].erase("uid");
  bad.push_back(no_uid);
  json uid_number = good;
  uid_number["request"]["uid"] = 7;
  bad.push_back(uid_number);
  for (const auto& b : bad) {
    auto v = webhook.Review(b);
    ASSERT_FALSE(v.ok()) << b.dump();
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << b.dump();
  }
  EXPECT_TRUE(webhook.Review(good).ok());
}

TEST(Base64EncodeTest, MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xff\x00\x80", 3)), "/wCA");
}

}  // namespace
}  // namespace npushare::scheduler::http
