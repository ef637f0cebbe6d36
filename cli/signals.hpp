#pragma once
#include "cli/layer_guard.hpp"
/// SIGINT/SIGTERM ask a run to stop after its current step (and write a checkpoint); a second signal
/// of the same kind ends the process at once, as users expect of a second Ctrl-C.
#include <csignal>

namespace wgflow {

/// Installs the handlers for the lifetime of the object; restores the previous ones after.
class StopOnSignal {
 public:
  StopOnSignal();
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;

  /// The flag the run loop polls: the number of the signal received, 0 while none was.
  static const volatile std::sig_atomic_t* flag();

 private:
  struct sigaction m_old_int {}, m_old_term {};
};

}  // namespace wgflow
