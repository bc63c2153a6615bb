#include "scheduler/http/extender_wire.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace npushare::scheduler::http {
namespace {

using nlohmann::json;

// OldPath: what /filter did before ParseExtenderArgs: parse the whole body, then
// CanonicalExtenderArgs. nullopt for a body that is not JSON.
std::optional<Result<json>> OldPath(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return std::nullopt;
  }
  return CanonicalExtenderArgs(std::move(j));
}

// ExpectSameAsOldPath: ParseExtenderArgs accepts and refuses `text` exactly as the old path,
// with the same message, and splits an accepted body into the same Pod, Nodes and names.
void ExpectSameAsOldPath(const std::string& text) {
  SCOPED_TRACE(text);
  auto split = ParseExtenderArgs(text);
  auto old = OldPath(text);
  if (!old) {
    ASSERT_FALSE(split.ok());
    EXPECT_EQ(split.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(split.status().message().rfind("request body is not valid JSON: ", 0), 0u)
        << split.status().message();
    return;
  }
  ASSERT_EQ(split.ok(), old->ok()) << (split.ok() ? old->status() : split.status()).ToString();
  if (!old->ok()) {
    EXPECT_EQ(split.status().code(), old->status().code());
    EXPECT_EQ(split.status().message(), old->status().message());
    return;
  }
  const json& canon = **old;
  EXPECT_EQ(split->pod, canon["Pod"]);
  EXPECT_EQ(split->nodes, canon["Nodes"]);
  if (canon["NodeNames"].is_null()) {
    EXPECT_FALSE(split->node_names.has_value());
  } else {
    ASSERT_TRUE(split->node_names.has_value());
    EXPECT_EQ(json(*split->node_names), canon["NodeNames"]);
  }
}

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

TEST(ExtenderWireTest, SplitParseReadsNamesAsStringsAndPodAsJson) {
  auto args = ParseExtenderArgs(
      R"({"pod":{"metadata":{"name":"p","labels":{"a":"1"}},"spec":{"containers":[{"name":"c",
          "resources":{"limits":{"x":"1"}}}],"n":[1,-2,3.5,true,null,[],{}]}},
          "nodenames":["a","b"],"Nodes":null})");
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_EQ(args->pod, json::parse(R"({"metadata":{"name":"p","labels":{"a":"1"}},
      "spec":{"containers":[{"name":"c","resources":{"limits":{"x":"1"}}}],
      "n":[1,-2,3.5,true,null,[],{}]}})"));
  EXPECT_EQ(args->node_names, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(args->nodes.is_null());
}

TEST(ExtenderWireTest, SplitParseKeepsNodesWhenNamesAreNull) {
  auto args = ParseExtenderArgs(
      R"({"Pod":{},"Nodes":{"items":[{"metadata":{"name":"n1"}}]},"NodeNames":null})");
  ASSERT_TRUE(args.ok()) << args.status().ToString();
  EXPECT_FALSE(args->node_names.has_value());
  EXPECT_EQ(args->nodes["items"][0]["metadata"]["name"], "n1");
}

TEST(ExtenderWireTest, SplitParseRefusesWhatTheOldPathRefusedWithItsMessage) {
  const char* bodies[] = {
      R"([])",
      R"("x")",
      R"(7)",
      R"(null)",
      R"({"NodeNames":["a"]})",
      R"({"Pod":null,"NodeNames":["a"]})",
      R"({"Pod":"p","NodeNames":["a"]})",
      R"({"Pod":[],"NodeNames":["a"]})",
      R"({"Pod":{},"NodeNames":"a"})",
      R"({"Pod":{},"NodeNames":{"a":"b"}})",
      R"({"Pod":{},"NodeNames":[1]})",
      R"({"Pod":{},"NodeNames":["a",["b"]]})",
      R"({"Pod":{},"NodeNames":["a",{"b":"c"}]})",
      R"({"Pod":{},"NodeNames":[""]})",
      R"({"Pod":{},"NodeNames":["a"],"Extra":{"deep":[1,{"x":[]}]}})",
      R"({"Pod":{},"NodeNames":["a"],"nodeNames":["b"]})",
      R"({"pod":{},"POD":{},"NodeNames":["a"]})",
      R"({"Pod":{},"Nodes":[]})",
      R"({"Pod":{},"Nodes":"n"})",
      R"({"Pod":{},"Nodes":null,"NodeNames":null})",
      R"({"Pod":{}})",
      R"({})",
      R"({"Zzz":1,"Aaa":2,"Pod":3})",  // several problems: the first in key order wins
      R"({"Pod":"p","Nodes":[],"NodeNames":7})",
  };
  for (const char* b : bodies) {
    ExpectSameAsOldPath(b);
  }
}

