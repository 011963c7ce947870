#include <fcnlab/serve/server.h>

#include "detail/assets.h"
#include "detail/request_policy.h"
#include "detail/run_index.h"
#include "detail/segment_service.h"

#include <fcnlab/caffe/prototxt.h>
#include <fcnlab/models/summary.h>
#include <fcnlab/serve/network_drawing.h>

#include <c10/util/Exception.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fcnlab {
namespace serve {
namespace {

namespace fs = std::filesystem;
using detail::RunIndex;

constexpr const char* kRunId = "([A-Za-z0-9._~-]+)";
// Plain requests keep this many workers of their own beside the streams.
constexpr int kPlainWorkers = 16;
constexpr auto kStreamWait = std::chrono::milliseconds(250);
constexpr auto kPingEvery = std::chrono::seconds(15);

void send_json(
    httplib::Response& res,
    const nlohmann::json& body,
    int status = 200) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

void send_error(
    httplib::Response& res,
    int status,
    const std::string& message) {
  send_json(res, {{"error", message}}, status);
}

// Streams a file in pieces: snapshots are hundreds of megabytes.
void send_file(httplib::Response& res, const fs::path& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  if (error) {
    send_error(res, 404, "no such file");
    return;
  }
  auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
  res.set_content_provider(
      size,
      detail::content_type_for(path.filename().string()),
      [in](size_t offset, size_t length, httplib::DataSink& sink) {
        char buffer[1 << 16];
        in->seekg(static_cast<std::streamoff>(offset));
        in->read(
            buffer,
            static_cast<std::streamsize>(std::min(length, sizeof(buffer))));
        const auto got = in->gcount();
        return got > 0 && sink.write(buffer, static_cast<size_t>(got));
      });
}

std::string event_text(const detail::Event& event) {
  return "id: " + std::to_string(event.id) + "\nevent: " + event.type +
      "\ndata: " + event.data + "\n\n";
}

} // namespace

class Server::Impl {
 public:
  explicit Impl(ServeOptions options)
      : options_(std::move(options)),
        index_(options_.folders),
        segmenter_(options_.device) {}

  int start();
  void stop();

  ServeOptions options_;
  RunIndex index_;
  detail::SegmentService segmenter_;
  httplib::Server http_;
  detail::RequestPolicy policy_;
  std::thread listener_;
  std::thread poller_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listener_done_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<int> streams_{0};
  int port_ = 0;

 private:
  void add_routes();
  void serve_events(const httplib::Request& req, httplib::Response& res);
  void serve_segment(const httplib::Request& req, httplib::Response& res);
  void serve_network(const std::string& id, httplib::Response& res);
};

int Server::Impl::start() {
  TORCH_CHECK(!listener_.joinable(), "the server is already running");
  index_.refresh(); // the first page already lists the runs
  const size_t workers = size_t(options_.max_streams + kPlainWorkers);
  http_.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  http_.set_payload_max_length(options_.max_body_bytes);
  // SO_REUSEADDR only: cpp-httplib's default adds SO_REUSEPORT, which lets
  // a second dashboard share a port in use without a word.
  http_.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  add_routes();
  port_ = options_.port == 0
      ? http_.bind_to_any_port(options_.host)
      : (http_.bind_to_port(options_.host, options_.port) ? options_.port : -1);
  TORCH_CHECK(
      port_ > 0,
      "cannot listen on ",
      options_.host,
      ":",
      options_.port,
      " (in use, or not an address of this machine)");
  policy_.port = port_;
  policy_.extra_hosts = options_.allowed_hosts;
  listener_ = std::thread([this] {
    http_.listen_after_bind();
    listener_done_ = true;
  });
  poller_ = std::thread([this] {
    const auto period = std::chrono::duration<double>(options_.poll_seconds);
    // Known runs every poll; the walk for new ones about every 2 s.
    const int walk_every = std::max(1, int(2.0 / options_.poll_seconds));
    for (int poll = 1; !stopping_; ++poll) {
      std::this_thread::sleep_for(period);
      try {
        index_.refresh(poll % walk_every == 0);
      } catch (const std::exception&) {
        // A folder that vanished mid-read is read again next time.
      }
    }
  });
  return port_;
}

void Server::Impl::stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  index_.notify_all(); // streams waiting for events end now
  http_.stop();
  // cpp-httplib's listen loop has been seen to stay blocked in accept()
  // after stop() (its stop() acts only while the loop reads as running):
  // stop again, and knock on the port, until the loop has ended.
  for (int wait = 1; listener_.joinable() && !listener_done_; ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (wait % 20 == 0) {
      http_.stop();
      httplib::Client knock(options_.host, port_);
      knock.set_connection_timeout(0, 200000);
      knock.set_read_timeout(0, 200000);
      knock.Get("/");
    }
  }
  if (listener_.joinable()) {
    listener_.join();
  }
  if (poller_.joinable()) {
    poller_.join();
  }
}

