#pragma once
// What a local server must refuse before it answers: a page on another
// site reaching it through the browser (DNS rebinding: a foreign Host;
// cross-site POSTs: a foreign Origin) and multi-range requests, which
// cpp-httplib 0.11 answers with unbounded memory.

#include <optional>
#include <string>
#include <vector>

namespace fcnlab {
namespace serve {
namespace detail {

struct Refusal {
  int status = 403;
  std::string reason;
};

struct RequestPolicy {
  int port = 0;
  /// Host names accepted besides 127.0.0.1, localhost and [::1] (each on
  /// `port`): the machine's name or address when serving beyond it.
  std::vector<std::string> extra_hosts;
};

/// Why the request must be refused, or nothing. `origin` and `range` are
/// the headers' values ("" when absent).
std::optional<Refusal> refusal_for(
    const RequestPolicy& policy,
    const std::string& method,
    const std::string& host,
    const std::string& origin,
    const std::string& range);

} // namespace detail
} // namespace serve
} // namespace fcnlab
