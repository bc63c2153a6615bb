// kube-local calls mutating admission webhooks registered in MutatingWebhookConfiguration
// objects, over TLS with the caBundle verified: mutation, denial, failurePolicy, selectors,
// timeout, service references, review versions, UPDATE and dry runs.
#include <gtest/gtest.h>

#include <filesystem>

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
using testing::AllowWithPatch;
using testing::Deny;
using testing::FakeWebhook;
using testing::MakePod;
using testing::ServerAndClient;

constexpr ResourceType kMwc{"admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations",
                            "MutatingWebhookConfiguration", false};

// AddLabel: the webhook's patch, adding label webhook=seen (the pods here carry labels).
json AddLabelOps() {
  return json::array({{{"op", "add"}, {"path", "/metadata/labels/webhook"}, {"value", "seen"}}});
}

class AdmissionWebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto pki = testing::MakeTestPki(dir_.path(), "hook", {"npushare-scheduler.kube-system.svc"});
    ASSERT_TRUE(pki.ok()) << pki.status().ToString();
    pki_ = *pki;
    auto other = testing::MakeTestPki(dir_.path(), "other");
    ASSERT_TRUE(other.ok()) << other.status().ToString();
    other_pki_ = *other;
  }

  // StartServer: kube-local with `endpoints` as its --service-endpoint map.
  void StartServer(std::map<std::string, std::string> endpoints = {}) {
    kube_local::LocalApiServerOptions options;
    options.webhooks.service_endpoints = std::move(endpoints);
    env_ = std::make_unique<ServerAndClient>(options);
  }

  std::string CaBundle(const testing::TestPki& pki) {
    return testing::Base64EncodeForTest(testing::ReadFileForTest(pki.ca_cert));
  }

  // Hook: one webhook entry selecting CREATE of pods, calling `client_config`.
  json Hook(const std::string& name, json client_config) {
    return {{"name", name},
            {"clientConfig", std::move(client_config)},
            {"rules",
             {{{"operations", {"CREATE"}},
               {"apiGroups", {""}},
               {"apiVersions", {"v1"}},
               {"resources", {"pods"}},
               {"scope", "*"}}}},
            {"sideEffects", "None"},
            {"admissionReviewVersions", {"v1"}}};
  }
  json UrlConfig(const FakeWebhook& hook, const testing::TestPki& pki) {
    return {{"url", hook.url("/webhook")}, {"caBundle", CaBundle(pki)}};
  }
  void Register(const std::string& name, json webhooks) {
    json mwc = {{"apiVersion", "admissionregistration.k8s.io/v1"},
                {"kind", "MutatingWebhookConfiguration"},
                {"metadata", {{"name", name}}},
                {"webhooks", std::move(webhooks)}};
    auto created = env_->client().Create(kMwc, "", mwc);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
  }
  // RawCreatePod: POST without client retries, for the HTTP code and Status body.
  HttpResponse RawCreatePod(const json& pod, const std::string& ns = "default",
                            const std::string& query = "") {
    HttpRequest r;
    r.method = "POST";
    r.target = CollectionPath(kPods, ns) + query;
    r.headers = {{"Content-Type", "application/json"}};
    r.body = pod.dump();
    auto resp = env_->transport().Send(r);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : HttpResponse{};
  }
  KubeClient& client() { return env_->client(); }

  npushare::testing::ScopedTempDir dir_{"admission_webhook"};
  testing::TestPki pki_;
  testing::TestPki other_pki_;
  std::unique_ptr<ServerAndClient> env_;
};

