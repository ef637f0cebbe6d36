#include "solver/energy/f_divergence.hpp"
#include "grids/parameter_error.hpp"

#include <algorithm>
#include <cfloat>
#include <sstream>

#include "grids/boundary.hpp"
#include "grids/parallel_for.hpp"
#include "solver/energy/parse_number.hpp"

namespace wgflow {

DivergenceSpec parse_divergence(const std::string& text) {
  DivergenceSpec s;
  if (text == "kl") return s;
  if (text == "reverse-kl") s.kind = DivergenceKind::reverse_kl;
  if (text == "chi2") s.kind = DivergenceKind::chi2;
  if (text == "hellinger") s.kind = DivergenceKind::hellinger;
  if (text == "jensen-shannon") s.kind = DivergenceKind::jensen_shannon;
  if (s.kind != DivergenceKind::kl) return s;
  const std::string allowed = " (allowed: kl, reverse-kl, chi2, hellinger, jensen-shannon, alpha:A with A in [-10, 10])";
  if (text.rfind("alpha:", 0) != 0) throw ParameterError(Parameter::divergence, "unknown divergence '" + text + "'" + allowed);
  const std::string number = text.substr(6);
  const double a = parse_finite(number).value_or(NAN);
  if (!(a >= -10.0 && a <= 10.0))
    throw ParameterError(Parameter::divergence, "'" + text + "' needs a number A in [-10, 10] after alpha:" + allowed);
  if (a == 0.0) return s;  // the α → 0 limit: KL(q‖p)
  if (a == 1.0) {          // the α → 1 limit: KL(p‖q)
    s.kind = DivergenceKind::reverse_kl;
    return s;
  }
  s.kind = DivergenceKind::alpha;
  s.alpha = a;
  return s;
}

std::string to_string(const DivergenceSpec& spec) {
  switch (spec.kind) {
    case DivergenceKind::kl: return "kl";
    case DivergenceKind::reverse_kl: return "reverse-kl";
    case DivergenceKind::chi2: return "chi2";
    case DivergenceKind::hellinger: return "hellinger";
    case DivergenceKind::jensen_shannon: return "jensen-shannon";
    case DivergenceKind::alpha: break;
  }
  std::ostringstream s;
  s.precision(17);
  s << "alpha:" << spec.alpha;
  return s.str();
}

template <int Dim>
FDivergence<Dim>::FDivergence(const UniformGrid<Dim>& grid, const DivergenceSpec& spec, Field<Dim> target,
                              double epsilon_rel)
    : m_grid(grid), m_spec(spec), m_p(std::move(target)) {
  double max_p = 0.0;
  for (double v : interior_values(m_p)) max_p = std::max(max_p, v);
  max_p = m_grid.ranks.max(max_p);  // of the whole target: the same ε on every rank
  m_eps = through_potential() ? 0.0 : epsilon_rel * max_p;
  if (!through_potential() && !(m_eps > 0.0))
    throw ParameterError(Parameter::target_epsilon, "must be > 0 for {divergence} " + to_string(spec));
}

template <int Dim>
Field<Dim> FDivergence<Dim>::kl_potential() const {
  Field<Dim> V(m_p.layout());
  double max_p = 0.0;
  const std::vector<double> p = interior_values(m_p);
  for (double v : p) max_p = std::max(max_p, v);
  max_p = m_grid.ranks.max(max_p);
  const double floor = std::max(1e-300 * max_p, DBL_MIN);
  std::vector<double> v(p.size());
  for (std::size_t i = 0; i < p.size(); ++i) v[i] = -std::log(std::max(p[i], floor));
  set_interior_values(V, v);
  fill_ghosts(V, m_grid);
  return V;
}

template <int Dim>
double FDivergence<Dim>::variation(const Field<Dim>& q, Field<Dim>& xi) const {
  const double* qp = q.data();
  const double* p = m_p.data();
  double* x = xi.data();
  const double eps = m_eps;
  return with_generator(m_spec, [&](auto g) {
    return parallel_max_rows(q.layout(), [&](std::ptrdiff_t begin, int count) {
      double row_max = 0.0;
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
        const double s = qp[c] + eps;
        const double r = (p[c] + eps) / s;
        x[c] = g.xi(r);  // ξ = f(r) − r f'(r), r = (p + ε)/(q + ε)
        row_max = std::max(row_max, qp[c] / s * g.r2_fpp(r));
      }
      return row_max;
    });
  });
}

template <int Dim>
void FDivergence<Dim>::dxi_dq(const Field<Dim>& q, Field<Dim>& out) const {
  const double* qp = q.data();
  const double* p = m_p.data();
  double* o = out.data();
  const double eps = m_eps;
  with_generator(m_spec, [&](auto g) {
    parallel_for_rows(q.layout(), [&](std::size_t, std::ptrdiff_t begin, int count) {
      for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
        const double s = qp[c] + eps;
        o[c] = g.r2_fpp((p[c] + eps) / s) / s;  // dξ/dq = −r f''(r) · dr/dq, dr/dq = −r/(q + ε)
      }
    });
    return 0;
  });
}

template <int Dim>
double FDivergence<Dim>::row_energy(const double* q, std::ptrdiff_t begin, int count) const {
  const double* p = m_p.data();
  const double eps = m_eps;
  return with_generator(m_spec, [&](auto g) {
    double sum = 0.0;
    for (std::ptrdiff_t c = begin; c < begin + count; ++c) {
      const double s = q[c] + eps;
      sum += s * g.f((p[c] + eps) / s);  // (q + ε) f((p + ε)/(q + ε))
    }
    return sum;
  });
}

template class FDivergence<1>;
template class FDivergence<2>;
template class FDivergence<3>;

}  // namespace wgflow
