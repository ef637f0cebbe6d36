#include "cli/signals.hpp"

namespace wgflow {

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void request_stop(int signal_number) {
  g_stop_signal = signal_number;
  std::signal(signal_number, SIG_DFL);  // a second signal ends the process
}

}  // namespace

StopOnSignal::StopOnSignal() {
  g_stop_signal = 0;
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &m_old_int);
  sigaction(SIGTERM, &action, &m_old_term);
}

StopOnSignal::~StopOnSignal() {
  sigaction(SIGINT, &m_old_int, nullptr);
  sigaction(SIGTERM, &m_old_term, nullptr);
}

const volatile std::sig_atomic_t* StopOnSignal::flag() { return &g_stop_signal; }

}  // namespace wgflow