void Server::Impl::add_routes() {
  http_.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) {
        const auto refusal = detail::refusal_for(
            policy_,
            req.method,
            req.get_header_value("Host"),
            req.get_header_value("Origin"),
            req.get_header_value("Range"));
        if (!refusal) {
          return httplib::Server::HandlerResponse::Unhandled;
        }
        send_error(res, refusal->status, refusal->reason);
        return httplib::Server::HandlerResponse::Handled;
      });
  http_.set_exception_handler([](const httplib::Request&,
                                 httplib::Response& res,
                                 std::exception_ptr error) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(error);
    } catch (const c10::Error& e) {
      message = e.what_without_backtrace();
    } catch (const std::exception& e) {
      message = e.what();
    }
    send_error(res, 500, message);
  });

  // Pages: one document; its script draws the page the path names.
  const auto page = [](const httplib::Request&, httplib::Response& res) {
    const auto* asset = detail::find_asset("index.html");
    res.set_content(
        reinterpret_cast<const char*>(asset->data), asset->size, "text/html");
  };
  for (const char* path : {"/", "/runs", "/compare"}) {
    http_.Get(path, page);
  }
  http_.Get(R"(/(run|test|network|dataset)/[A-Za-z0-9._~-]+)", page);
  http_.Get(
      "/favicon.ico", [](const httplib::Request&, httplib::Response& res) {
        res.status = 204;
      });
  http_.Get(
      R"(/assets/([A-Za-z0-9._/-]+))",
      [](const httplib::Request& req, httplib::Response& res) {
        const auto* asset = detail::find_asset(req.matches[1]);
        if (!asset) {
          send_error(res, 404, "no such asset");
          return;
        }
        res.set_header("Cache-Control", "max-age=3600");
        res.set_content(
            reinterpret_cast<const char*>(asset->data),
            asset->size,
            detail::content_type_for(asset->path).c_str());
      });

  http_.Get(
      "/api/runs", [this](const httplib::Request&, httplib::Response& res) {
        // The event id first: a client that streams from it misses nothing.
        const int64_t last_event = index_.last_event_id();
        send_json(
            res, {{"runs", index_.runs()}, {"last_event_id", last_event}});
      });
  http_.Get(
      std::string("/api/runs/") + kRunId,
      [this](const httplib::Request& req, httplib::Response& res) {
        const auto run = index_.run(req.matches[1]);
        if (!run) {
          send_error(res, 404, "no run " + std::string(req.matches[1]));
          return;
        }
        send_json(res, *run);
      });
  http_.Get(
      std::string("/api/runs/") + kRunId + "/files/([^/]+)",
      [this](const httplib::Request& req, httplib::Response& res) {
        const std::string id = req.matches[1];
        const std::string name = req.matches[2];
        // Only a name from the run's own listing reaches the file system.
        for (const auto& file : index_.run_files(id)) {
          if (file.name == name) {
            res.set_header(
                "Content-Disposition", "attachment; filename=\"" + name + "\"");
            send_file(res, fs::path(*index_.run_dir(id)) / file.name);
            return;
          }
        }
        send_error(res, 404, "run " + id + " has no file " + name);
      });
  http_.Get(
      std::string("/api/runs/") + kRunId + "/network.svg",
      [this](const httplib::Request& req, httplib::Response& res) {
        serve_network(req.matches[1], res);
      });
  http_.Post(
      std::string("/api/runs/") + kRunId + "/segment",
      [this](const httplib::Request& req, httplib::Response& res) {
        serve_segment(req, res);
      });
  http_.Get(
      "/api/datasets", [this](const httplib::Request&, httplib::Response& res) {
        send_json(res, {{"datasets", index_.datasets()}});
      });
  http_.Get(
      std::string("/api/datasets/") + kRunId,
      [this](const httplib::Request& req, httplib::Response& res) {
        auto* dataset = index_.dataset(req.matches[1]);
        if (!dataset) {
          send_error(res, 404, "no dataset " + std::string(req.matches[1]));
          return;
        }
        const auto number = [&](const char* key, int64_t fallback) -> int64_t {
          try {
            return req.has_param(key) ? std::stoll(req.get_param_value(key))
                                      : fallback;
          } catch (const std::exception&) {
            return fallback;
          }
        };
        const std::string split =
            req.has_param("split") ? req.get_param_value("split") : "train";
        try {
          send_json(
              res,
              dataset->page(
                  split,
                  std::max<int64_t>(0, number("offset", 0)),
                  std::clamp<int64_t>(number("limit", 24), 1, 200),
                  number("class", -1)));
        } catch (const c10::Error& error) {
          send_error(res, 404, error.what_without_backtrace());
        }
      });
  http_.Get(
      std::string("/api/datasets/") + kRunId +
          R"(/(train|val)/(\d+)/(image|label)\.png)",
      [this](const httplib::Request& req, httplib::Response& res) {
        auto* dataset = index_.dataset(req.matches[1]);
        if (!dataset) {
          send_error(res, 404, "no dataset " + std::string(req.matches[1]));
          return;
        }
        try {
          const int64_t index = std::stoll(req.matches[3]);
          res.set_content(
              req.matches[4] == "image"
                  ? dataset->image_png(req.matches[2], index)
                  : dataset->label_png(req.matches[2], index),
              "image/png");
        } catch (const c10::Error& error) {
          send_error(res, 404, error.what_without_backtrace());
        } catch (const std::out_of_range&) {
          send_error(res, 404, "no such sample");
        }
      });
  http_.Get(
      "/api/events",
      [this](const httplib::Request& req, httplib::Response& res) {
        serve_events(req, res);
      });
}