TEST_F(AdmissionWebhookTest, UrlWebhookPatchIsAppliedToCreatedPod) {
  FakeWebhook hook(pki_, [](const json& review) { return AllowWithPatch(review, AddLabelOps()); });
  StartServer();
  Register("a-label", {Hook("label.test.io", UrlConfig(hook, pki_))});
  auto created = client().Create(kPods, "default", MakePod("p1", "", {{"app", "x"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["metadata"]["labels"]["webhook"], "seen");
  auto stored = client().Get(kPods, "default", "p1");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)["metadata"]["labels"]["webhook"], "seen");

  auto calls = hook.calls();
  ASSERT_EQ(calls.size(), 1u);
  const json& review = calls[0].review;
  EXPECT_EQ(review["apiVersion"], "admission.k8s.io/v1");
  EXPECT_EQ(review["kind"], "AdmissionReview");
  EXPECT_EQ(review["request"]["operation"], "CREATE");
  EXPECT_EQ(review["request"]["namespace"], "default");
  EXPECT_EQ(review["request"]["resource"]["resource"], "pods");
  EXPECT_EQ(review["request"]["dryRun"], false);
  // The object is already defaulted, as kube-apiserver sends it.
  EXPECT_EQ(review["request"]["object"]["spec"]["schedulerName"], "default-scheduler");
  EXPECT_EQ(calls[0].target, "/webhook?timeout=10s");
}

TEST_F(AdmissionWebhookTest, ConfigurationsRunInNameOrderEachSeeingThePreviousPatch) {
  FakeWebhook first(pki_, [](const json& review) { return AllowWithPatch(review, AddLabelOps()); });
  FakeWebhook second(pki_, [](const json& review) {
    std::string seen = review["request"]["object"]["metadata"]["labels"].value("webhook", "");
    return AllowWithPatch(
        review,
        json::array({{{"op", "add"}, {"path", "/metadata/labels/second"}, {"value", seen}}}));
  });
  StartServer();
  Register("b-second", {Hook("second.test.io", UrlConfig(second, pki_))});
  Register("a-first", {Hook("first.test.io", UrlConfig(first, pki_))});
  auto created = client().Create(kPods, "default", MakePod("p1", "", {{"app", "x"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["metadata"]["labels"]["second"], "seen");
}

TEST_F(AdmissionWebhookTest, V1beta1ReviewIsSentAndLenientAnswerAccepted) {
  FakeWebhook hook(pki_, [](const json& review) {
    // v1beta1: a patch without patchType and no uid check (upstream is lenient).
    return json{
        {"apiVersion", review["apiVersion"]},
        {"kind", "AdmissionReview"},
        {"response",
         {{"allowed", true}, {"patch", testing::Base64EncodeForTest(AddLabelOps().dump())}}}};
  });
  StartServer();
  json h = Hook("beta.test.io", UrlConfig(hook, pki_));
  h["admissionReviewVersions"] = {"v1beta1", "v1"};
  Register("beta", {h});
  auto created = client().Create(kPods, "default", MakePod("p1", "", {{"app", "x"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["metadata"]["labels"]["webhook"], "seen");
  ASSERT_EQ(hook.calls().size(), 1u);
  EXPECT_EQ(hook.calls()[0].review["apiVersion"], "admission.k8s.io/v1beta1");
}

TEST_F(AdmissionWebhookTest, V1AnswerWithWrongUidIsACallFailure) {
  FakeWebhook hook(pki_, [](const json& review) {
    json answer = AllowWithPatch(review, AddLabelOps());
    answer["response"]["uid"] = "not-the-request-uid";
    return answer;
  });
  StartServer();
  Register("uid", {Hook("uid.test.io", UrlConfig(hook, pki_))});
  HttpResponse resp = RawCreatePod(MakePod("p1", "", {{"app", "x"}}));
  EXPECT_EQ(resp.status_code, 500) << resp.body;
  EXPECT_TRUE(IsNotFound(client().Get(kPods, "default", "p1").status()));
}

TEST_F(AdmissionWebhookTest, DenialReturnsTheWebhookStatusToTheClient) {
  FakeWebhook hook(pki_, [](const json& review) {
    return Deny(review, 403, "privileged containers may not request NPUs");
  });
  StartServer();
  Register("deny", {Hook("deny.test.io", UrlConfig(hook, pki_))});
  HttpResponse resp = RawCreatePod(MakePod("p1"));
  EXPECT_EQ(resp.status_code, 403);
  json status = json::parse(resp.body, nullptr, false);
  ASSERT_TRUE(status.is_object()) << resp.body;
  EXPECT_EQ(status["kind"], "Status");
  EXPECT_EQ(status["code"], 403);
  // The wire text kubectl prints (kube-apiserver's wording).
  EXPECT_EQ(status["message"],
            "admission webhook \"deny.test.io\" denied the request: privileged containers may "
            "not request NPUs");
  EXPECT_EQ(client().Create(kPods, "default", MakePod("p2")).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(env_->store().Count("pods"), 0u);
}

TEST_F(AdmissionWebhookTest, FailurePolicyIgnoreAdmitsUnchangedWhenTheServerIsDown) {
  int dead_port = 0;
  {
    FakeWebhook gone(pki_, [](const json& review) { return AllowWithPatch(review, {}); });
    dead_port = gone.port();
  }
  StartServer();
  json h = Hook("down.test.io", {{"url", "https://127.0.0.1:" + std::to_string(dead_port) + "/"},
                                 {"caBundle", CaBundle(pki_)}});
  h["failurePolicy"] = "Ignore";
  Register("down", {h});
  auto created = client().Create(kPods, "default", MakePod("p1", "", {{"app", "x"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE((*created)["metadata"]["labels"].contains("webhook"));
}

TEST_F(AdmissionWebhookTest, FailurePolicyFailRefusesWhenTheServerIsDown) {
  int dead_port = 0;
  {
    FakeWebhook gone(pki_, [](const json& review) { return AllowWithPatch(review, {}); });
    dead_port = gone.port();
  }
  StartServer();
  // failurePolicy unset: the v1 default is Fail.
  Register("down",
           {Hook("down.test.io", {{"url", "https://127.0.0.1:" + std::to_string(dead_port) + "/"},
                                  {"caBundle", CaBundle(pki_)}})});
  HttpResponse resp = RawCreatePod(MakePod("p1"));
  EXPECT_EQ(resp.status_code, 500) << resp.body;
  EXPECT_EQ(json::parse(resp.body, nullptr, false)["reason"], "InternalError");
  EXPECT_EQ(env_->store().Count("pods"), 0u);
}

TEST_F(AdmissionWebhookTest, CaBundleIsVerified) {
  FakeWebhook hook(pki_, [](const json& review) { return AllowWithPatch(review, AddLabelOps()); });
  StartServer();
  // The server's certificate is from pki_, the bundle names another CA: the call fails.
  Register("wrong-ca", {Hook("ca.test.io", UrlConfig(hook, other_pki_))});
  HttpResponse resp = RawCreatePod(MakePod("p1"));
  EXPECT_EQ(resp.status_code, 500) << resp.body;
  EXPECT_TRUE(hook.calls().empty());
}

TEST_F(AdmissionWebhookTest, TimeoutIsSubjectToFailurePolicy) {
  FakeWebhook hook(pki_, [](const json& review) { return AllowWithPatch(review, AddLabelOps()); });
  hook.Block();  // answers only after Release(), long after the 1 s timeout
  StartServer();
  json fail = Hook("slow.test.io", UrlConfig(hook, pki_));
  fail["timeoutSeconds"] = 1;
  Register("slow", {fail});
  HttpResponse resp = RawCreatePod(MakePod("p1"));
  EXPECT_EQ(resp.status_code, 500) << resp.body;
  EXPECT_EQ(hook.calls().size(), 1u);
  EXPECT_EQ(hook.calls()[0].target, "/webhook?timeout=1s");

  json ignore = fail;
  ignore["failurePolicy"] = "Ignore";
  ASSERT_TRUE(client().Delete(kMwc, "", "slow").ok());
  Register("slow", {ignore});
  auto created = client().Create(kPods, "default", MakePod("p2", "", {{"app", "x"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE((*created)["metadata"]["labels"].contains("webhook"));
  hook.Release();
}

TEST_F(AdmissionWebhookTest, NamespaceAndObjectSelectorsSkipExcludedPods) {
  FakeWebhook hook(pki_, [](const json& review) { return AllowWithPatch(review, AddLabelOps()); });
  StartServer();
  json h = Hook("sel.test.io", UrlConfig(hook, pki_));
  // As our deployment registers it: not in kube-system, not for objects labelled ignore.
  h["namespaceSelector"] = {
      {"matchExpressions",
       {{{"key", "kubernetes.io/metadata.name"},
         {"operator", "NotIn"},
         {"values", {"kube-system"}}},
        {{"key", "hami.io/webhook"}, {"operator", "NotIn"}, {"values", {"ignore"}}}}}};
  h["objectSelector"] = {
      {"matchExpressions",
       {{{"key", "hami.io/webhook"}, {"operator", "NotIn"}, {"values", {"ignore"}}}}}};
  Register("sel", {h});

  auto system_pod = client().Create(kPods, "kube-system", MakePod("sys", "", {{"app", "x"}}));
  ASSERT_TRUE(system_pod.ok()) << system_pod.status().ToString();
  EXPECT_FALSE((*system_pod)["metadata"]["labels"].contains("webhook"));

  auto ignored = client().Create(kPods, "default",
                                 MakePod("ign", "", {{"app", "x"}, {"hami.io/webhook", "ignore"}}));
  ASSERT_TRUE(ignored.ok()) << ignored.status().ToString();
  EXPECT_FALSE((*ignored)["metadata"]["labels"].contains("webhook"));

  json quiet_ns = {{"metadata", {{"name", "quiet"}, {"labels", {{"hami.io/webhook", "ignore"}}}}}};
  ASSERT_TRUE(client().Create(kNamespaces, "", quiet_ns).ok());
  auto quiet = client().Create(kPods, "quiet", MakePod("q", "", {{"app", "x"}}));
  ASSERT_TRUE(quiet.ok()) << quiet.status().ToString();
  EXPECT_FALSE((*quiet)["metadata"]["labels"].contains("webhook"));

  auto normal = client().Create(kPods, "default", MakePod("n", "", {{"app", "x"}}));
  ASSERT_TRUE(normal.ok()) << normal.status().ToString();
  EXPECT_EQ((*normal)["metadata"]["labels"]["webhook"], "seen");
  EXPECT_EQ(hook.calls().size(), 1u);
}

TEST_F(AdmissionWebhookTest, RulesSelectOperationAndResource) {
  FakeWebhook hook(pki_, [](const json& review) { return AllowWithPatch(review, AddLabelOps()); });
  StartServer();
  json h = Hook("update.test.io", UrlConfig(hook, pki_));
  h["rules"][0]["operations"] = {"UPDATE"};
  Register("upd", {h});
  // CREATE is not selected, and configmaps never are.
  auto created = client().Create(kPods, "default", MakePod("p1", "", {{"app", "x"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_FALSE((*created)["metadata"]["labels"].contains("webhook"));
  ASSERT_TRUE(client().Create(kConfigMaps, "default", {{"metadata", {{"name", "cm"}}}}).ok());
  EXPECT_TRUE(hook.calls().empty());
  // An UPDATE (here a merge patch) is, with the stored object as oldObject.
  auto patched = client().Patch(kPods, "default", "p1", PatchType::kMerge,
                                {{"metadata", {{"annotations", {{"k", "v"}}}}}});
  ASSERT_TRUE(patched.ok()) << patched.status().ToString();
  EXPECT_EQ((*patched)["metadata"]["labels"]["webhook"], "seen");
  EXPECT_EQ((*patched)["metadata"]["annotations"]["k"], "v");
  ASSERT_EQ(hook.calls().size(), 1u);
  const json req = hook.calls()[0].review["request"];
  EXPECT_EQ(req["operation"], "UPDATE");
  EXPECT_EQ(req["name"], "p1");
  EXPECT_FALSE(req["oldObject"]["metadata"].contains("annotations"));
}

TEST_F(AdmissionWebhookTest, ServiceReferenceIsDialledThroughTheEndpointMap) {
  FakeWebhook hook(pki_, [](const json& review) { return AllowWithPatch(review, AddLabelOps()); });
  StartServer({{"kube-system/npushare-scheduler:443", "127.0.0.1:" + std::to_string(hook.port())}});
  // TLS is checked for npushare-scheduler.kube-system.svc (a SAN of the test certificate).
  Register(
      "svc",
      {Hook("svc.test.io",
            {{"service",
              {{"namespace", "kube-system"}, {"name", "npushare-scheduler"}, {"path", "/webhook"}}},
             {"caBundle", CaBundle(pki_)}})});
  auto created = client().Create(kPods, "default", MakePod("p1", "", {{"app", "x"}}));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["metadata"]["labels"]["webhook"], "seen");
  ASSERT_EQ(hook.calls().size(), 1u);
  EXPECT_EQ(hook.calls()[0].target, "/webhook?timeout=10s");
}

TEST_F(AdmissionWebhookTest, ServiceWithoutEndpointFailsTheCall) {
  StartServer();
  Register("svc",
           {Hook("svc.test.io",
                 {{"service", {{"namespace", "kube-system"}, {"name", "npushare-scheduler"}}},
                  {"caBundle", CaBundle(pki_)}})});
  HttpResponse resp = RawCreatePod(MakePod("p1"));
  EXPECT_EQ(resp.status_code, 500) << resp.body;
}

TEST_F(AdmissionWebhookTest, DryRunCallsTheWebhookButStoresNothing) {
  FakeWebhook hook(pki_, [](const json& review) { return AllowWithPatch(review, AddLabelOps()); });
  StartServer();
  Register("dry", {Hook("dry.test.io", UrlConfig(hook, pki_))});
  HttpResponse resp = RawCreatePod(MakePod("p1", "", {{"app", "x"}}), "default", "?dryRun=All");
  EXPECT_EQ(resp.status_code, 201) << resp.body;
  EXPECT_EQ(json::parse(resp.body, nullptr, false)["metadata"]["labels"]["webhook"], "seen");
  EXPECT_EQ(env_->store().Count("pods"), 0u);
  ASSERT_EQ(hook.calls().size(), 1u);
  EXPECT_EQ(hook.calls()[0].review["request"]["dryRun"], true);
}

TEST_F(AdmissionWebhookTest, PatchThatDoesNotApplyIsAnInternalErrorEvenUnderIgnore) {
  FakeWebhook hook(pki_, [](const json& review) {
    return AllowWithPatch(review, json::array({{{"op", "remove"}, {"path", "/no/such/field"}}}));
  });
  StartServer();
  json h = Hook("bad.test.io", UrlConfig(hook, pki_));
  h["failurePolicy"] = "Ignore";
  Register("bad", {h});
  HttpResponse resp = RawCreatePod(MakePod("p1"));
  EXPECT_EQ(resp.status_code, 500) << resp.body;
  EXPECT_EQ(env_->store().Count("pods"), 0u);
}

TEST(ServiceEndpointFlagTest, ParsesAndRejects) {
  auto ok = kube_local::ParseServiceEndpoint("kube-system/svc:443=127.0.0.1:8443");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->first, "kube-system/svc:443");
  EXPECT_EQ(ok->second, "127.0.0.1:8443");
  for (const char* bad : {"", "svc=127.0.0.1:1", "ns/svc", "ns/svc=127.0.0.1", "ns/svc=:1",
                          "ns/svc=host:x", "/svc=h:1", "ns/svc:=h:1", "ns/svc:http=h:1"}) {
    EXPECT_EQ(kube_local::ParseServiceEndpoint(bad).status().code(), StatusCode::kInvalidArgument)
        << bad;
  }
}

TEST(ServiceEndpointFlagTest, KubeLocalBinaryTakesTheFlag) {
  testing::Subprocess good;
  ASSERT_TRUE(good.Spawn({std::string(NPUSHARE_BIN_DIR) + "/kube-local", "--port", "0",
                          "--service-endpoint", "kube-system/svc=127.0.0.1:8443",
                          "--service-endpoint", "kube-system/other:444=127.0.0.1:8444"}));
  auto line = good.ReadLine(std::chrono::seconds(20));
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(line->rfind("http://127.0.0.1:", 0), 0u) << *line;
  good.Kill(SIGTERM);
  int status = good.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  testing::Subprocess bad;
  ASSERT_TRUE(bad.Spawn({std::string(NPUSHARE_BIN_DIR) + "/kube-local", "--port", "0",
                         "--service-endpoint", "no-namespace=127.0.0.1:1"}));
  status = bad.Wait();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status;
}

}  // namespace
}  // namespace npushare::kube
