#pragma once

// Runs the fcnlab command line tool (FCNLAB_CLI, its path, is defined by the
// test's CMake target) in the foreground or in the background.

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <thread>

namespace fcnlab {
namespace testing {

struct CliRun {
  int exit_code;
  std::string output; // stdout and stderr together
};

/// Runs `fcnlab --threads 2 ARGUMENTS` and waits for it. `shell_prefix`
/// comes first in the shell command line (a trap, `exec prlimit ...`).
inline CliRun run_cli(
    const std::string& arguments,
    const std::string& shell_prefix = "") {
  const std::string command = shell_prefix + std::string(FCNLAB_CLI) +
      " --threads 2 " + arguments + " 2>&1";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) {
    throw std::runtime_error("cannot run " + command);
  }
  CliRun run{0, ""};
  std::array<char, 4096> buffer;
  size_t count;
  while ((count = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    run.output.append(buffer.data(), count);
  }
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

/// Writes a synthetic VOC archive `tar` and prepares it into `out` with the
/// tool; the output of the step that failed, or "" on success.
inline std::string prepare_synthetic_voc(
    const std::string& tar,
    const std::string& out,
    int images,
    int max_side) {
  for (const std::string& step :
       {"synth-voc " + tar + " --images " + std::to_string(images) +
            " --max-side " + std::to_string(max_side),
        "prepare-voc " + tar + " " + out}) {
    const CliRun run = run_cli(step);
    if (run.exit_code != 0) {
      return step + ":\n" + run.output;
    }
  }
  return "";
}

/// Starts `fcnlab --threads 2 ARGUMENTS` with its output in `log` and
/// returns its process id (the tool's own: the shell execs it).
/// `environment` ("RANK=1 WORLD_SIZE=2") is added to its environment.
inline pid_t start_cli(
    const std::string& arguments,
    const std::string& log,
    const std::string& environment = "") {
  const std::string command = "exec env " + environment + " " +
      std::string(FCNLAB_CLI) + " --threads 2 " + arguments + " > " + log +
      " 2>&1";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(
        "/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid < 0) {
    throw std::runtime_error("cannot start " + command);
  }
  return pid;
}

/// How a process ended.
struct Ended {
  bool exited = false; ///< on its own, with `code`
  int code = -1;
  bool signaled = false; ///< by `signal`
  int signal = 0;
  bool timed_out = false;
};

/// Waits up to `seconds` for `pid` to end; kills it (SIGKILL) on timeout.
inline Ended wait_for(pid_t pid, double seconds) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  Ended ended;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      ended.timed_out = true;
      return ended;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ended.exited = WIFEXITED(status);
  ended.code = ended.exited ? WEXITSTATUS(status) : -1;
  ended.signaled = WIFSIGNALED(status);
  ended.signal = ended.signaled ? WTERMSIG(status) : 0;
  return ended;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace testing
} // namespace fcnlab
