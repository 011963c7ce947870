#pragma once
// `fcnlab serve`: DIGITS' job pages as a local, live dashboard. A server in
// this process reads run folders as they are on disk (runs of other
// processes, live or finished; rank 0's files of a job) and serves the
// pages, their assets (embedded) and a JSON API:
//   GET  /api/runs                  every run's summary
//   GET  /api/runs/<id>             options, epochs, iterations, per-class
//                                   IU, confusion matrices, files
//   GET  /api/runs/<id>/files/<f>   a file of the run's listing
//   GET  /api/runs/<id>/network.svg the run's network, drawn
//   POST /api/runs/<id>/segment     multipart field `image`: the overlay PNG
//                                   (?format=json: overlay, mask, class map
//                                   and the classes found)
//   GET  /api/events                one Server-Sent Events stream of every
//                                   change ("run", "metrics"), with id: lines
//                                   so that a reconnect resumes
// Safe by default: it binds 127.0.0.1, answers only Host values of
// 127.0.0.1, localhost and [::1] on its port, needs a same-origin Origin on
// POST, caps request bodies and refuses multi-range requests.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fcnlab {
namespace serve {

struct ServeOptions {
  /// Run folders, or folders searched for runs (four levels down).
  std::vector<std::string> folders = {"."};
  std::string host = "127.0.0.1";
  /// 0 picks a free port (Server::port() tells which).
  int port = 8080;
  /// Host names accepted besides the loopback ones (serving beyond this
  /// machine with host 0.0.0.0).
  std::vector<std::string> allowed_hosts;
  /// Largest request body (an uploaded image); larger ones get 413.
  size_t max_body_bytes = 32u << 20;
  /// Open event streams at most; more get 503. Worker threads are this
  /// plus those for plain requests, so open streams never starve them.
  int max_streams = 64;
  /// How often the run folders are looked at.
  double poll_seconds = 0.25;
  /// Where Test One runs models ("cpu", "cuda", ...).
  std::string device = "cpu";
};

class Server {
 public:
  explicit Server(ServeOptions options);
  ~Server(); ///< stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds and starts serving on background threads; returns the port.
  /// Throws c10::Error naming the host and port when it cannot bind.
  int start();
  /// Stops within about a second, open streams included; idempotent.
  void stop();
  /// Blocks until stop() (from another thread or a signal handler's
  /// request_stop()).
  void wait();
  /// Asks wait() to stop the server; safe in a signal handler.
  void request_stop();
  bool running() const;
  int port() const;
  /// http://host:port/
  std::string url() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace serve
} // namespace fcnlab
