#pragma once
#include "io/layer_guard.hpp"
/// The interaction options of a run (--kernel, --chi) and the cases built on them
/// (aggregation-diffusion, keller-segel): resolution, validation, INI text, memory.
#include <string>

#include "io/run_config.hpp"
#include "solver/energy/interaction_kernel.hpp"

namespace wgflow {

/// --kernel after "auto" is resolved: newtonian for keller-segel, attractive-repulsive for
/// aggregation-diffusion, none for the other cases.
std::string resolved_kernel(const RunConfig& c);

/// Throws ConfigError naming --kernel, --chi, --diffusion or --stepper for a bad combination.
void validate_interaction(const RunConfig& c);

/// "kernel = ...\nchi = ...\n" for a run with an interaction, "" otherwise (part of to_ini()).
std::string interaction_ini(const RunConfig& c);

/// FFT buffers (padded real array, two half-spectra) and Φ of a run with an interaction, else 0.
double interaction_memory_bytes(const RunConfig& c);

/// The kernel of a validated config; "expr:FORMULA" becomes a parsed formula in r.
InteractionSpec interaction_of(const RunConfig& c);

}  // namespace wgflow