void Server::Impl::serve_network(
    const std::string& id,
    httplib::Response& res) {
  const auto dir = index_.run_dir(id);
  const auto prototxt = dir ? fs::path(*dir) / "train.prototxt" : fs::path();
  std::error_code error;
  if (!dir || !fs::is_regular_file(prototxt, error)) {
    send_error(res, 404, "run " + id + " has no train.prototxt");
    return;
  }
  const auto spec = caffe::read_prototxt(prototxt.string());
  const auto [height, width] = models::default_input_size(spec);
  res.set_content(
      render_graph(network_dot(spec, height, width), "svg"), "image/svg+xml");
}

void Server::Impl::serve_segment(
    const httplib::Request& req,
    httplib::Response& res) {
  const std::string id = req.matches[1];
  if (!index_.run_dir(id)) {
    send_error(res, 404, "no run " + id);
    return;
  }
  if (!req.has_file("image")) {
    send_error(res, 400, "send the image as the multipart field 'image'");
    return;
  }
  const auto models = index_.model_files(id);
  std::string model = req.has_file("model")
      ? req.get_file_value("model").content
      : (models.empty() ? "" : models[0]);
  if (std::find(models.begin(), models.end(), model) == models.end()) {
    send_error(res, 404, "run " + id + " has no model file " + model);
    return;
  }
  const auto field = [&](const char* key, const std::string& fallback) {
    return req.has_file(key) ? req.get_file_value(key).content
        : req.has_param(key) ? req.get_param_value(key)
                             : fallback;
  };
  double opacity = 0.5;
  try {
    opacity = std::stod(field("opacity", "0.5"));
  } catch (const std::exception&) {
    opacity = -1;
  }
  if (!(opacity >= 0 && opacity <= 1)) {
    send_error(res, 400, "opacity must be a number in [0, 1]");
    return;
  }
  const auto image = req.get_file_value("image");
  // The client's file name is only a label for error messages.
  const std::string label = "uploaded image" +
      (image.filename.empty() ? "" : " '" + image.filename + "'");
  detail::SegmentResult result;
  try {
    result = segmenter_.segment(
        *index_.run_dir(id),
        model,
        index_.class_names(id),
        image.content,
        label,
        field("colormap", "palette"),
        opacity);
  } catch (const c10::Error& error) {
    send_error(res, 400, error.what_without_backtrace());
    return;
  }
  if (req.get_param_value("format") != "json") {
    res.set_content(result.overlay_png, "image/png");
    return;
  }
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& found : result.classes) {
    classes.push_back(
        {{"index", found.index},
         {"name", found.name},
         {"color", {found.color.r, found.color.g, found.color.b}},
         {"share", found.share}});
  }
  send_json(
      res,
      {{"width", result.width},
       {"height", result.height},
       {"model", model},
       {"overlay_png", detail::base64(result.overlay_png)},
       {"mask_png", detail::base64(result.mask_png)},
       {"class_map", detail::base64(result.class_map)},
       {"classes", classes}});
}

