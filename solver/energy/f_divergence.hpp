#pragma once
#include "solver/layer_guard.hpp"
/// f-divergences toward a fixed target density p as free energies of q (docs/numerics.md
/// "f-divergence flows"):
///   D_f(p‖q) = ∫ q f(p/q),  f convex, f(1) = 0,   ξ = δD_f/δq = f(r) − r f'(r),  r = p/q.
/// Discretised as the regularised energy, the divergence between p + ε and q + ε,
///   E_ε = Δx^d Σ_i (q_i + ε) f(r_i),   r_i = (p_i + ε)/(q_i + ε),
/// convex in q (a perspective of f), whose exact partial derivative Δx^{-d} ∂E_ε/∂q_i is ξ(r_i): the
/// upwind flux then dissipates E_ε exactly (semi-discretely), ξ stays finite where q → 0 (r ≤ 1 + p/ε)
/// and where p = 0 (r ≥ ε/(q + ε) > 0), and E_ε(q = p) = 0 with ξ ≡ f(1) − f'(1): the equilibrium is
/// exactly p, with no O(ε) bias. "kl" (f = −log r, ξ = log q − log p + 1) is Fokker–Planck with D = 1, V = −log p and
/// goes through the SG flux instead (kl_potential()); it needs no ε.
#include <cmath>
#include <stdexcept>
#include <string>

#include "grids/field.hpp"

namespace wgflow {

enum class DivergenceKind { kl, reverse_kl, chi2, hellinger, jensen_shannon, alpha };

struct DivergenceSpec {
  DivergenceKind kind = DivergenceKind::kl;
  double alpha = 0.5;  ///< alpha-family only
};

/// Parses kl | reverse-kl | chi2 | hellinger | jensen-shannon | alpha:A; alpha:0 is kl and alpha:1
/// is reverse-kl (the limits of the family). Throws std::invalid_argument naming --divergence.
DivergenceSpec parse_divergence(const std::string& text);
std::string to_string(const DivergenceSpec& spec);

/// r log r with its limit 0 at r = 0.
inline double xlogx(double r) { return r > 0.0 ? r * std::log(r) : 0.0; }

// Generators: f(r), ξ(r) = f(r) − r f'(r) and r² f''(r) (the last times q/(q+ε) is q ∂ξ/∂q, the
// diffusivity of the linearised flow: it sets the parabolic step limit).

/// KL(q‖p): f = −log r.
struct KlGenerator {
  double f(double r) const { return -std::log(r); }
  double xi(double r) const { return 1.0 - std::log(r); }
  double r2_fpp(double) const { return 1.0; }
};
/// KL(p‖q): f = r log r, ξ = −r.
struct ReverseKlGenerator {
  double f(double r) const { return xlogx(r); }
  double xi(double r) const { return -r; }
  double r2_fpp(double r) const { return r; }
};
/// χ²(p‖q) = ∫ (p − q)²/q: f = (r − 1)², ξ = 1 − r².
struct Chi2Generator {
  double f(double r) const { return (r - 1.0) * (r - 1.0); }
  double xi(double r) const { return 1.0 - r * r; }
  double r2_fpp(double r) const { return 2.0 * r * r; }
};
/// Squared Hellinger ∫ (√p − √q)²: f = (√r − 1)², ξ = 1 − √r.
struct HellingerGenerator {
  double f(double r) const { return (std::sqrt(r) - 1.0) * (std::sqrt(r) - 1.0); }
  double xi(double r) const { return 1.0 - std::sqrt(r); }
  double r2_fpp(double r) const { return 0.5 * std::sqrt(r); }
};
/// Jensen–Shannon ½KL(p‖m) + ½KL(q‖m), m = (p + q)/2: f = ½[r log r − (1 + r) log((1 + r)/2)],
/// ξ = ½ log(2/(1 + r)).
struct JensenShannonGenerator {
  double f(double r) const { return 0.5 * (xlogx(r) - (1.0 + r) * std::log(0.5 * (1.0 + r))); }
  double xi(double r) const { return 0.5 * std::log(2.0 / (1.0 + r)); }
  double r2_fpp(double r) const { return 0.5 * r / (1.0 + r); }
};
/// α-family (Amari): f = (r^α − α r − (1 − α))/(α(α − 1)), ξ = (1 − r^α)/α, α ∉ {0, 1}
/// (α → 0: −log r + r − 1, KL(q‖p); α → 1: r log r − r + 1, KL(p‖q); α = 2: ½χ²; α = ½: 2 Hellinger).
struct AlphaGenerator {
  double a = 0.5;
  double f(double r) const { return (std::pow(r, a) - a * r - (1.0 - a)) / (a * (a - 1.0)); }
  double xi(double r) const { return (1.0 - std::pow(r, a)) / a; }
  double r2_fpp(double r) const { return std::pow(r, a); }
};

/// Calls fn(g) with the concrete generator: the one dispatch, done once per pass.
template <class Fn>
decltype(auto) with_generator(const DivergenceSpec& spec, Fn&& fn) {
  switch (spec.kind) {
    case DivergenceKind::kl: return fn(KlGenerator{});
    case DivergenceKind::reverse_kl: return fn(ReverseKlGenerator{});
    case DivergenceKind::chi2: return fn(Chi2Generator{});
    case DivergenceKind::hellinger: return fn(HellingerGenerator{});
    case DivergenceKind::jensen_shannon: return fn(JensenShannonGenerator{});
    case DivergenceKind::alpha: return fn(AlphaGenerator{spec.alpha});
  }
  throw std::logic_error("unknown divergence kind");
}

/// The divergence term of a run: the generator, the target p (normalised, ghosts filled) and ε.
template <int Dim>
class FDivergence {
 public:
  /// `target`: p at cell centres, already normalised and validated (see solver/energy/target.hpp).
  /// `epsilon_rel`: ε = epsilon_rel · max p (> 0 unless the divergence is kl).
  FDivergence(const UniformGrid<Dim>& grid, const DivergenceSpec& spec, Field<Dim> target, double epsilon_rel);

