#include "solver/energy/interaction_kernel.hpp"
#include "grids/parameter_error.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "solver/energy/parse_number.hpp"

namespace wgflow {

namespace {

constexpr double pi = 3.14159265358979323846;

const char* const allowed_kernels =
    "newtonian, gaussian:sigma=S, morse:ca=A,la=L,cr=R,lr=M, power:a=A, attractive-repulsive, expr:FORMULA in r";

[[noreturn]] void bad(const std::string& what) { throw ParameterError(Parameter::kernel, what); }

double parse_value(const std::string& key, const std::string& text) {
  const std::optional<double> v = parse_finite(text);
  if (!v) bad(key + " must be a finite number (got '" + text + "')");
  return *v;
}

/// Nodes on [−1, 1] and weights of the n-point Gauss–Legendre rule (Newton on P_n; set-up only).
struct GaussRule {
  std::vector<double> x, w;
};
GaussRule gauss_legendre(int n) {
  GaussRule g{std::vector<double>(static_cast<std::size_t>(n)), std::vector<double>(static_cast<std::size_t>(n))};
  for (int i = 0; i < n; ++i) {
    double x = std::cos(pi * (i + 0.75) / (n + 0.5));
    double dp = 1.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = x;  // P_0, P_1; recurrence (k+1) P_{k+1} = (2k+1) x P_k − k P_{k−1}
      for (int k = 1; k < n; ++k) {
        const double p2 = ((2.0 * k + 1.0) * x * p1 - k * p0) / (k + 1.0);
        p0 = p1;
        p1 = p2;
      }
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      const double step = p1 / dp;
      x -= step;
      if (std::abs(step) < 1e-16) break;
    }
    g.x[static_cast<std::size_t>(i)] = x;
    g.w[static_cast<std::size_t>(i)] = 2.0 / ((1.0 - x * x) * dp * dp);
  }
  return g;
}

/// ∫ over the box centre ± half (per axis) of w(|x|), by the tensor rule g.
template <int Dim, class W>
double box_integral(const W& w, const std::array<double, Dim>& centre, const std::array<double, Dim>& half,
                    const GaussRule& g) {
  const int n = static_cast<int>(g.x.size());
  int total = 1;
  for (int k = 0; k < Dim; ++k) total *= n;
  double sum = 0.0;
  for (int p = 0; p < total; ++p) {
    double r2 = 0.0, weight = 1.0;
    int rest = p;
    for (int k = 0; k < Dim; ++k) {
      const auto i = static_cast<std::size_t>(rest % n);
      rest /= n;
      const double x = centre[k] + half[k] * g.x[i];
      r2 += x * x;
      weight *= half[k] * g.w[i];
    }
    sum += weight * w(std::sqrt(r2));
  }
  return sum;
}

/// ∫ over the 4^d sub-boxes of the box centre ± half; `skip_centre` leaves out the central 2^d.
template <int Dim, class W>
double split_integral(const W& w, const std::array<double, Dim>& centre, const std::array<double, Dim>& half,
                      const GaussRule& g, bool skip_centre) {
  int total = 1;
  for (int k = 0; k < Dim; ++k) total *= 4;
  double sum = 0.0;
  for (int p = 0; p < total; ++p) {
    std::array<double, Dim> c{}, h{};
    bool central = true;
    int rest = p;
    for (int k = 0; k < Dim; ++k) {
      const int i = rest % 4;
      rest /= 4;
      central = central && (i == 1 || i == 2);
      h[k] = 0.25 * half[k];
      c[k] = centre[k] + (2.0 * i - 3.0) * h[k];
    }
    if (!(skip_centre && central)) sum += box_integral<Dim>(w, c, h, g);
  }
  return sum;
}

/// The cell average of w over cell m (all m_k ≥ 0).
template <int Dim, class W>
double cell_average_of(const W& w, const std::array<int, Dim>& m, const std::array<double, Dim>& h,
                       const GaussRule& fine, const GaussRule& mid, const GaussRule& coarse) {
  std::array<double, Dim> centre{}, half{};
  int far = 0;
  double volume = 1.0;
  for (int k = 0; k < Dim; ++k) {
    centre[k] = m[k] * h[k];
    half[k] = 0.5 * h[k];
    volume *= h[k];
    far = std::max(far, m[k]);
  }
  // Gauss error ∝ w^{(2g)} h^{2g}: for w ~ log r or r^a that is ~ m^{−2g} relative, below 1e-11 with
  // these rules and distances (in cells) from the singularity.
  if (far > 16) return box_integral<Dim>(w, centre, half, coarse) / volume;
  if (far > 4) return box_integral<Dim>(w, centre, half, mid) / volume;
  if (far > 0) return split_integral<Dim>(w, centre, half, fine, false) / volume;
  // The cell around the origin: the shells B_l \ B_{l+1}, B_l = [−h/2^{l+1}, h/2^{l+1}]^d, l < 40; the
  // innermost box (side h·2^−40) is left out: for any integrable kernel here its share is below 1e-20.
  double sum = 0.0;
  for (int level = 0; level < 40; ++level) {
    sum += split_integral<Dim>(w, centre, half, fine, true);
    for (int k = 0; k < Dim; ++k) half[k] *= 0.5;
  }
  return sum / volume;
}

}  // namespace

