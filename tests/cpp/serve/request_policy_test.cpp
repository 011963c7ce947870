#include "../../../csrc/serve/detail/request_policy.h"

#include <gtest/gtest.h>

namespace fcnlab {
namespace serve {
namespace detail {
namespace {

const RequestPolicy kPolicy{8080, {}};

int status_of(
    const std::string& method,
    const std::string& host,
    const std::string& origin = "",
    const std::string& range = "",
    const RequestPolicy& policy = kPolicy) {
  const auto refusal = refusal_for(policy, method, host, origin, range);
  return refusal ? refusal->status : 200;
}

TEST(RequestPolicyTest, OnlyLoopbackHostsOnItsOwnPortAreAnswered) {
  EXPECT_EQ(status_of("GET", "127.0.0.1:8080"), 200);
  EXPECT_EQ(status_of("GET", "localhost:8080"), 200);
  EXPECT_EQ(status_of("GET", "LocalHost:8080"), 200);
  EXPECT_EQ(status_of("GET", "[::1]:8080"), 200);
  // DNS rebinding: a foreign name that resolves here.
  EXPECT_EQ(status_of("GET", "evil.example:8080"), 403);
  EXPECT_EQ(status_of("GET", "localhost:8081"), 403);
  EXPECT_EQ(status_of("GET", "localhost"), 403);
  EXPECT_EQ(status_of("GET", ""), 403);
  const RequestPolicy beyond{8080, {"gpu-box"}};
  EXPECT_EQ(status_of("GET", "gpu-box:8080", "", "", beyond), 200);
  EXPECT_EQ(status_of("GET", "other-box:8080", "", "", beyond), 403);
}

TEST(RequestPolicyTest, WritesNeedTheServersOwnOrigin) {
  EXPECT_EQ(status_of("POST", "127.0.0.1:8080", "http://127.0.0.1:8080"), 200);
  EXPECT_EQ(status_of("POST", "localhost:8080", "http://localhost:8080"), 200);
  EXPECT_EQ(status_of("POST", "127.0.0.1:8080"), 403);
  EXPECT_EQ(status_of("POST", "127.0.0.1:8080", "http://evil.example"), 403);
  // Same host, other port: another origin.
  EXPECT_EQ(status_of("POST", "127.0.0.1:8080", "http://127.0.0.1:9000"), 403);
  EXPECT_EQ(status_of("DELETE", "127.0.0.1:8080"), 403);
  EXPECT_EQ(status_of("GET", "127.0.0.1:8080", "http://evil.example"), 200);
  const auto refusal =
      refusal_for(kPolicy, "POST", "127.0.0.1:8080", "http://evil.example", "");
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->reason.find("evil.example"), std::string::npos);
}

TEST(RequestPolicyTest, MultiRangeRequestsAreRefused) {
  EXPECT_EQ(status_of("GET", "127.0.0.1:8080", "", "bytes=0-99"), 200);
  EXPECT_EQ(status_of("GET", "127.0.0.1:8080", "", "bytes=0-1,5-6"), 416);
}

} // namespace
} // namespace detail
} // namespace serve
} // namespace fcnlab