void Server::Impl::serve_events(
    const httplib::Request& req,
    httplib::Response& res) {
  if (streams_.fetch_add(1) >= options_.max_streams) {
    streams_.fetch_sub(1);
    send_error(res, 503, "too many open event streams");
    return;
  }
  // A reconnecting EventSource sends the last id it saw; a page that has
  // just loaded its data passes the id that data was read at.
  int64_t last = index_.last_event_id();
  const std::string resume = req.has_header("Last-Event-ID")
      ? req.get_header_value("Last-Event-ID")
      : req.get_param_value("last_id");
  if (!resume.empty()) {
    try {
      last = std::stoll(resume);
    } catch (const std::exception&) {
    }
  }
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  auto last_sent = std::make_shared<int64_t>(last);
  auto last_write = std::make_shared<std::chrono::steady_clock::time_point>(
      std::chrono::steady_clock::now());
  res.set_chunked_content_provider(
      "text/event-stream",
      [this, last_sent, last_write](size_t, httplib::DataSink& sink) {
        if (stopping_) {
          return false;
        }
        bool gap = false;
        auto events = index_.events_after(*last_sent, 256, &gap);
        std::string text;
        if (gap) {
          text += "event: reset\ndata: {}\n\n"; // reload: events were dropped
        }
        for (const auto& event : events) {
          text += event_text(event);
          *last_sent = event.id;
        }
        const auto now = std::chrono::steady_clock::now();
        if (text.empty() && now - *last_write > kPingEvery) {
          text = ": ping\n\n"; // finds a client that went away
        }
        if (!text.empty()) {
          *last_write = now;
          return sink.write(text.data(), text.size()) && sink.is_writable();
        }
        // Waits here, a little at a time, so that stop() is prompt.
        index_.wait_for_events(*last_sent, kStreamWait);
        return !stopping_.load();
      },
      [this](bool) { streams_.fetch_sub(1); });
}

Server::Server(ServeOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  stop();
}

int Server::start() {
  return impl_->start();
}

void Server::stop() {
  impl_->stop();
}

void Server::request_stop() {
  impl_->stop_requested_.store(true);
}

void Server::wait() {
  while (!impl_->stop_requested_.load() && !impl_->stopping_.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop();
}

bool Server::running() const {
  return impl_->http_.is_running() && !impl_->stopping_.load();
}

int Server::port() const {
  return impl_->port_;
}

std::string Server::url() const {
  const auto& host = impl_->options_.host;
  const bool v6 = host.find(':') != std::string::npos;
  const std::string shown = host == "0.0.0.0" ? "127.0.0.1" : host;
  return "http://" + (v6 ? "[" + shown + "]" : shown) + ":" +
      std::to_string(impl_->port_) + "/";
}

} // namespace serve
} // namespace fcnlab
