// A crash report on stderr for test programs (see crash_report.cpp).
#pragma once

namespace fcnlab::testing {

// Reports SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT, then dies of them.
void install_crash_report();

} // namespace fcnlab::testing
