#pragma once
#include "io/layer_guard.hpp"
/// Output under MPI: some steps are done by rank 0 alone (the main file, the sidecar, renames,
/// removals), some by every rank together (a snapshot file). Either way every rank must leave the
/// step knowing whether it failed anywhere, or the ranks that carry on wait forever for the one that
/// threw. These helpers run a step and then agree on its outcome: if it failed on any rank, every rank
/// throws. A rank that failed rethrows its own exception (rank 0's message is the one shown to the
/// user; a failing rank prints its own reason only when rank 0 did not fail); the others throw one of
/// the same kind (OutputWriteError, std::bad_alloc, ...) saying that it failed on another rank.
/// On a single rank they just run the step: the serial program is unchanged.
#include <exception>
#include <string>

#include "grids/communicator.hpp"

namespace wgflow {

/// Collective over `ranks`: every rank passes what its part of the step threw (nullptr: nothing).
/// `path` is the file the step wrote, for OutputWriteErrors of the ranks that did not fail.
void agree_on_outcome(const Communicator& ranks, std::exception_ptr local, const std::string& path);

/// Runs `step` on rank 0 only; every rank returns or throws together (agree_on_outcome).
template <class Step>
void on_rank0(const Communicator& ranks, const std::string& path, Step&& step) {
  if (ranks.size() == 1) {
    step();
    return;
  }
  std::exception_ptr failure;
  if (ranks.rank() == 0) {
    try {
      step();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  agree_on_outcome(ranks, failure, path);
}

/// Runs `step` on every rank; every rank returns or throws together (agree_on_outcome).
template <class Step>
void on_every_rank(const Communicator& ranks, const std::string& path, Step&& step) {
  if (ranks.size() == 1) {
    step();
    return;
  }
  std::exception_ptr failure;
  try {
    step();
  } catch (...) {
    failure = std::current_exception();
  }
  agree_on_outcome(ranks, failure, path);
}

}  // namespace wgflow
