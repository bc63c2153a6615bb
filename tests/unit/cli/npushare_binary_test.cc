// Runs the installed `npushare` binary the way a user would.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct RunResult {
  int exit_code;
  std::string out;
};

RunResult RunNpushare(const std::string& args) {
  std::string cmd = std::string(NPUSHARE_BIN_DIR) + "/npushare " + args + " 2>&1";
  RunResult r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr)
    return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
    r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Src(const std::string& rel) {
  return std::string(NPUSHARE_SOURCE_DIR) + "/" + rel;
}

std::string ScheduleArgs() {
  return "schedule --config " + Src("deploy/config/device-config.yaml") + " --nodes " +
         Src("examples/nodes.yaml") + " --pods " + Src("examples/pods.yaml");
}

TEST(NpushareBinaryTest, JsonOutputFollowsTheDocumentedSchema) {
  RunResult r = RunNpushare(ScheduleArgs() + " --output json --now 1700000000");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_TRUE(doc["pods"].is_array());
  ASSERT_EQ(doc["pods"].size(), 14u);
  for (const auto& p : doc["pods"]) {
    for (const char* key : {"name", "namespace", "admitted", "admissionError", "node", "devices",
                            "reasons", "annotations"}) {
      EXPECT_TRUE(p.contains(key)) << key;
    }
  }
  const auto& soft = doc["pods"][6];
  EXPECT_EQ(soft["name"], "soft-slice");
  EXPECT_EQ(soft["node"], "node-soft");
  EXPECT_EQ(soft["devices"][0]["cores"], 40);
  EXPECT_TRUE(soft["devices"][0]["template"].is_null());
  EXPECT_EQ(soft["annotations"]["hami.io/vgpu-time"], "1700000000");
  const auto& bytes = doc["pods"][10];
  EXPECT_EQ(bytes["admitted"], false);
  EXPECT_TRUE(bytes["node"].is_null());
  EXPECT_NE(bytes["admissionError"].get<std::string>().find("memory is in MB"), std::string::npos);
}

TEST(NpushareBinaryTest, OutputIsReproducibleWithNow) {
  EXPECT_EQ(RunNpushare(ScheduleArgs() + " -o json --now 42").out,
            RunNpushare(ScheduleArgs() + " -o json --now 42").out);
}

TEST(NpushareBinaryTest, TableShowsReasons) {
  RunResult r = RunNpushare(ScheduleArgs());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("0/3 nodes are available: 3 NodeInsufficientDevice."), std::string::npos);
}

TEST(NpushareBinaryTest, BadInputExitsOneWithAMessage) {
  RunResult r = RunNpushare("schedule --config /nonexistent.yaml --nodes x --pods y");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("/nonexistent.yaml"), std::string::npos);
  EXPECT_NE(RunNpushare("schedule --output xml").exit_code, 0);
  EXPECT_NE(RunNpushare("").exit_code, 0);
}

TEST(NpushareBinaryTest, ConfigValidate) {
  EXPECT_EQ(RunNpushare("config validate " + Src("deploy/config/device-config.yaml") + " " +
                        Src("deploy/config/node-config.yaml"))
                .exit_code,
            0);
  RunResult bad = RunNpushare("config validate " + Src("examples/config/invalid/*.yaml"));
  EXPECT_EQ(bad.exit_code, 1) << bad.out;
}

TEST(NpushareBinaryTest, HelpExplains) {
  RunResult r = RunNpushare("schedule --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--nodes"), std::string::npos);
}

}  // namespace
