#include "config/names.h"

#include <gtest/gtest.h>

#include <string>

namespace npushare::config {
namespace {

TEST(NamesTest, CommonWord) {
  for (const char* ok : {"Ascend910B3", "Ascend910B4-1", "Ascend310P", "a", "a.b_c-d"}) {
    EXPECT_EQ(CommonWordProblem(ok), "") << ok;
  }
  EXPECT_EQ(CommonWordProblem(std::string(kMaxCommonWordLength, 'a')), "");
  for (const char* bad : {"", "-a", "a-", ".a", "a b", "a/b", "a:b", "Äscend"}) {
    EXPECT_NE(CommonWordProblem(bad), "") << bad;
  }
  EXPECT_NE(CommonWordProblem(std::string(kMaxCommonWordLength + 1, 'a')), "");
}

TEST(NamesTest, ExtendedResourceName) {
  for (const char* ok :
       {"huawei.com/Ascend910B3", "huawei.com/Ascend910B4-1-memory", "example.org/x_y.z", "a/b"}) {
    EXPECT_EQ(ExtendedResourceNameProblem(ok), "") << ok;
  }
  for (const char* bad : {"", "Ascend910B3", "huawei.com/", "/Ascend", "Huawei.com/x",
                          "huawei..com/x", "-huawei.com/x", "huawei.com/-x", "huawei.com/a/b",
                          "kubernetes.io/x", "foo.kubernetes.io/x", "huawei.com/a b"}) {
    EXPECT_NE(ExtendedResourceNameProblem(bad), "") << bad;
  }
  EXPECT_NE(ExtendedResourceNameProblem("huawei.com/" + std::string(64, 'a')), "");
  EXPECT_EQ(ExtendedResourceNameProblem("huawei.com/" + std::string(63, 'a')), "");
}

TEST(NamesTest, Dns1123Subdomain) {
  for (const char* ok : {"node-a", "a", "a.b.c", "ip-10-0-0-1.ec2.internal", "0abc"}) {
    EXPECT_EQ(Dns1123SubdomainProblem(ok), "") << ok;
  }
  for (const char* bad : {"", "Node", "a_b", "a..b", ".a", "a.", "-a", "a-"}) {
    EXPECT_NE(Dns1123SubdomainProblem(bad), "") << bad;
  }
  EXPECT_NE(Dns1123SubdomainProblem(std::string(254, 'a')), "");
  EXPECT_NE(Dns1123SubdomainProblem(std::string(64, 'a')), "");  // one label of 64
}

TEST(NamesTest, TemplateName) {
  for (const char* ok : {"vir05_1c_16g", "vir01", "a.b-c"}) {
    EXPECT_EQ(TemplateNameProblem(ok), "") << ok;
  }
  for (const char* bad : {"", "vir 01", "vir,01", "vir=1", "vir;1"}) {
    EXPECT_NE(TemplateNameProblem(bad), "") << bad;
  }
}

}  // namespace
}  // namespace npushare::config