  const UniformGrid<Dim>& grid() const { return m_grid; }
  const DivergenceSpec& spec() const { return m_spec; }
  const Field<Dim>& target() const { return m_p; }
  double epsilon() const { return m_eps; }
  /// kl runs as Fokker–Planck: U = q log q and the potential below, through the SG flux.
  bool through_potential() const { return m_spec.kind == DivergenceKind::kl; }

  /// V = −log max(p, p_floor), p_floor = 1e-300 max p (cells where p underflows or vanishes), ghosts
  /// filled: with D = 1 the SG equilibrium e^{−V} is p itself.
  Field<Dim> kl_potential() const;

  /// ξ_i = f(r_i) − r_i f'(r_i), r_i = (p_i + ε)/(q_i + ε), on the interior (the caller fills ghosts).
  /// Returns max_i q_i r_i² f''(r_i)/(q_i + ε) = max q ∂ξ/∂q, the diffusivity of the parabolic limit.
  double variation(const Field<Dim>& q, Field<Dim>& xi) const;

  /// ∂ξ_i/∂q_i = r_i² f''(r_i)/(q_i + ε) on the interior: the diagonal of implicit Euler's Newton Jacobian.
  void dxi_dq(const Field<Dim>& q, Field<Dim>& out) const;

  /// Σ_i (q_i + ε) f((p_i + ε)/(q_i + ε)) over the cells [begin, begin + count) of one row (no Δx^d).
  double row_energy(const double* q, std::ptrdiff_t begin, int count) const;

 private:
  UniformGrid<Dim> m_grid;
  DivergenceSpec m_spec;
  Field<Dim> m_p;
  double m_eps = 0.0;
};

}  // namespace wgflow
