// A report for a test program that crashes: the test it was in, the
// faulting code, the return address on top of the stack and the stack.
#include "crash_report.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include <dlfcn.h>
#include <execinfo.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

namespace fcnlab::testing {
namespace {

void write_stderr(const char* text) {
  if (write(STDERR_FILENO, text, std::strlen(text)) < 0) {
    return;
  }
}

void write_address(const char* label, const void* address) {
  char text[256];
  Dl_info info{};
  if (dladdr(address, &info) != 0 && info.dli_fname != nullptr) {
    std::snprintf(
        text,
        sizeof text,
        "%s %p in %s (%s+%#lx)\n",
        label,
        address,
        info.dli_fname,
        info.dli_sname ? info.dli_sname : "?",
        static_cast<unsigned long>(
            static_cast<const char*>(address) -
            static_cast<const char*>(
                info.dli_sname ? info.dli_saddr : info.dli_fbase)));
  } else {
    std::snprintf(
        text, sizeof text, "%s %p in no loaded file\n", label, address);
  }
  write_stderr(text);
}

// Not async-signal-safe in every step, but the process is dying anyway and
// the name of the test, the faulting code and the stack are what make the
// crash fixable. The stack stops early when the faulting code has no unwind
// tables (generated kernels, a call through a null pointer): the faulting
// address and the return address on top of the stack still name the code.
void report_crash(int signal_number, siginfo_t* info, void* context) {
  write_stderr("\n*** crashed with signal ");
  write_stderr(strsignal(signal_number));
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  if (test != nullptr) {
    write_stderr(" in ");
    write_stderr(test->test_suite_name());
    write_stderr(".");
    write_stderr(test->name());
  }
  write_stderr("\n");
  char text[128];
  std::snprintf(
      text,
      sizeof text,
      "thread %ld (process %ld), address %p\n",
      static_cast<long>(syscall(SYS_gettid)),
      static_cast<long>(getpid()),
      info->si_addr);
  write_stderr(text);
#if defined(__x86_64__)
  const auto& registers = static_cast<ucontext_t*>(context)->uc_mcontext.gregs;
  write_address("code", reinterpret_cast<void*>(registers[REG_RIP]));
  write_address(
      "return address on the stack",
      *reinterpret_cast<void* const*>(registers[REG_RSP]));
#else
  (void)context;
#endif
  write_stderr("stack:\n");
  void* frames[64];
  backtrace_symbols_fd(frames, backtrace(frames, 64), STDERR_FILENO);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

} // namespace

void install_crash_report() {
  struct sigaction action {};
  action.sa_sigaction = report_crash;
  action.sa_flags = SA_SIGINFO;
  for (const int signal_number : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) {
    sigaction(signal_number, &action, nullptr);
  }
}

} // namespace fcnlab::testing