std::string to_string(InteractionSpec::Kind kind) {
  switch (kind) {
    case InteractionSpec::Kind::none: return "none";
    case InteractionSpec::Kind::newtonian: return "newtonian";
    case InteractionSpec::Kind::gaussian: return "gaussian";
    case InteractionSpec::Kind::morse: return "morse";
    case InteractionSpec::Kind::power: return "power";
    case InteractionSpec::Kind::attractive_repulsive: return "attractive-repulsive";
    case InteractionSpec::Kind::expression: return "expr";
  }
  return "?";
}

InteractionSpec parse_kernel(const std::string& text, int dim) {
  InteractionSpec s;
  const std::size_t colon = text.find(':');
  const std::string name = text.substr(0, colon);
  const std::string params = colon == std::string::npos ? "" : text.substr(colon + 1);
  if (name == "none") s.kind = InteractionSpec::Kind::none;
  else if (name == "newtonian") s.kind = InteractionSpec::Kind::newtonian;
  else if (name == "gaussian") s.kind = InteractionSpec::Kind::gaussian;
  else if (name == "morse") s.kind = InteractionSpec::Kind::morse;
  else if (name == "power") s.kind = InteractionSpec::Kind::power;
  else if (name == "attractive-repulsive") s.kind = InteractionSpec::Kind::attractive_repulsive;
  else if (name == "expr") bad("expr: is resolved by the caller (internal error)");
  else bad("unknown kernel '" + name + "' (allowed: " + allowed_kernels + ")");
  if (colon != std::string::npos && params.empty()) bad("'" + text + "' has ':' but no key=value parameters");
  std::stringstream list(params);
  std::string item;
  std::vector<std::string> seen;
  while (!params.empty() && std::getline(list, item, ',')) {
    const std::size_t eq = item.find('=');
    if (eq == std::string::npos) bad("parameter '" + item + "' of " + name + " must be key=value");
    const std::string key = item.substr(0, eq);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      bad("kernel " + name + " sets '" + key + "' twice (in '" + text + "'); give each parameter once");
    seen.push_back(key);
    const double v = parse_value(key, item.substr(eq + 1));
    if (s.kind == InteractionSpec::Kind::gaussian && key == "sigma") s.sigma = v;
    else if (s.kind == InteractionSpec::Kind::morse && key == "ca") s.ca = v;
    else if (s.kind == InteractionSpec::Kind::morse && key == "la") s.la = v;
    else if (s.kind == InteractionSpec::Kind::morse && key == "cr") s.cr = v;
    else if (s.kind == InteractionSpec::Kind::morse && key == "lr") s.lr = v;
    else if (s.kind == InteractionSpec::Kind::power && key == "a") s.a = v;
    else
      bad("kernel " + name + " has no parameter '" + key + "' (allowed: " + allowed_kernels + ")");
  }
  if (!(s.sigma > 0.0)) bad("gaussian sigma must be > 0 (got " + format_exact(s.sigma) + ")");
  if (!(s.la > 0.0) || !(s.lr > 0.0)) bad("morse lengths la, lr must be > 0");
  if (!(s.ca >= 0.0) || !(s.cr >= 0.0)) bad("morse strengths ca, cr must be >= 0");
  if (!(s.a > -dim) || s.a == 0.0)
    bad("power exponent a must be > -dim (" + std::to_string(-dim) + ", for an integrable kernel) and != 0 (got " +
        format_exact(s.a) + ")");
  return s;
}

