// `fcnlab serve` stopped by a real SIGTERM or Ctrl-C while a browser's event
// stream is open: it exits 0 within about a second.
#ifdef FCNLAB_HAS_SERVE

#include "cli_runner.h"
#include "seeded_test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace fcnlab {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

class ServeSignalsTest : public testing::SeededTest,
                         public ::testing::WithParamInterface<int> {
 protected:
  // The port the server printed in its log, once it has.
  int wait_for_port(const std::string& log) const {
    const std::regex address("http://127\\.0\\.0\\.1:([0-9]+)/");
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      std::smatch match;
      const std::string content = text.str();
      if (std::regex_search(content, match, address)) {
        return std::stoi(match[1].str());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return 0;
  }

  // An open event stream that has received its first event, as a socket.
  static int open_stream(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
        0) {
      ::close(fd);
      return -1;
    }
    const std::string request =
        "GET /api/events?last_id=0 HTTP/1.1\r\nHost: 127.0.0.1:" +
        std::to_string(port) + "\r\n\r\n";
    ::send(fd, request.data(), request.size(), 0);
    std::string received;
    char buffer[4096];
    while (received.find("event: metrics") == std::string::npos) {
      const auto count = ::recv(fd, buffer, sizeof(buffer), 0);
      if (count <= 0) {
        ::close(fd);
        return -1;
      }
      received.append(buffer, size_t(count));
    }
    return fd;
  }
};

TEST_P(ServeSignalsTest, StopsWithinASecondWithAStreamOpen) {
  fs::create_directories(path("runs/a"));
  std::ofstream(path("runs/a/metrics.jsonl"))
      << R"({"type": "iteration", "iteration": 1, "loss": 1.5})"
      << "\n";
  const pid_t pid =
      testing::start_cli("serve " + path("runs") + " --port 0", path("log"));
  const int port = wait_for_port(path("log"));
  ASSERT_GT(port, 0) << "no address in the log";
  const int stream = open_stream(port);
  ASSERT_GE(stream, 0);
  const auto signaled = Clock::now();
  ::kill(pid, GetParam());
  const auto ended = testing::wait_for(pid, 10);
  const double seconds =
      std::chrono::duration<double>(Clock::now() - signaled).count();
  ::close(stream);
  ASSERT_FALSE(ended.timed_out);
  EXPECT_TRUE(ended.exited);
  EXPECT_EQ(ended.code, 0);
  EXPECT_LT(seconds, 1.5) << "stopping took " << seconds << " s";
}

INSTANTIATE_TEST_SUITE_P(
    Signals,
    ServeSignalsTest,
    ::testing::Values(SIGTERM, SIGINT),
    [](const ::testing::TestParamInfo<int>& info) {
      return info.param == SIGTERM ? "Sigterm" : "CtrlC";
    });

} // namespace
} // namespace fcnlab

#endif // FCNLAB_HAS_SERVE