TEST(ExtenderWireTest, SplitParseAgreesWithTheOldPathOnEdgeShapes) {
  // Shapes near the edge of the direct scan of kube-scheduler's usual body (extender_wire.cc
  // FastArgsScanner), which must give the same result as the general path.
  const char* bodies[] = {
      R"({"Pod":{},"NodeNames":["a","b"]})",
      " \n\t{ \"Pod\" : { } ,\r\n \"NodeNames\" : [ \"a\" , \"b\" ] , \"Nodes\" : null } \n",
      R"({"Nodes":null,"NodeNames":[],"Pod":{"metadata":{"name":"p,}]\"q"}}})",
      R"({"Pod":{"a":"x,}]"},"NodeNames":["a"]})",
      R"({"Pod":{},"NodeNames":null,"Nodes":{"items":[]}})",
      R"({"Pod":{},"NodeNames":["a\u0062","c\"d"]})",
      "{\"Pod\":{},\"NodeNames\":[\"n\xc3\xb6"
      "de\"]}",
      "{\"Pod\":{},\"NodeNames\":[\"n\xff\"]}",
      R"({"Pod":{},"NodeNames":["a"]} x)",
      R"({"Pod":{},"NodeNames":nullx})",
      R"({"Pod":{},"NodeNames":nul})",
      R"({"Pod":1e5,"NodeNames":["a"]})",
      R"({"Pod":tru,"NodeNames":["a"]})",
      R"({"Pod":,"NodeNames":["a"]})",
      R"({"Pod":{"a":[1}],"NodeNames":["a"]})",
      R"({"Pod":{"a":1}}},"NodeNames":["a"]})",
      R"({"Pod":"\)",
      R"({"Pod":{},"NodeNames":["a",""]})",
      R"({"Pod":{},"NodeNames":["a",null]})",
      R"({"Pod":{},"Node\u004eames":["a"]})",
      "\xef\xbb\xbf{\"Pod\":{},\"NodeNames\":[\"a\"]}",
      R"({"Pod":{"m":{"n":"a","n":"b"}},"NodeNames":["x"]})",
      R"({"Pod":{},"NodeNames":["x"]}{})",
      R"({"pod":{},"nodenames":["x"],"NODES":null})",
      R"({})",
      R"({"Pod":{}})",
  };
  for (const char* b : bodies) {
    ExpectSameAsOldPath(b);
  }
}

TEST(ExtenderWireTest, SplitParseDuplicateKeysBehaveAsBefore) {
  // An exact repeat overrides the earlier value (a JSON object parse keeps the last one).
  auto last = ParseExtenderArgs(R"({"Pod":{"a":1},"NodeNames":5,"Pod":{"b":2},"NodeNames":["x"]})");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->pod, json::parse(R"({"b":2})"));
  EXPECT_EQ(last->node_names, std::vector<std::string>{"x"});
  // Inside the pod as well.
  auto inner = ParseExtenderArgs(R"({"Pod":{"m":{"n":"a","n":"b"}},"NodeNames":["x"]})");
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(inner->pod["m"]["n"], "b");
  // A valid value overridden by a bad one is refused.
  auto bad = ParseExtenderArgs(R"({"Pod":{},"NodeNames":["x"],"NodeNames":[""]})");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  for (const char* b : {R"({"Pod":{"a":1},"NodeNames":5,"Pod":{"b":2},"NodeNames":["x"]})",
                        R"({"Pod":{},"NodeNames":["x"],"NodeNames":[""]})",
                        R"({"Pod":{},"NodeNames":["x"],"nodenames":["y"],"NodeNames":["z"]})"}) {
    ExpectSameAsOldPath(b);
  }
}