double kernel_value(const InteractionSpec& s, double r, int dim) {
  switch (s.kind) {
    case InteractionSpec::Kind::none: return 0.0;
    case InteractionSpec::Kind::newtonian:  // fundamental solution of Δ (attractive)
      if (dim == 1) return 0.5 * r;
      if (dim == 2) return std::log(r) / (2.0 * pi);
      return -1.0 / (4.0 * pi * r);
    case InteractionSpec::Kind::gaussian:
      return -std::exp(-r * r / (2.0 * s.sigma * s.sigma)) / std::pow(2.0 * pi * s.sigma * s.sigma, 0.5 * dim);
    case InteractionSpec::Kind::morse: return -s.ca * std::exp(-r / s.la) + s.cr * std::exp(-r / s.lr);
    case InteractionSpec::Kind::power: return std::pow(r, s.a) / s.a;
    case InteractionSpec::Kind::attractive_repulsive: return 0.5 * r * r - std::log(r);
    case InteractionSpec::Kind::expression: return s.function(r);
  }
  return 0.0;
}

template <int Dim>
std::vector<double> cell_averaged_kernel(const InteractionSpec& spec, const UniformGrid<Dim>& grid, int first, int last) {
  std::array<double, Dim> h{};
  std::array<int, Dim> n{};
  std::size_t total = 1;
  for (int k = 0; k < Dim; ++k) {
    h[k] = grid.dx(k);
    n[k] = k == Dim - 1 ? last - first : grid.global_shape(k);
    total *= static_cast<std::size_t>(n[k]);
  }
  const GaussRule fine = gauss_legendre(8), mid = gauss_legendre(4), coarse = gauss_legendre(3);
  std::vector<double> table(total);
  const auto w = [&](double r) { return kernel_value(spec, r, Dim); };
  const bool serial = spec.kind == InteractionSpec::Kind::expression;  // a parsed formula is not thread-safe
#pragma omp parallel for schedule(static) if (!serial && total >= 4096)
  for (std::ptrdiff_t t = 0; t < static_cast<std::ptrdiff_t>(total); ++t) {
    std::array<int, Dim> m{};
    std::ptrdiff_t rest = t;
    for (int k = 0; k < Dim; ++k) {
      m[k] = static_cast<int>(rest % n[k]);
      rest /= n[k];
    }
    m[Dim - 1] += first;
    table[static_cast<std::size_t>(t)] = spec.chi * cell_average_of<Dim>(w, m, h, fine, mid, coarse);
  }
  return table;
}

template <int Dim>
std::vector<double> cell_averaged_kernel(const InteractionSpec& spec, const UniformGrid<Dim>& grid) {
  return cell_averaged_kernel<Dim>(spec, grid, 0, grid.global_shape(Dim - 1));
}

template std::vector<double> cell_averaged_kernel<1>(const InteractionSpec&, const UniformGrid<1>&);
template std::vector<double> cell_averaged_kernel<2>(const InteractionSpec&, const UniformGrid<2>&);
template std::vector<double> cell_averaged_kernel<3>(const InteractionSpec&, const UniformGrid<3>&);
template std::vector<double> cell_averaged_kernel<1>(const InteractionSpec&, const UniformGrid<1>&, int, int);
template std::vector<double> cell_averaged_kernel<2>(const InteractionSpec&, const UniformGrid<2>&, int, int);
template std::vector<double> cell_averaged_kernel<3>(const InteractionSpec&, const UniformGrid<3>&, int, int);

}  // namespace wgflow
