#pragma once
#include "solver/layer_guard.hpp"
/// Internal energies U(q) of F[q] = ∫U(q) + ∫V q. Each is a small value type whose methods are
/// inlined into the cell loops; the solver picks the type once per run (see with_internal_energy).
///   U       the energy density          (E_D = Δx^d Σ U(q_i) + ...)
///   dU      U'(q), its part of ξ = δF/δq
///   P'      q U''(q), the diffusivity of q_t = ∇·(P'(q)∇q); sets the parabolic step limit.
///           Non-decreasing in q for every energy here, so max P' over a grid is P'(max q).
#include <cmath>
#include <stdexcept>
#include <string>

namespace wgflow {

/// U = D q log q: linear diffusion q_t = D Δq (numerics.md, table row "heat").
struct Entropy {
  double D = 1.0;
  double U(double q) const { return q > 0.0 ? D * q * std::log(q) : 0.0; }
  double dU(double q) const { return D * (std::log(q) + 1.0); }
  double P_prime(double /*q*/) const { return D; }
};

/// q^e with multiplication for the common integer exponents (the branch is the same for every cell).
inline double power(double q, double e) {
  if (e == 1.0) return q;
  if (e == 2.0) return q * q;
  return std::pow(q, e);
}

/// U = D q^m/(m−1), m > 1: porous medium q_t = D Δq^m (ξ = D m/(m−1) q^{m−1}).
struct PorousMedium {
  double D = 1.0;
  double m = 2.0;
  double U(double q) const { return D * q * power(q, m - 1.0) / (m - 1.0); }
  double dU(double q) const { return D * m / (m - 1.0) * power(q, m - 1.0); }
  double P_prime(double q) const { return D * m * power(q, m - 1.0); }
};

/// U = 0: pure transport in the potential (and, later, interaction) field.
struct NoInternalEnergy {
  double U(double) const { return 0.0; }
  double dU(double) const { return 0.0; }
  double P_prime(double) const { return 0.0; }
};

/// Which internal energy a run uses, with its parameters; resolved to a type by with_internal_energy.
struct InternalEnergySpec {
  enum class Kind { none, entropy, porous_medium };
  Kind kind = Kind::entropy;
  double D = 1.0;
  double m = 2.0;
};

/// Calls fn(U) with the concrete internal-energy type: the one dispatch, done once per pass.
template <class Fn>
decltype(auto) with_internal_energy(const InternalEnergySpec& spec, Fn&& fn) {
  switch (spec.kind) {
    case InternalEnergySpec::Kind::entropy: return fn(Entropy{spec.D});
    case InternalEnergySpec::Kind::porous_medium: return fn(PorousMedium{spec.D, spec.m});
    case InternalEnergySpec::Kind::none: return fn(NoInternalEnergy{});
  }
  throw std::logic_error("unknown internal energy kind");
}

}  // namespace wgflow
