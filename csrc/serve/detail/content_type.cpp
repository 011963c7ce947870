#include "assets.h"

#include <map>

namespace fcnlab {
namespace serve {
namespace detail {

std::string content_type_for(const std::string& name) {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".json", "application/json"},
      {".jsonl", "application/x-ndjson"},
      {".csv", "text/csv; charset=utf-8"},
      {".prototxt", "text/plain; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".log", "text/plain; charset=utf-8"}};
  const auto dot = name.rfind('.');
  if (dot != std::string::npos) {
    const auto found = types.find(name.substr(dot));
    if (found != types.end()) {
      return found->second;
    }
  }
  return "application/octet-stream";
}

} // namespace detail
} // namespace serve
} // namespace fcnlab
