// Issue 14, "third-party return codes checked": every curl_easy_setopt of CurlTransport goes
// through CurlOptionStatus. A libcurl without an option (no blob support, so no inline
// kubeconfig certificates) must fail the request loudly instead of sending it without the
// certificate.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include "kube/http_transport_impl.h"

namespace npushare::kube {
namespace {

TEST(CurlOptionStatusTest, OkIsOk) {
  EXPECT_TRUE(CurlOptionStatus(CURLE_OK, "CURLOPT_URL").ok());
}

TEST(CurlOptionStatusTest, Issue14MissingBlobSupportIsAFailedPreconditionNamingTheOption) {
  for (CURLcode rc : {CURLE_UNKNOWN_OPTION, CURLE_NOT_BUILT_IN}) {
    Status s = CurlOptionStatus(rc, "CURLOPT_SSLCERT_BLOB");
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << rc;
    EXPECT_NE(s.message().find("CURLOPT_SSLCERT_BLOB"), std::string::npos) << s.message();
  }
}

TEST(CurlOptionStatusTest, OtherRefusalsAreMapped) {
  EXPECT_EQ(CurlOptionStatus(CURLE_OUT_OF_MEMORY, "CURLOPT_URL").code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(CurlOptionStatus(CURLE_BAD_FUNCTION_ARGUMENT, "CURLOPT_TIMEOUT_MS").code(),
            StatusCode::kInvalidArgument);
}

// The real libcurl of this machine: the option table CurlTransport uses is accepted, and an
// option this libcurl does not know is reported as CurlOptionStatus says.
TEST(CurlOptionStatusTest, RealLibcurlUnknownOptionIsRefused) {
  CURL* easy = curl_easy_init();
  ASSERT_NE(easy, nullptr);
  const auto unknown = static_cast<CURLoption>(CURLOPTTYPE_OBJECTPOINT + 9999);
  Status s = CurlOptionStatus(static_cast<int>(curl_easy_setopt(easy, unknown, nullptr)),
                              "CURLOPT_SSLCERT_BLOB");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  curl_easy_cleanup(easy);
}

}  // namespace
}  // namespace npushare::kube