TEST(ExtenderWireTest, SplitParseMalformedJsonNamesTheParserError) {
  for (const char* b : {"", "{", R"({"Pod":)", R"({"Pod":{}}x)", R"({"Pod":{},})", "nope",
                        R"({"Pod":{},"NodeNames":["a",]})", "{\"Pod\":{\"a\":\"\x01\"}}"}) {
    ExpectSameAsOldPath(b);
    auto r = ParseExtenderArgs(b);
    EXPECT_NE(r.status().message().find("syntax error"), std::string::npos)
        << b << ": " << r.status().message();
  }
  // A syntax error after a shape problem is still reported as bad JSON (it was parsed first).
  auto r = ParseExtenderArgs(R"({"Bogus":1,"Pod":)");
  EXPECT_EQ(r.status().message().rfind("request body is not valid JSON", 0), 0u);
}

TEST(ExtenderWireTest, SplitParseLimitsNodeNames) {
  std::string at_limit = R"({"Pod":{},"NodeNames":[)";
  for (size_t i = 0; i < kMaxNodeNames; ++i) {
    at_limit += (i == 0 ? "\"n" : ",\"n") + std::to_string(i) + "\"";
  }
  auto ok = ParseExtenderArgs(at_limit + "]}");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->node_names->size(), kMaxNodeNames);
  EXPECT_EQ(ok->node_names->back(), "n" + std::to_string(kMaxNodeNames - 1));
  auto over = ParseExtenderArgs(at_limit + ",\"x\"]}");
  EXPECT_EQ(over.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(over.status().message().find("more than"), std::string::npos);
  auto bad_over = ParseExtenderArgs(at_limit + ",1]}");
  EXPECT_NE(bad_over.status().message().find("more than"), std::string::npos);
}

TEST(ExtenderWireTest, SplitParseAgreesWithTheOldPathOnGeneratedBodies) {
  // Random bodies from pieces (fixed seed): keys in several spellings, values of every shape,
  // sometimes cut short or with a stray character, each checked against the old path.
  const std::vector<std::string> keys = {"Pod",       "pod",       "POD",       "Nodes", "nodes",
                                         "NodeNames", "nodenames", "nodeNames", "Extra", "Pod"};
  const std::vector<std::string> values = {
      "null",
      "1",
      "-2.5",
      "true",
      "\"s\"",
      "\"\"",
      "[]",
      "{}",
      R"(["a","b"])",
      R"([""])",
      R"([1])",
      R"([["a"]])",
      R"({"items":[]})",
      R"({"items":[{"metadata":{"name":"n"}}]})",
      R"({"metadata":{"name":"p","n":[1,{"x":null}]},"spec":{}})",
      R"(["a",null])"};
  std::mt19937 rng(20261203);
  auto pick = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (int i = 0; i < 3000; ++i) {
    std::string body = "{";
    const size_t fields = pick(5);
    for (size_t f = 0; f < fields; ++f) {
      body +=
          (f ? "," : "") + ("\"" + keys[pick(keys.size())] + "\":") + values[pick(values.size())];
    }
    body += "}";
    switch (pick(8)) {
      case 0:
        body.resize(pick(body.size()));
        break;
      case 1:
        body.insert(pick(body.size()), 1, "{}[],:\"x"[pick(8)]);
        break;
      default:
        break;
    }
    ExpectSameAsOldPath(body);
  }
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
