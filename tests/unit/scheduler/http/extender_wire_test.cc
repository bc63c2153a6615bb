#include "scheduler/http/extender_wire.h"

#include <gtest/gtest.h>

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;

TEST(ExtenderWireTest, ArgsKeysAreMatchedCaseInsensitivelyToGoNames) {
  auto args = CanonicalExtenderArgs(json::parse(R"({"pod":{"metadata":{"name":"p"}},
                                                   "nodenames":["a","b"]})"));
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ((*args)["Pod"]["metadata"]["name"], "p");
  EXPECT_EQ((*args)["NodeNames"], json({"a", "b"}));
  EXPECT_TRUE((*args)["Nodes"].is_null());
  EXPECT_EQ(args->size(), 3u);
}

TEST(ExtenderWireTest, BadArgsAreInvalidArgument) {
  const char* bad[] = {
      R"([])",
      R"({"NodeNames":["a"]})",                             // no pod
      R"({"Pod":null,"NodeNames":["a"]})",                  // null pod
      R"({"Pod":"p","NodeNames":["a"]})",                   // pod not a map
      R"({"Pod":{},"NodeNames":"a"})",                      // names not a list
      R"({"Pod":{},"NodeNames":[1]})",                      // name not a string
      R"({"Pod":{},"NodeNames":[""]})",                     // empty name
      R"({"Pod":{},"NodeNames":["a"],"Extra":1})",          // unknown field
      R"({"Pod":{},"NodeNames":["a"],"nodeNames":["b"]})",  // duplicate in another case
      R"({"Pod":{},"Nodes":[]})",                           // Nodes not a NodeList
      R"({"Pod":{},"Nodes":null,"NodeNames":null})",        // neither
  };
  for (const char* b : bad) {
    auto r = CanonicalExtenderArgs(json::parse(b));
    ASSERT_FALSE(r.ok()) << b;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << b;
  }
}

TEST(ExtenderWireTest, TooManyNodeNamesAreRefused) {
  json names = json::array();
  for (size_t i = 0; i <= kMaxNodeNames; ++i) {
    names.push_back("n");
  }
  auto r = CanonicalExtenderArgs(json{{"Pod", json::object()}, {"NodeNames", names}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST(ExtenderWireTest, BindingArgs) {
  auto ok = CanonicalBindingArgs(
      json::parse(R"({"podName":"p","PodNamespace":"ns","PODUID":"u","node":"n1"})"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, json::parse(R"({"PodName":"p","PodNamespace":"ns","PodUID":"u","Node":"n1"})"));
  auto no_uid =
      CanonicalBindingArgs(json::parse(R"({"PodName":"p","PodNamespace":"ns","Node":"n"})"));
  ASSERT_TRUE(no_uid.ok());
  EXPECT_EQ((*no_uid)["PodUID"], "");
  for (const char* b : {R"({"PodName":"p","PodNamespace":"ns"})",
                        R"({"PodName":"","PodNamespace":"ns","Node":"n"})",
                        R"({"PodName":"p","PodNamespace":"ns","Node":7})",
                        R"({"PodName":"p","PodNamespace":"ns","Node":"n","Extra":""})", R"("x")"}) {
    EXPECT_EQ(CanonicalBindingArgs(json::parse(b)).status().code(), StatusCode::kInvalidArgument)
        << b;
  }
}

TEST(ExtenderWireTest, FilterResultIsWrittenWithGoNamesAndEveryKey) {
  json r = FilterResultWire(json::parse(R"({"nodenames":["a"],"failedNodes":{"b":"no"}})"));
  EXPECT_EQ(r, json::parse(R"({"Nodes":null,"NodeNames":["a"],"FailedNodes":{"b":"no"},
                               "FailedAndUnresolvableNodes":null,"Error":""})"));
}

TEST(ExtenderWireTest, NothingPassedIsAnEmptyListNotNull) {
  json r =
      FilterResultWire(json::parse(R"({"NodeNames":null,"FailedNodes":{"a":"x"},"Error":""})"));
  EXPECT_EQ(r["NodeNames"], json::array());
}

TEST(ExtenderWireTest, BadServiceResultBecomesAnErrorResult) {
  for (const char* b : {R"([])", R"({"NodeNames":"a"})", R"({"FailedNodes":{"a":1}})",
                        R"({"Error":3})", R"({"Bogus":1})"}) {
    json r = FilterResultWire(json::parse(b));
    EXPECT_FALSE(r["Error"].get<std::string>().empty()) << b;
    EXPECT_EQ(r.size(), 5u);
  }
  EXPECT_EQ(BindResultWire(json::parse(R"({"error":"x"})")), json::parse(R"({"Error":"x"})"));
  EXPECT_EQ(BindResultWire(json::object()), json::parse(R"({"Error":""})"));
  EXPECT_FALSE(BindResultWire(json::array())["Error"].get<std::string>().empty());
}

}  // namespace
}  // namespace npushare::scheduler::http
