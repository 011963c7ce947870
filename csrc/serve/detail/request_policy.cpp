#include "request_policy.h"

#include <algorithm>
#include <cctype>

namespace fcnlab {
namespace serve {
namespace detail {
namespace {

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return text;
}

bool host_allowed(const RequestPolicy& policy, const std::string& host) {
  const std::string port = ":" + std::to_string(policy.port);
  const std::string wanted = lowercase(host);
  std::vector<std::string> names = {"127.0.0.1", "localhost", "[::1]"};
  names.insert(
      names.end(), policy.extra_hosts.begin(), policy.extra_hosts.end());
  return std::any_of(names.begin(), names.end(), [&](const std::string& name) {
    return wanted == lowercase(name) + port;
  });
}

} // namespace

std::optional<Refusal> refusal_for(
    const RequestPolicy& policy,
    const std::string& method,
    const std::string& host,
    const std::string& origin,
    const std::string& range) {
  if (!host_allowed(policy, host)) {
    return Refusal{403, "Host '" + host + "' is not this server's"};
  }
  const bool writes =
      method != "GET" && method != "HEAD" && method != "OPTIONS";
  if (writes && lowercase(origin) != "http://" + lowercase(host)) {
    return Refusal{
        403,
        origin.empty() ? "a " + method + " needs a same-origin Origin header"
                       : "Origin '" + origin + "' is not this server's"};
  }
  if (range.find(',') != std::string::npos) {
    return Refusal{416, "multi-range requests are not served"};
  }
  return std::nullopt;
}

} // namespace detail
} // namespace serve
} // namespace fcnlab
