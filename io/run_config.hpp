#pragma once
#include "io/layer_guard.hpp"
/// Everything a run needs, as the user gave it (CLI flags or INI file), validated in one place.
#include <array>
#include <stdexcept>
#include <string>
#include <vector>

namespace wgflow {

/// A bad input: the message is one line naming the option and what is allowed.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RunConfig {
  std::string case_name = "heat";          ///< heat | fokker-planck | porous-medium | aggregation-diffusion | keller-segel | f-divergence | mean-field-network
  int dim = 1;
  long n = 128;                            ///< cells per axis
  std::array<double, 2> domain{-5.0, 5.0}; ///< [A, B] on every axis (unless domain_axes is set)
  std::vector<std::array<double, 2>> domain_axes{};  ///< one [A, B] per axis (x, y, z): --domain=A,B:C,D
  std::vector<std::string> bc{"no-flux"};  ///< one value, or one per axis (x, y, z)
  double diffusion = 1.0;                  ///< D
  double m = 2.0;                          ///< porous-medium exponent
  std::string potential = "auto";          ///< auto | none | quadratic | double-well | formula in x, y, z
  double gamma = 1.0;                      ///< quadratic potential strength
  std::vector<double> potential_center{};  ///< quadratic potential centre (default 0)
  std::string initial = "auto";            ///< auto | gaussian | barenblatt | uniform | file:PATH.h5 | formula
  double mass = 0.0;                       ///< > 0: rescale the initial density to this mass
  std::vector<double> gaussian_center{};   ///< default: the domain's midpoint
  double gaussian_width = 0.0;             ///< default: (B − A)/20
  double t_end = 1.0;
  std::string stepper = "ssp-rk3";
  double dt = 0.0;                         ///< implicit-euler: > 0 a fixed step, 0 adaptive
#ifdef WGFLOW_HAVE_HYPRE
  std::string linear_solver = "multigrid";  ///< implicit-euler: multigrid (hypre) | eigen
#else
  std::string linear_solver = "eigen";
#endif
  int order = 2;
  double cfl = 0.5;
  int snapshots = 10;
  long diagnostics_every = 1;              ///< keep a diagnostics row every K steps (and at snapshots)
  int threads = 0;                         ///< 0: OpenMP's default
  std::string out = "wgflow.h5";
  bool overwrite = false;
  bool quiet = false;
  std::string kernel = "auto";             ///< interaction: auto | none | NAME[:key=value,...] | expr:FORMULA in r
  double chi = 1.0;                        ///< interaction strength: W = χ w
  // --case f-divergence (README "f-divergence flows")
  std::string divergence = "kl";           ///< kl | reverse-kl | chi2 | hellinger | jensen-shannon | alpha:A
  std::string target = "gaussian";         ///< gaussian[:...] | mixture:... | file:PATH.h5 | formula in x, y, z
  double target_epsilon = 1e-3;            ///< ε of E_ε relative to max p (not used by kl)
  double target_mass = 0.0;                ///< 0: the initial density's mass (stored resolved in the output)
  // --case mean-field-network (README "Training a two-layer network")
  double output_weight = 1.0;              ///< A: the output weight of the 1D and 2D parameter grids
  std::string data = "x^2";                ///< file:PATH.h5 (datasets /x, /y) | formula in x
  long data_points = 50;                   ///< formula data: n equispaced points on data_range
  std::array<double, 2> data_range{-1.0, 1.0};
  std::string activation = "relu";         ///< relu | tanh | sigmoid
  // Particles carried by the flow (README "Particles")
  std::string particles = "0";             ///< N >= 0 sampled from q_0, or file:PATH.h5 (/positions, N x dim)
  long particles_seed = 0;                 ///< seed of the sampling, >= 0

  /// The number of particles to sample (0 for none or for a positions file).
  long particle_count() const;

  /// Throws ConfigError for the first bad field, e.g. "--cfl: must be in (0, 1] (got 1.5)".
  void validate() const;
  void validate_divergence() const;  ///< the f-divergence options (called by validate())
  /// The potential and initial data after "auto" is resolved for the case.
  std::string resolved_potential() const;
  std::string resolved_initial() const;
  /// [A, B] of axis k (x, y, z): domain_axes[k], or domain on every axis.
  std::array<double, 2> domain_of(int axis) const {
    return domain_axes.empty() ? domain : domain_axes[static_cast<std::size_t>(axis)];
  }
  /// The boundary of each axis (x, y, z), expanding a single value to every axis.
  std::vector<std::string> boundary_per_axis() const;
  /// The fully resolved configuration as INI text: stored in every output file.
  std::string to_ini() const;
};

/// Bytes a run needs at its peak: estimate_memory(config).total() (io/memory_estimate.hpp).
double estimated_memory_bytes(const RunConfig& config);

}  // namespace wgflow
